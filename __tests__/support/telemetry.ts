// Readers of synthesized telemetry shared by the traces and TLS edge tests: a task's containers,
// its collector's configuration, the edge's rendered Envoy config, and a task-role grant taken away.
import { COLLECTOR_CONTAINER } from "../../lib/plan/observability";
import { TLS_EDGE_CONTAINERS } from "../../lib/plan/tls-edge";
import type { TemplateText } from "../../lib/plan/text";
import type { MeshPlan } from "../../lib/plan/types";
import { renderText } from "../../lib/render/text";

type Doc = Record<string, any>;

/** The container definitions of a stack's one task definition, with Terraform's `$${` escape undone. */
export function containersOf(doc: Doc): Doc[] {
  const [task] = Object.values<Doc>(doc.resource.aws_ecs_task_definition);
  return JSON.parse(String(task!.container_definitions).replace(/\$\$\{/g, "${")) as Doc[];
}

/** The collector's configuration (AOT_CONFIG_CONTENT) in a stack's one task. */
export function collectorConfigOf(doc: Doc): Doc {
  const collector = containersOf(doc).find((c) => c.name === COLLECTOR_CONTAINER)!;
  return JSON.parse(collector.environment.find((e: Doc) => e.name === "AOT_CONFIG_CONTENT").value);
}

/** The Envoy config text the edge's start script writes (its envoyConfig), rendered as the task runs it. */
export function edgeEnvoyConfigText(plan: MeshPlan): string {
  const envoy = plan.tlsEdge!.task.containers.find((c) => c.name === TLS_EDGE_CONTAINERS.envoy)!;
  return renderText((envoy.entryPoint![2] as TemplateText).context.envoyConfig as TemplateText, {});
}

/** Takes `action` out of every role policy of a synthesized stack, in place; how many statements granted it. */
export function withoutAction(stack: Doc, action: string): number {
  let removed = 0;
  for (const policy of Object.values<Doc>(stack.resource.aws_iam_role_policy)) {
    const document = JSON.parse(policy.policy);
    for (const statement of document.Statement) {
      const actions = [statement.Action].flat() as string[];
      if (!actions.includes(action)) continue;
      statement.Action = actions.filter((a) => a !== action);
      removed++;
    }
    policy.policy = JSON.stringify(document);
  }
  return removed;
}
