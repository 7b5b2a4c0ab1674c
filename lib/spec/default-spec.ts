import type { MeshSpecInput } from "./schema";

/**
 * The original demo as a spec: http-server (http-echo answering "hello world" on port 80,
 * 3 tasks, HTTP check every 10s with a 1s timeout) and http-client (a curl container, 1 task,
 * reaching http-server through its sidecar on 127.0.0.1:8085).
 */
export const DEFAULT_SPEC: MeshSpecInput = {
  name: "consul-ecs",
  region: "us-east-1",
  network: { vpcCidr: "10.0.0.0/16", publicSubnetCidr: "10.0.101.0/24" },
  consul: { datacenter: "aws", serverInstanceType: "t3.micro", serverPrivateIp: "10.0.101.100" },
  ecsHosts: { instanceType: "t3.small", privateIps: ["10.0.101.150", "10.0.101.155"] },
  services: {
    "http-server": {
      image: "hashicorp/http-echo:1.0.0",
      port: 80,
      // Bound to loopback: only the sidecar (same task network namespace) reaches the app.
      command: ["-listen=127.0.0.1:80", "-text=hello world"],
      count: 3,
      healthCheck: { type: "http", path: "/", intervalSeconds: 10, timeoutSeconds: 1 },
    },
    "http-client": {
      image: "curlimages/curl:8.11.1",
      port: 8080,
      command: ["sleep", "infinity"],
      count: 1,
      upstreams: [{ destination: "http-server", localBindPort: 8085 }],
      // The walkthrough runs curl in this container through ECS Exec, whose agent needs a writable root filesystem.
      enableExecuteCommand: true,
      readonlyRootFilesystem: false,
    },
  },
};
