import type { App } from "cdktf";
import type { SpecIssue } from "../lib/issues";
import type { MeshPlan } from "../lib/plan/types";
import type { StateBackend } from "./base-stack";
import { MeshStack } from "./mesh-stack";
import { IntentionsStack } from "./intentions-stack";
import { TlsEdgeStack } from "./tls-edge-stack";

export interface MeshStacks {
  readonly mesh: MeshStack;
  /** Intentions as code, applied through the Consul API once the mesh stack is up. */
  readonly intentions: IntentionsStack;
  /** System 2, when the spec has a tlsEdge section. */
  readonly tlsEdge?: TlsEdgeStack;
}

export interface StackOptions {
  /** @default local state files in the project root */
  readonly backend?: StateBackend;
}

/** Every stack a spec asks for, composed in one app (stack names are the ones `cdktf deploy` takes). */
export function createStacks(app: App, plan: MeshPlan, options: StackOptions = {}): MeshStacks {
  const mesh = new MeshStack(app, "mesh", plan, options.backend);
  const intentions = new IntentionsStack(app, "intentions", plan, options.backend);
  // Deployed after the mesh, whose parameters and secrets it reads by name (no cross-stack reference).
  intentions.addDependency(mesh);
  const edge = plan.tlsEdge;
  if (!edge) return { mesh, intentions };
  const tlsEdge = new TlsEdgeStack(app, "tls-edge", edge, options.backend);
  // In the mesh's network, it reads the mesh's parameters by name (no cross-stack reference): deployed after the mesh.
  if (edge.meshNetwork) tlsEdge.addDependency(mesh);
  return { mesh, intentions, tlsEdge };
}

/**
 * The state backend from the environment (or the cdktf.json context key "stateBackend"):
 * MESH_STATE_BUCKET selects S3, with MESH_STATE_REGION (default: the spec's region),
 * MESH_STATE_KEY_PREFIX (default: the spec's name) and MESH_STATE_KMS_KEY_ID.
 */
export function stateBackendFrom(env: NodeJS.ProcessEnv, context: unknown, plan: MeshPlan): StateBackend {
  const fromContext = (typeof context === "object" && context !== null ? context : {}) as Record<string, string | undefined>;
  const bucket = env.MESH_STATE_BUCKET ?? fromContext.bucket;
  if (!bucket) return { type: "local" };
  return {
    type: "s3",
    bucket,
    region: env.MESH_STATE_REGION ?? fromContext.region ?? plan.region,
    keyPrefix: env.MESH_STATE_KEY_PREFIX ?? fromContext.keyPrefix ?? plan.name,
    kmsKeyId: env.MESH_STATE_KMS_KEY_ID ?? fromContext.kmsKeyId,
  };
}

/**
 * What synthesis warns about a backend: local state on this machine, holding the mesh's CA and
 * server private keys (issue 23 moves them out), with the settings that select the encrypted S3
 * backend. Printed with the spec's warnings, once per synth (main.ts).
 */
export function stateBackendWarnings(backend: StateBackend): SpecIssue[] {
  if (backend.type !== "local") return [];
  return [
    {
      path: "(state backend)",
      message:
        "Terraform state is local (terraform.<stack>.tfstate in the project root) and holds private keys (the mesh's Consul CA and server keys): " +
        "set MESH_STATE_BUCKET (with MESH_STATE_REGION, MESH_STATE_KEY_PREFIX, MESH_STATE_KMS_KEY_ID), or the cdktf.json context key stateBackend, " +
        "for the S3 backend with encryption and lock files (README: Terraform state)",
    },
  ];
}
