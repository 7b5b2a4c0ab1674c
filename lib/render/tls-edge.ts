// Typed entry points for the tls-edge artifacts (System 2): the Envoy config, the script that
// starts Envoy with it, and the task's container definitions.
import { render } from "./templates";
import { TLS_EDGE_ADMIN_PORT, TLS_EDGE_LISTENER_PORT } from "../spec/tls-edge-schema";

/** Container names of the tls-edge task. */
export const TLS_EDGE_CONTAINERS = { app: "app", envoy: "envoy" } as const;

/** The Envoy upstream cluster of the app (the original's name). */
export const LOCAL_SERVICE_CLUSTER = "local_service";

/** Where the Envoy container writes its config, certificate and key: a task volume, not the image. */
export const ENVOY_CONFIG_DIR = "/etc/envoy-tls";

export interface EnvoyTlsConfigContext {
  /** Port of the app on 127.0.0.1. */
  readonly appPort: number;
  /** Folder of cert.pem and key.pem. @default ENVOY_CONFIG_DIR */
  readonly configDir?: string;
}

/** The Envoy v3 static config: TLS on 0.0.0.0:443, every path to local_service on 127.0.0.1:<appPort>, admin on 127.0.0.1. */
export function renderEnvoyTlsConfig(ctx: EnvoyTlsConfigContext): string {
  const dir = ctx.configDir ?? ENVOY_CONFIG_DIR;
  return render("envoy/tls-edge.yaml.hbs", {
    admin: { address: "127.0.0.1", port: TLS_EDGE_ADMIN_PORT },
    listener: { name: "tls_ingress", address: "0.0.0.0", port: TLS_EDGE_LISTENER_PORT },
    tls: { minimumVersion: "TLSv1_2", certificateFile: `${dir}/cert.pem`, privateKeyFile: `${dir}/key.pem` },
    cluster: { name: LOCAL_SERVICE_CLUSTER, address: "127.0.0.1", port: ctx.appPort },
  });
}

export interface EnvoyStartScriptContext {
  readonly envoyConfig: string;
  /** @default ENVOY_CONFIG_DIR */
  readonly configDir?: string;
  /** Owner of the written files: the user the image's entrypoint runs Envoy as. @default "envoy:envoy" */
  readonly envoyUser?: string;
  /** The official image's entrypoint, which drops root before starting Envoy. @default "/docker-entrypoint.sh" */
  readonly entrypoint?: string;
}

/**
 * The Envoy container's start script (entryPoint ["/bin/sh", "-ec", script]). The certificate and
 * key arrive as ECS secrets in TLS_CERT_PEM / TLS_KEY_PEM; the script writes them (mode 0600,
 * owned by the envoy user), unsets both variables and execs the image's entrypoint, so the Envoy
 * process never holds the key in its environment.
 */
export function renderEnvoyStartScript(ctx: EnvoyStartScriptContext): string {
  return render("ecs/tls-edge-envoy-start.sh.hbs", {
    envoyConfig: ctx.envoyConfig,
    configDir: ctx.configDir ?? ENVOY_CONFIG_DIR,
    envoyUser: ctx.envoyUser ?? "envoy:envoy",
    entrypoint: ctx.entrypoint ?? "/docker-entrypoint.sh",
  });
}

export interface TlsEdgeContainersContext {
  readonly appImage: string;
  readonly appPort: number;
  readonly envoyImage: string;
  /** ECS `valueFrom` of the certificate (PEM) and private key (PEM) secrets. */
  readonly certificateSecretArn: string;
  readonly privateKeySecretArn: string;
  /**
   * A digest of the certificate, set in Envoy's environment so that a renewed certificate
   * changes the task definition and rolls the service (secrets are read only at task start).
   */
  readonly certificateDigest: string;
  readonly logGroup: string;
  readonly region: string;
  readonly streamPrefix: string;
  readonly configVolume: string;
  readonly appTmpVolume: string;
}

/** Soft memory limits (MiB) of the two containers; both fit the smallest Fargate task (512). */
export const TLS_EDGE_MEMORY = { app: 128, envoy: 64 } as const;

/** The task's container definitions, parsed: the app (healthy first), then Envoy in front of it. */
export function renderTlsEdgeContainers(ctx: TlsEdgeContainersContext): object[] {
  const envoyConfig = renderEnvoyTlsConfig({ appPort: ctx.appPort });
  const text = render("ecs/tls-edge-containers.json.hbs", {
    containers: TLS_EDGE_CONTAINERS,
    app: {
      image: ctx.appImage,
      environment: [{ name: "PORT", value: String(ctx.appPort) }],
      tmpVolume: ctx.appTmpVolume,
      healthCheck: render("ecs/tls-edge-app-health.py.hbs", { url: `http://127.0.0.1:${ctx.appPort}/health` }).trim(),
      memoryReservation: TLS_EDGE_MEMORY.app,
    },
    envoy: {
      image: ctx.envoyImage,
      startScript: renderEnvoyStartScript({ envoyConfig }),
      // Sorted by name, as the AWS provider sorts them (no perpetual diff).
      secrets: [
        { name: "TLS_CERT_PEM", valueFrom: ctx.certificateSecretArn },
        { name: "TLS_KEY_PEM", valueFrom: ctx.privateKeySecretArn },
      ],
      environment: [{ name: "TLS_CERT_SHA256", value: ctx.certificateDigest }],
      listenerPort: TLS_EDGE_LISTENER_PORT,
      configVolume: ctx.configVolume,
      configDir: ENVOY_CONFIG_DIR,
      // Envoy runs as the unprivileged envoy user and still binds 443 (a network-namespace sysctl; Fargate platform >= 1.4.0).
      unprivilegedPortStart: String(TLS_EDGE_LISTENER_PORT),
      readyCheck: render("ecs/envoy-ready.sh.hbs", { adminPort: TLS_EDGE_ADMIN_PORT }),
      memoryReservation: TLS_EDGE_MEMORY.envoy,
    },
    logging: { group: ctx.logGroup, region: ctx.region, streamPrefix: ctx.streamPrefix },
  });
  try {
    return JSON.parse(text) as object[];
  } catch (error) {
    throw new Error(`tls-edge container definitions are not valid JSON: ${(error as Error).message}`);
  }
}
