// Rules that need the whole spec (references, ports, addresses, capacity): checked after the
// schema has accepted the structure, so every rule sees defaults filled in.
import { architectureOf, awsvpcTasksPerHost, FARGATE_MEMORY, USER_DATA_MAX_BYTES } from "../aws-limits";
import { RESERVED_TASK_PORTS, buildMeshModel } from "../model";
import { renderConsulServerUserData, renderServerConfig, SIDECAR_MEMORY } from "../render/artifacts";
import { CONSUL } from "../versions";
import { closest, type SpecIssue } from "./issues";
import type { MeshSpec } from "./schema";

export interface SpecValidation {
  readonly errors: SpecIssue[];
  readonly warnings: SpecIssue[];
}

export function validateSpec(spec: MeshSpec): SpecValidation {
  const result: SpecValidation = { errors: [], warnings: [] };
  checkReferences(spec, result);
  checkPorts(spec, result);
  checkNetwork(spec, result);
  checkCapacity(spec, result);
  checkImages(spec, result);
  checkUserData(spec, result);
  return result;
}

function unknownService(spec: MeshSpec, name: string): string {
  const hint = closest(name, Object.keys(spec.services));
  const known = Object.keys(spec.services).sort().join(", ");
  return `unknown service "${name}"; ${hint ? `did you mean "${hint}"? ` : ""}defined services: ${known}`;
}

function checkReferences(spec: MeshSpec, { errors }: SpecValidation): void {
  for (const [name, service] of Object.entries(spec.services)) {
    service.upstreams.forEach((upstream, i) => {
      const path = `services.${name}.upstreams[${i}].destination`;
      if (upstream.destination === name) {
        errors.push({ path, message: `a service cannot be its own upstream; remove it or point it at another service` });
      } else if (!(upstream.destination in spec.services)) {
        errors.push({ path, message: unknownService(spec, upstream.destination) });
      } else if (spec.services[upstream.destination]!.port === undefined) {
        errors.push({ path, message: `"${upstream.destination}" has no port, so nothing can call it; give it a port or remove this upstream` });
      }
    });
    for (const secret of Object.keys(service.secrets)) {
      if (secret in service.environment) {
        errors.push({ path: `services.${name}.secrets.${secret}`, message: `also set in environment; keep the variable in secrets only` });
      }
    }
    if (service.healthCheck.type !== "none" && service.port === undefined) {
      errors.push({ path: `services.${name}.healthCheck`, message: `a ${service.healthCheck.type} check needs the service's port; set port or use type "none"` });
    }
    if (service.enableExecuteCommand && service.readonlyRootFilesystem) {
      errors.push({ path: `services.${name}.enableExecuteCommand`, message: "ECS Exec needs a writable root filesystem for its agent; set readonlyRootFilesystem: false too, or turn ECS Exec off" });
    }
    if (service.assignPublicIp && service.launchType !== "FARGATE") {
      errors.push({ path: `services.${name}.assignPublicIp`, message: `only Fargate tasks can get a public IP; remove it or set launchType: FARGATE` });
    }
  }
  if (spec.tlsEdge && spec.tlsEdge.serviceName === spec.name) {
    errors.push({
      path: "tlsEdge.serviceName",
      message: `"${spec.name}" is also the mesh's cluster name: the two stacks would share one ECS cluster and KMS alias; choose another name`,
    });
  }
  spec.intentions.forEach((intention, i) => {
    for (const end of ["source", "destination"] as const) {
      const name = intention[end];
      if (name !== "*" && !(name in spec.services)) errors.push({ path: `intentions[${i}].${end}`, message: unknownService(spec, name) });
    }
    if (intention.source === intention.destination) {
      errors.push({ path: `intentions[${i}]`, message: `source and destination are the same service; a service always reaches itself` });
    }
  });
  const seen = new Map<string, number>();
  spec.intentions.forEach((intention, i) => {
    const key = `${intention.source} -> ${intention.destination}`;
    const first = seen.get(key);
    if (first !== undefined) errors.push({ path: `intentions[${i}]`, message: `duplicates intentions[${first}] (${key}); keep one` });
    else seen.set(key, i);
  });
}

function checkPorts(spec: MeshSpec, { errors }: SpecValidation): void {
  for (const [name, service] of Object.entries(spec.services)) {
    const taken = new Map<number, string>(RESERVED_TASK_PORTS);
    if (service.port !== undefined) {
      const owner = taken.get(service.port);
      if (owner) errors.push({ path: `services.${name}.port`, message: `${service.port} is ${owner} in every task; choose another port` });
      else taken.set(service.port, "the app's own port");
    }
    service.upstreams.forEach((upstream, i) => {
      const owner = taken.get(upstream.localBindPort);
      if (owner) {
        errors.push({
          path: `services.${name}.upstreams[${i}].localBindPort`,
          message: `${upstream.localBindPort} is already ${owner} in this task; choose a free port`,
        });
      } else {
        taken.set(upstream.localBindPort, `the local port of upstream ${upstream.destination}`);
      }
    });
  }
}

function checkNetwork(spec: MeshSpec, { errors }: SpecValidation): void {
  const vpc = parseCidr(spec.network.vpcCidr);
  const subnet = parseCidr(spec.network.publicSubnetCidr);
  const prefixRule = (path: string, c: Cidr) => {
    if (c.prefix < 16 || c.prefix > 28) errors.push({ path, message: `/${c.prefix} is outside the /16 to /28 AWS allows for VPCs and subnets` });
    if (c.base !== c.address) errors.push({ path, message: `host bits are set; did you mean ${formatIp(c.base)}/${c.prefix}?` });
  };
  prefixRule("network.vpcCidr", vpc);
  prefixRule("network.publicSubnetCidr", subnet);
  if (!contains(vpc, subnet.base) || !contains(vpc, subnet.last)) {
    errors.push({ path: "network.publicSubnetCidr", message: `${spec.network.publicSubnetCidr} is not inside the VPC ${spec.network.vpcCidr}` });
  }
  const addresses: [string, string][] = [
    ["consul.serverPrivateIp", spec.consul.serverPrivateIp],
    ...spec.ecsHosts.privateIps.map((ip, i): [string, string] => [`ecsHosts.privateIps[${i}]`, ip]),
  ];
  const used = new Map<string, string>();
  for (const [path, ip] of addresses) {
    const value = parseIp(ip);
    if (!contains(subnet, value)) {
      errors.push({ path, message: `${ip} is outside the subnet ${spec.network.publicSubnetCidr}` });
    } else if (value - subnet.base < 4 || value === subnet.last) {
      errors.push({ path, message: `${ip} is reserved by AWS (the first four and the last address of ${spec.network.publicSubnetCidr})` });
    }
    const other = used.get(ip);
    if (other) errors.push({ path, message: `${ip} is already used by ${other}` });
    else used.set(ip, path);
  }
}

function checkCapacity(spec: MeshSpec, { errors, warnings }: SpecValidation): void {
  const model = buildMeshModel(spec);
  const hosts = spec.ecsHosts.privateIps.length;
  const perHost = awsvpcTasksPerHost(spec.ecsHosts.instanceType);
  if (model.ec2TaskCount > 0) {
    if (perHost === undefined) {
      warnings.push({
        path: "ecsHosts.instanceType",
        message: `ENI limit of ${spec.ecsHosts.instanceType} is unknown to this tool, so the ${model.ec2TaskCount} awsvpc tasks on ${hosts} hosts were not checked against it`,
      });
    } else if (model.ec2TaskCount > perHost * hosts) {
      errors.push({
        path: "ecsHosts.instanceType",
        message: `${hosts} × ${spec.ecsHosts.instanceType} run at most ${perHost * hosts} awsvpc tasks (${perHost} per host: ENIs - 1), but EC2 services want ${model.ec2TaskCount}; tasks would stay PENDING with RESOURCE:ENI. Use a larger type, more hosts or fewer tasks`,
      });
    }
  }
  for (const service of model.services) {
    const path = `services.${service.name}`;
    if (service.launchType === "FARGATE") {
      const allowed = FARGATE_MEMORY[service.cpu];
      if (!allowed) {
        errors.push({ path: `${path}.cpu`, message: `${service.cpu} is not a Fargate CPU size; use one of ${Object.keys(FARGATE_MEMORY).join(", ")}` });
      } else if (!allowed.includes(service.memory)) {
        errors.push({ path: `${path}.memory`, message: `${service.memory} MiB is not valid with ${service.cpu} CPU units on Fargate; use one of ${allowed.join(", ")}` });
      }
      if (!service.assignPublicIp) {
        warnings.push({
          path: `${path}.assignPublicIp`,
          message: "a Fargate task without a public IP in this subnet (no NAT gateway) cannot pull images from public registries; set assignPublicIp: true or mirror the images into ECR behind VPC endpoints",
        });
      }
    }
    const sidecars = SIDECAR_MEMORY.consulAgent + SIDECAR_MEMORY.envoyBootstrap + SIDECAR_MEMORY.envoySidecar;
    const needed = sidecars + (service.appMemory ?? 0);
    if (needed > service.memory) {
      errors.push({
        path: service.appMemory === undefined ? `${path}.memory` : `${path}.appMemory`,
        message: `containers need ${needed} MiB (sidecars ${sidecars} + app ${service.appMemory ?? 0}) but the task has ${service.memory} MiB; raise memory or lower appMemory`,
      });
    }
  }
}

/** An image must be pinned: a tag other than "latest", or a digest. */
function checkImages(spec: MeshSpec, { errors }: SpecValidation): void {
  for (const [name, service] of Object.entries(spec.services)) {
    const problem = imagePinProblem(service.image);
    if (problem) errors.push({ path: `services.${name}.image`, message: problem });
  }
}

export function imagePinProblem(image: string): string | undefined {
  if (/\s/.test(image)) return `"${image}" contains whitespace`;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return `"${image}" has no tag; pin a version (name:1.2.3) or a digest (name@sha256:...)`;
  const tag = lastSegment.slice(colon + 1);
  if (tag === "latest") return `"${image}" uses :latest, which changes under you; pin a version or a digest`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `"${image}" has an invalid tag "${tag}"`;
  return undefined;
}

function checkUserData(spec: MeshSpec, { errors }: SpecValidation): void {
  const arch = architectureOf(spec.consul.serverInstanceType) === "arm64" ? "arm64" : "amd64";
  // Terraform fills in the ARNs at apply time: measure with the longest ones AWS can produce.
  const arn = `arn:aws-us-gov:secretsmanager:us-gov-west-1:000000000000:secret:${"x".repeat(spec.name.length + 60)}`;
  const userData = renderConsulServerUserData({
    version: CONSUL.version,
    arch,
    sha256: CONSUL.sha256[arch],
    region: "us-gov-west-1",
    serverConfig: renderServerConfig({ datacenter: spec.consul.datacenter }),
    secrets: { gossipKey: arn, caCert: arn, serverCert: arn, serverKey: arn, managementToken: arn, agentToken: arn },
    serviceTokenManifest: `/${spec.name}/consul/service-tokens`,
  });
  const bytes = Buffer.byteLength(userData, "utf8");
  if (bytes > USER_DATA_MAX_BYTES) {
    errors.push({ path: "consul", message: `the Consul server user data is ${bytes} bytes, over the EC2 limit of ${USER_DATA_MAX_BYTES}` });
  }
}

interface Cidr {
  readonly address: number;
  readonly base: number;
  readonly last: number;
  readonly prefix: number;
}

function parseIp(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function parseCidr(cidr: string): Cidr {
  const [ip, bits] = cidr.split("/");
  const prefix = Number(bits);
  const address = parseIp(ip!);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(address / size) * size;
  return { address, base, last: base + size - 1, prefix };
}

function contains(cidr: Cidr, value: number): boolean {
  return value >= cidr.base && value <= cidr.last;
}
