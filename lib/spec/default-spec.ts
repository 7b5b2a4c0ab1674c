import type { MeshSpecInput } from "./schema";

/**
 * The original demo as a spec: http-server (http-echo answering "hello world" on port 80,
 * 3 tasks, HTTP check every 10s with a 1s timeout) and http-client (a curl container, 1 task,
 * reaching http-server through its sidecar on 127.0.0.1:8085). The original's addresses stay
 * (VPC 10.0.0.0/16, 10.0.101.0/24, server .100, hosts .150/.155), but that subnet is private
 * now: nothing has a public IP, and a small public subnet holds the NAT gateway.
 */
export const DEFAULT_SPEC: MeshSpecInput = {
  name: "consul-ecs",
  region: "us-east-1",
  network: {
    vpcCidr: "10.0.0.0/16",
    zones: [{ privateSubnet: "10.0.101.0/24", publicSubnet: "10.0.1.0/28" }],
    egress: "nat-gateway",
  },
  consul: { datacenter: "aws", serverInstanceType: "t3.micro", servers: 1, serverPrivateIps: ["10.0.101.100"] },
  ecsHosts: { instanceType: "t3.small", privateIps: ["10.0.101.150", "10.0.101.155"] },
  services: {
    "http-server": {
      image: "hashicorp/http-echo:1.0.0",
      port: 80,
      // Bound to loopback: only the sidecar (same task network namespace) reaches the app.
      command: ["-listen=127.0.0.1:80", "-text=hello world"],
      count: 3,
      // nobody: http-echo needs no privileges (port 80 inside the task's own network namespace).
      user: "65534",
      healthCheck: { type: "http", path: "/", intervalSeconds: 10, timeoutSeconds: 1 },
    },
    "http-client": {
      image: "curlimages/curl:8.11.1",
      port: 8080,
      command: ["sleep", "infinity"],
      count: 1,
      // curl_user, the image's own unprivileged user.
      user: "100",
      upstreams: [{ destination: "http-server", localBindPort: 8085 }],
      // The walkthrough runs curl in this container through ECS Exec, whose agent needs a writable root filesystem.
      enableExecuteCommand: true,
      readonlyRootFilesystem: false,
    },
  },
};
