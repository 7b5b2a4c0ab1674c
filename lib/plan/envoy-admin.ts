// Envoy's admin API, in every Envoy the project configures itself (the agent sidecar and the TLS
// edge): on a Unix socket in a volume only Envoy mounts, mode 0600, so the app beside it, which
// shares the task's network namespace, cannot read the configuration (the agent sidecar's holds
// its Consul token) or stop the proxy. A ready listener on loopback answers GET /ready only.
import type { EnvoyAdminContext } from "./texts";

/** Owner read and write only: Envoy's own user. */
const ADMIN_SOCKET_MODE = 0o600;

export function envoyAdminOnSocket(socket: string, readyPort: number): EnvoyAdminContext {
  return {
    admin: { socket, mode: ADMIN_SOCKET_MODE },
    ready: { listener: "envoy_ready", port: readyPort, adminCluster: "envoy_admin" },
  };
}
