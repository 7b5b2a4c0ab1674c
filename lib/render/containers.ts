// A task's typed containers (the plan) -> ECS container definitions, through one template
// (templates/ecs/container-definitions.json.hbs) that prints the fields in a fixed order.
import { READONLY_ROOT_EXCEPTION_LABEL } from "../facts";
import type { ContainerPlan, TaskPlan } from "../plan/types";
import { render } from "./templates";
import { resolve, type Bindings } from "./text";

/** Every field the template may print, null when the container does not set it (strict mode needs them all). */
function containerContext(container: ContainerPlan, bindings: Bindings) {
  const c = resolve(container, bindings);
  return {
    name: c.name,
    image: c.image,
    essential: c.essential,
    repositoryCredentials: c.repositoryCredentials ?? null,
    entryPoint: c.entryPoint ?? null,
    command: c.command ?? null,
    user: c.user ?? null,
    memory: c.memory ?? null,
    environment: c.environment ?? null,
    secrets: c.secrets ?? null,
    portMappings: c.portMappings ?? null,
    mountPoints: c.mountPoints ?? null,
    systemControls: c.systemControls ?? null,
    dependsOn: c.dependsOn ?? null,
    healthCheck: c.healthCheck ?? null,
    startTimeout: c.startTimeout ?? null,
    stopTimeout: c.stopTimeout ?? null,
    ulimits: c.ulimits ?? null,
    linuxParameters:
      c.initProcessEnabled || c.dropCapabilities?.length
        ? {
            ...(c.dropCapabilities?.length ? { capabilities: { drop: c.dropCapabilities } } : {}),
            ...(c.initProcessEnabled ? { initProcessEnabled: true } : {}),
          }
        : null,
    memoryReservation: c.memoryReservation ?? null,
    readonlyRootFilesystem: c.writableRootReason === undefined,
    // Scanners flag writable root filesystems (CKV_AWS_336): the label says why this one is.
    dockerLabels: c.writableRootReason === undefined ? null : { [READONLY_ROOT_EXCEPTION_LABEL]: c.writableRootReason },
  };
}

/** The task's container definitions, parsed: rendering twice with one plan gives identical JSON. */
export function renderContainerDefinitions(task: TaskPlan, bindings: Bindings): object[] {
  const text = render("ecs/container-definitions.json.hbs", {
    containers: task.containers.map((container) => containerContext(container, bindings)),
    logging: resolve(task.logging, bindings),
  });
  try {
    return JSON.parse(text) as object[];
  } catch (error) {
    throw new Error(`container definitions of ${task.logging.streamPrefix} are not valid JSON: ${(error as Error).message}`);
  }
}
