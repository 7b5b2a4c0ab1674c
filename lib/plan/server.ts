// The Consul servers: how many, where, how they find each other, and the boot script of each.
// Fixed addresses give EC2 instances (the original's server at 10.0.101.100); without them each
// server is an Auto Scaling group of one, found by its EC2 tag (cloud auto-join), whose new
// instance reports in service only once the cluster is healthy with it.
import { architectureOf, CPU_ARCHITECTURES } from "../aws-limits";
import { zoneOfAddress } from "./network";
import { CERTIFICATE_DAYS, CONSUL_LOGIN, CONSUL_PORTS, CONSUL_PRIVATE_IP, IAM_ROLE_ID_PATTERN, SERVER_PATHS } from "../facts";
import { CONSUL_RELEASES } from "../versions";
import { SERVICE_NAME_PATTERN, type MeshSpec } from "../spec/schema";
import { serverCalls } from "./aws-apis";
import { slot, slots } from "./text";
import { ECS_SERVICE_NAME_SEPARATOR, loginRolePath, serviceTokenPath, serviceTokenSecretPrefix } from "./names";
import {
  aclSyncScript,
  aclSyncTimer,
  cloudAutoJoin,
  consulServerUserData,
  consulUnit,
  serverConfig,
  snapshotScript,
  snapshotTimer,
  scriptUnit,
  taskReaperScript,
  taskReaperTimer,
  type ScriptPattern,
} from "./texts";
import type { DataplaneControlPlan, ServerNodePlan, ServerPlan } from "./types";

/** EC2 tag every server carries; its value is the cluster name, so meshes never join each other. */
export const SERVER_TAG_KEY = "consul-ecs-mesh:server";

/**
 * How long the control plane may take to come up on a first deploy, in seconds: from Terraform
 * creating a server (EC2 reports it running; the ECS services may start tasks from then on) to
 * this service's ACL token existing in Consul. The one estimate the boot-order rule
 * (lib/rules/boot-order.ts) and the init container's wait (CONTROL_PLANE_WAIT) read. Upper ends
 * of each step of templates/user-data/consul-server.sh.hbs and the sync timer:
 *   OS boot until cloud-init runs the user data                          30-60 s
 *   dnf install unzip jq (repository metadata)                           15-45 s
 *   Consul release download, SHA-256 check, unzip                         5-20 s
 *   data volume, secrets, config, systemd                                 5-15 s
 *   join (retry_join every 30 s) and election once bootstrap_expect join 10-40 s
 *   the ACL sync timer (every 60 s) creates the service's token          up to 60 s
 * Together up to about 240 s; 300 s (5 minutes) leaves room for the user data's backed-off
 * retries. Task start time (ENI, image pulls) is not subtracted: it only helps.
 */
export const CONTROL_PLANE_COLD_BOOT_SECONDS = 300;

/** Name of the launch lifecycle hook of each server's Auto Scaling group. */
export const SERVER_LAUNCH_HOOK = "consul-server-joined";

/**
 * The secrets a server reads at boot (Secrets Manager ARNs, never values), by the slot its user data
 * names each with. The servers write the RPC CA's two (rpcCaKey, caCert); Terraform the others.
 */
export const SERVER_SECRET_SLOTS = {
  gossipKey: "secret:gossipKey",
  caCert: "secret:caCert",
  rpcCaKey: "secret:rpcCaKey",
  managementToken: "secret:managementToken",
  agentToken: "secret:agentToken",
} as const;

/**
 * The RPC CA's generation: every server writes the CA under the ClientRequestToken of this
 * generation, so two servers booting at once store one version (Secrets Manager refuses a second
 * value under one token). Rotating the CA is a new generation (README, "Rotation").
 */
export const RPC_CA_GENERATION = 1;

/** PutSecretValue's ClientRequestToken (the version ID) of a CA generation: 32 to 64 characters. */
export function rpcCaToken(generation: number): string {
  return `consul-ecs-mesh-rpc-ca-generation-${String(generation).padStart(4, "0")}`;
}

/** How often a server tries a Secrets Manager call that failed for another reason than the answer it expects. */
const SECRET_CALL_ATTEMPTS = 8;

/** Terraform references a ConsulServers construct binds into each server's user data. */
export const SERVER_SLOTS = {
  ...SERVER_SECRET_SLOTS,
  dataVolume: "dataVolume",
  autoScalingGroup: "autoScalingGroup",
  snapshotBucket: "snapshotBucket",
  snapshotKey: "snapshotKmsKey",
  /** ARN pattern of the roles the dataplane auth method trusts (the task role path under the account). */
  loginRoles: "loginRoles",
  /** The ECS cluster's ARN: the synthetic node dataplane services register on. */
  clusterArn: "clusterArn",
} as const;

/**
 * How old a login token that names no task of the mesh's cluster must be before the reaper removes
 * it: consul-ecs logs in with its task's meta, so only a token minted by hand (or by an app with
 * its task role) has none; five minutes leaves a login in progress alone.
 */
const REAPER_GRACE_SECONDS = 300;

/** Seconds a new Auto Scaling server may take to report in service (its launch hook's heartbeat); the group's capacity wait allows more. */
export const SERVER_LAUNCH_HOOK_SECONDS = 1800;

/** A pattern anchored for bash and for jq. */
function scriptPattern(pattern: string): ScriptPattern {
  return { bash: `^(${pattern})$`, jq: `\\A(${pattern})\\z` };
}

/** The name the servers' certificates are for, which clients verify (verify_server_hostname). */
export function serverTlsName(datacenter: string): string {
  return `server.${datacenter}.consul`;
}

/**
 * The X-Consul-IAM-ServerID a task signs into its login and the auth method requires (Consul's
 * AWS IAM auth method: ServerIDHeaderValue), so a login signed for this mesh's servers cannot be
 * replayed against another Consul: the servers' TLS name.
 */
export const serverIdHeaderValue = serverTlsName;

/** BoundIAMPrincipalARNs of the dataplane auth method: every role under the task role path. */
export function loginRolesArn(partition: string, accountId: string, taskRolePath: string): string {
  return `arn:${partition}:iam::${accountId}:role${taskRolePath}*`;
}

/** Where agents and servers find the servers: fixed addresses, or cloud auto-join on the servers' tag. */
export function serverJoin(plan: Pick<ServerPlan, "join">, spec: Pick<MeshSpec, "region" | "name">): readonly (string | ReturnType<typeof cloudAutoJoin>)[] {
  return "addresses" in plan.join ? plan.join.addresses : [cloudAutoJoin({ region: spec.region, tagKey: plan.join.tagKey, tagValue: spec.name })];
}

/**
 * The servers of a spec. `agents`: the mesh has agent tasks (their tokens to sync, their certificates to sign); `login`: the dataplane
 * tasks' IAM login, which the servers create.
 */
export function planServers(spec: MeshSpec, tasks: { readonly agents: boolean; readonly login?: DataplaneControlPlan }): ServerPlan {
  const { login } = tasks;
  const version = spec.versions.consul;
  const { consul } = spec;
  const architecture = architectureOf(consul.serverInstanceType);
  const arch = CPU_ARCHITECTURES[architecture].linux;
  const paths = SERVER_PATHS;
  // The server's own HTTPS API, as the ACL sync, snapshot and task reaper scripts call it.
  const managementApi = { httpsPort: CONSUL_PORTS.https, caFile: paths.caFile, managementTokenFile: paths.managementTokenFile };
  const fixed = consul.serverPrivateIps !== undefined;
  const count = fixed ? consul.serverPrivateIps!.length : consul.servers;
  const join: ServerPlan["join"] = fixed ? { addresses: consul.serverPrivateIps! } : { tagKey: SERVER_TAG_KEY };
  const snapshots = consul.snapshots.enabled ? { intervalMinutes: consul.snapshots.intervalMinutes, retentionDays: consul.snapshots.retentionDays } : undefined;
  const release: ServerPlan["release"] = consul.releaseS3Uri
    ? { s3Uri: consul.releaseS3Uri }
    : { url: `https://releases.hashicorp.com/consul/${version}/consul_${version}_linux_${arch}.zip` };

  const loginTarget = login
    ? {
        authMethod: login.authMethod,
        boundRoles: slot(SERVER_SLOTS.loginRoles),
        serviceNameTag: login.serviceNameTag,
        rolePath: loginRolePath(spec.name),
        roleId: scriptPattern(IAM_ROLE_ID_PATTERN),
        clusterArn: slot(SERVER_SLOTS.clusterArn),
        serverIdHeaderValue: serverIdHeaderValue(consul.datacenter),
      }
    : null;
  // A replaced Auto Scaling server comes back with the node ID on its data volume but a new
  // hostname: a fixed name per slot keeps ID and name together (hashicorp/consul#6381).
  const nodeName = (index: number): string | null => (fixed ? null : `consul-server-${index + 1}`);
  const config = (index: number) =>
    serverConfig({
      nodeName: nodeName(index),
      datacenter: consul.datacenter,
      bootstrapExpect: count,
      // A single server has no one to join.
      retryJoin: count > 1 ? serverJoin({ join }, spec) : null,
      bindAddr: CONSUL_PRIVATE_IP,
      httpsPort: CONSUL_PORTS.https,
      // Dataplane tasks and consul-ecs dial gRPC over TLS. Served whatever the tasks' architecture, so
      // moving a service between architectures never rolls the servers; only the security group
      // rule that lets tasks reach it depends on a dataplane service existing.
      grpcTlsPort: CONSUL_PORTS.grpcTls,
      dataDir: paths.dataDir,
      tls: { caFile: paths.caFile, certFile: paths.certFile, keyFile: paths.keyFile },
      // Client agents get their certificates from the servers; without agents nothing asks.
      autoEncrypt: tasks.agents,
    });
  const nodes = Array.from({ length: count }, (_, index): ServerNodePlan => {
    const privateIp = fixed ? consul.serverPrivateIps![index]! : undefined;
    const nodeConfig = config(index);
    return {
      index,
      // An address outside every subnet is a rule error; zone 0 keeps the plan whole until it is reported.
      zone: privateIp ? (zoneOfAddress(spec.network, privateIp) ?? 0) : index % spec.network.zones.length,
      ...(privateIp ? { privateIp } : {}),
      config: nodeConfig,
      userData: consulServerUserData({
        version,
        sha256: CONSUL_RELEASES[version][arch],
        region: spec.region,
        release: "s3Uri" in release ? { url: null, s3Uri: release.s3Uri } : { url: release.url, s3Uri: null },
        secrets: slots(SERVER_SECRET_SLOTS),
        settle: { attempts: SECRET_CALL_ATTEMPTS },
        rpcTls: {
          caToken: rpcCaToken(RPC_CA_GENERATION),
          caSubject: `/O=consul-ecs-mesh/CN=Consul CA ${consul.datacenter}`,
          caDays: CERTIFICATE_DAYS.ca,
          serverDays: CERTIFICATE_DAYS.server,
          renewBeforeDays: CERTIFICATE_DAYS.renewBefore,
          // verify_server_hostname checks server.<datacenter>.consul; localhost and 127.0.0.1 serve the
          // HTTPS API through a port forward; a fixed server's address is in its certificate too.
          serverSubject: `/CN=${serverTlsName(consul.datacenter)}`,
          subjectAltNames: [`DNS:${serverTlsName(consul.datacenter)}`, "DNS:localhost", "IP:127.0.0.1", ...(privateIp ? [`IP:${privateIp}`] : [])].join(","),
        },
        serviceTokenPath: serviceTokenPath(spec.name),
        serviceTokenSecretPrefix: serviceTokenSecretPrefix(spec.name),
        dataVolume: { id: slot(SERVER_SLOTS.dataVolume), attachHere: !fixed },
        snapshots: snapshots
          ? {
              bucket: slot(SERVER_SLOTS.snapshotBucket),
              prefix: `snapshots/${consul.datacenter}`,
              kmsKey: slot(SERVER_SLOTS.snapshotKey),
              script: snapshotScript({ ...managementApi, binary: paths.binary }),
              unit: scriptUnit({ description: "Save a Consul snapshot to S3", envFile: paths.snapshotEnvFile, binary: paths.snapshotBinary }),
              timer: snapshotTimer({ intervalMinutes: snapshots.intervalMinutes }),
            }
          : null,
        lifecycleHook: fixed ? null : { name: SERVER_LAUNCH_HOOK, groupName: slot(SERVER_SLOTS.autoScalingGroup) },
        httpsPort: CONSUL_PORTS.https,
        paths,
        serverConfig: nodeConfig,
        nodeName: nodeName(index),
        loginTarget,
        systemdUnit: consulUnit({ binary: paths.binary, configDir: paths.configDir, configFile: paths.configFile }),
        aclSyncScript: aclSyncScript({
          ...managementApi,
          login: loginTarget,
          serviceName: scriptPattern(SERVICE_NAME_PATTERN),
        }),
        aclSyncUnit: scriptUnit({ description: "Sync Consul ACL tokens with Secrets Manager", envFile: paths.aclSyncEnvFile, binary: paths.aclSyncBinary }),
        aclSyncTimer: aclSyncTimer({}),
        taskReaperScript: taskReaperScript({
          ...managementApi,
          authMethod: CONSUL_LOGIN.authMethod,
          clusterArn: slot(SERVER_SLOTS.clusterArn),
          graceSeconds: REAPER_GRACE_SECONDS,
          serviceNameSeparator: ECS_SERVICE_NAME_SEPARATOR,
          serviceNameTag: CONSUL_LOGIN.serviceNameTag,
          serviceName: scriptPattern(SERVICE_NAME_PATTERN),
          seenGoneFile: paths.taskReaperSeenGone,
        }),
        taskReaperUnit: scriptUnit({
          description: "Remove the services and login tokens of stopped ECS tasks from Consul",
          envFile: paths.taskReaperEnvFile,
          binary: paths.taskReaperBinary,
        }),
        taskReaperTimer: taskReaperTimer({}),
      }),
    };
  });
  return {
    instanceType: consul.serverInstanceType,
    architecture,
    count,
    declaredCount: consul.servers,
    nodes,
    placement: fixed ? "fixed" : "auto-scaling",
    dataVolumeGiB: consul.dataVolumeGiB,
    join,
    ...(snapshots ? { snapshots } : {}),
    release,
    agents: tasks.agents,
    ...(login ? { login } : {}),
    calls: serverCalls(fixed ? "fixed" : "auto-scaling"),
  };
}
