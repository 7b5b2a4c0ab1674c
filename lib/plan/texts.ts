// One typed constructor per template: the context type is what the template may print.
// Handlebars runs in strict mode, so a value missing at render time is an error, and every
// value goes through a quoting helper (lib/render/templates.ts).
import { templateText, type Slot, type TemplateText, type TextValue } from "./text";

type Context = { readonly [key: string]: TextValue };

export const clientAgentConfig = templateText<
  Context & {
    readonly datacenter: string;
    readonly bindAddr: string;
    readonly retryJoin: readonly string[];
    readonly grpcPort: number;
    readonly caFile: string;
    readonly dataDir: string;
  }
>("consul/client-agent.hcl.hbs");

export type ConsulCheckContext = {
  readonly id: string;
  readonly name: string;
  readonly http: string | null;
  readonly tcp: string | null;
  readonly interval: string;
  readonly timeout: string;
};

export const serviceRegistration = templateText<
  Context & {
    readonly name: string;
    readonly port: number | null;
    readonly check: ConsulCheckContext | null;
    readonly sidecarPort: number;
    readonly upstreams: readonly { readonly destination: string; readonly localBindPort: number }[];
  }
>("consul/service.hcl.hbs");

export const serverConfig = templateText<
  Context & {
    readonly datacenter: string;
    readonly bindAddr: string;
    readonly httpsPort: number;
    readonly dataDir: string;
    readonly tls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  }
>("consul/server.hcl.hbs");

export const consulUnit = templateText<Context & { readonly binary: string; readonly configDir: string; readonly configFile: string }>(
  "consul/consul.service.hbs",
);

export const aclSyncScript = templateText<
  Context & { readonly httpsPort: number; readonly caFile: string; readonly managementTokenFile: string }
>("consul/consul-acl-sync.sh.hbs");

export const aclSyncUnit = templateText<Context & { readonly envFile: string; readonly binary: string }>("consul/consul-acl-sync.service.hbs");

export const aclSyncTimer = templateText<Context>("consul/consul-acl-sync.timer.hbs");

/** Secrets Manager ARNs the server reads at boot (ARNs, never values). */
export type ServerSecretSlots = {
  readonly gossipKey: Slot;
  readonly caCert: Slot;
  readonly serverCert: Slot;
  readonly serverKey: Slot;
  readonly managementToken: Slot;
  readonly agentToken: Slot;
};

export const consulServerUserData = templateText<
  Context & {
    readonly version: string;
    readonly arch: "amd64" | "arm64";
    readonly sha256: string;
    readonly region: Slot;
    readonly secrets: ServerSecretSlots;
    /** Name of the SSM parameter listing the service token secrets. */
    readonly serviceTokenManifest: Slot;
    readonly paths: { readonly [key: string]: string };
    readonly serverConfig: TemplateText;
    readonly systemdUnit: TemplateText;
    readonly aclSyncScript: TemplateText;
    readonly aclSyncUnit: TemplateText;
    readonly aclSyncTimer: TemplateText;
  }
>("user-data/consul-server.sh.hbs");

export const ecsHostUserData = templateText<
  Context & { readonly clusterName: Slot; readonly instanceAttributes: { readonly [key: string]: string } }
>("user-data/ecs-host.sh.hbs");

export const consulAgentScript = templateText<Context & { readonly caFile: string; readonly secretsFile: string }>("ecs/consul-agent.sh.hbs");

export const envoyBootstrapScript = templateText<Context>("ecs/envoy-bootstrap.sh.hbs");

export const envoyReadyCheck = templateText<Context & { readonly adminPort: number }>("ecs/envoy-ready.sh.hbs");

export const tlsEdgeAppHealthCheck = templateText<Context & { readonly url: string }>("ecs/tls-edge-app-health.py.hbs", { trim: true });

export const tlsEdgeEnvoyConfig = templateText<
  Context & {
    readonly admin: { readonly address: string; readonly port: number };
    readonly listener: { readonly name: string; readonly address: string; readonly port: number };
    readonly tls: { readonly minimumVersion: string; readonly certificateFile: string; readonly privateKeyFile: string };
    readonly cluster: { readonly name: string; readonly address: string; readonly port: number };
  }
>("envoy/tls-edge.yaml.hbs");

export const tlsEdgeEnvoyStartScript = templateText<
  Context & {
    readonly envoyConfig: TemplateText;
    readonly files: { readonly config: string; readonly certificate: string; readonly privateKey: string };
    readonly envoyUser: string;
    readonly entrypoint: string;
  }
>("ecs/tls-edge-envoy-start.sh.hbs");
