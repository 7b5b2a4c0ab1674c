// The baseline of tools/bench.ts: the mesh of tools/bench.ts's generated spec with
// BENCH_SERVICES services, written as a plain CDKTF app would be: no spec file, schema, plan,
// rules or templates; services in a loop, scripts as template literals, JSON.stringify for
// container definitions and policies. It creates the same resources (types and counts, checked
// by the bench) with comparable attributes (about 80% of the JSON: shorter scripts and
// comments), so app / baseline is what the project's own layers cost at that size. Review
// tooling only: not the product, and it imports nothing from it. When the stacks gain or lose a
// resource, the bench prints the difference: change this file to match.
import { App, Fn, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsSecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-version";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { DataAwsVpcEndpointService } from "@cdktf/provider-aws/lib/data-aws-vpc-endpoint-service";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { EcrPullThroughCacheRule } from "@cdktf/provider-aws/lib/ecr-pull-through-cache-rule";
import { EcrRepositoryCreationTemplate } from "@cdktf/provider-aws/lib/ecr-repository-creation-template";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { ConfigEntry } from "@cdktf/provider-consul/lib/config-entry";
import { ConsulProvider } from "@cdktf/provider-consul/lib/provider";
import { Bytes } from "@cdktf/provider-random/lib/bytes";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { Uuid } from "@cdktf/provider-random/lib/uuid";
import { CertRequest } from "@cdktf/provider-tls/lib/cert-request";
import { LocallySignedCert } from "@cdktf/provider-tls/lib/locally-signed-cert";
import { PrivateKey } from "@cdktf/provider-tls/lib/private-key";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { SelfSignedCert } from "@cdktf/provider-tls/lib/self-signed-cert";

const N = Number(process.env.BENCH_SERVICES ?? 500);
const CONSUL = "hashicorp/consul:1.22.7";
const ENVOY = "envoyproxy/envoy:v1.37.11";
const SERVER_IP = "10.0.0.100";
const name = (i: number) => `svc-${String(i).padStart(4, "0")}`;

// Same shape as tools/bench.ts generatedSpec: each service calls the next two; every tenth
// service is denied to the third after it.
const services = Array.from({ length: N }, (_, i) => ({
  name: name(i),
  upstreams: [1, 2]
    .map((step) => (i + step) % N)
    .filter((j, k, all) => j !== i && all.indexOf(j) === k)
    .map((j, k) => ({ destination: name(j), port: 9100 + k })),
}));
const denies: [string, string][] = [];
for (let i = 0; i + 3 < N; i += 10) denies.push([name(i), name(i + 3)]);

const assumeRole = (service: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

function role(scope: Construct, id: string, namePrefix: string, service: string, description: string): IamRole {
  return new IamRole(scope, id, { namePrefix, description, assumeRolePolicy: assumeRole(service) });
}

function sgRules(scope: Construct, id: string, groupId: string, vpcCidr: string, ingress: [string, number, number, string, string][]): void {
  for (const [rule, from, to, protocol, cidr] of ingress) {
    new VpcSecurityGroupIngressRule(scope, `${id}_ingress_${rule}`, {
      securityGroupId: groupId,
      fromPort: from,
      toPort: to,
      ipProtocol: protocol,
      cidrIpv4: cidr,
      description: `${rule} from ${cidr}`,
    });
  }
  new VpcSecurityGroupEgressRule(scope, `${id}_egress_https`, {
    securityGroupId: groupId,
    fromPort: 443,
    toPort: 443,
    ipProtocol: "tcp",
    cidrIpv4: "0.0.0.0/0",
    description: "HTTPS to AWS APIs and image registries",
  });
  new VpcSecurityGroupEgressRule(scope, `${id}_egress_vpc`, { securityGroupId: groupId, ipProtocol: "-1", cidrIpv4: vpcCidr, description: "anything inside the VPC" });
}

const AGENT_SCRIPT = `# Writes the agent's secrets into files only the consul user reads, then starts the agent.
umask 077
printf '%s\\n' "$CONSUL_CA_PEM" > '/consul/config/ca.pem'
cat > '/consul/config/secrets.hcl' <<EOF_SECRETS
encrypt = "$CONSUL_GOSSIP_KEY"
acl {
  tokens {
    agent   = "$CONSUL_AGENT_TOKEN"
    default = "$CONSUL_SERVICE_TOKEN"
  }
}
EOF_SECRETS
chown consul:consul '/consul/config/ca.pem' '/consul/config/secrets.hcl'
unset CONSUL_CA_PEM CONSUL_GOSSIP_KEY CONSUL_AGENT_TOKEN CONSUL_SERVICE_TOKEN
exec docker-entrypoint.sh "$@"
`;

const AGENT_HCL = `# Consul client agent of one ECS task.
datacenter           = "aws"
server               = false
data_dir             = "/consul/data"
bind_addr            = "{{ GetPrivateIP }}"
client_addr          = "127.0.0.1"
retry_join           = ["${SERVER_IP}"]
leave_on_terminate   = true
enable_script_checks = false

ports {
  grpc = 8502
}

tls {
  defaults {
    ca_file         = "/consul/config/ca.pem"
    verify_outgoing = true
  }
  internal_rpc {
    verify_server_hostname = true
  }
}

auto_encrypt {
  tls = true
}

acl {
  enabled                  = true
  default_policy           = "deny"
  down_policy              = "extend-cache"
  enable_token_persistence = true
}
`;

const serviceHcl = (service: (typeof services)[number]) => `service {
  name = "${service.name}"
  port = 8080

  check {
    id       = "${service.name}"
    name     = "HTTP GET on port 8080"
    http     = "http://127.0.0.1:8080/"
    method   = "GET"
    interval = "10s"
    timeout  = "2s"
  }

  connect {
    sidecar_service {
      port = 21000

      proxy {
${service.upstreams
  .map(
    (u) => `        upstreams {
          destination_name   = "${u.destination}"
          local_bind_address = "127.0.0.1"
          local_bind_port    = ${u.port}

          # Envoy ejects an instance that keeps failing (outlier detection).
          config {
            passive_health_check {
              interval                  = "10s"
              max_failures              = 5
              enforcing_consecutive_5xx = 100
              max_ejection_percent      = 50
              base_ejection_time        = "30s"
            }
          }
        }`,
  )
  .join("\n")}
      }
    }
  }
}
`;

const BOOTSTRAP_SCRIPT = `# Writes the Envoy bootstrap of this task's sidecar into the task volume, then exits.
attempts=0
until consul acl token read -self >/dev/null 2>&1; do
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 60 ]; then
    echo "the ACL token of $SERVICE_NAME is still unknown to Consul after 5 minutes" >&2
    exit 1
  fi
  sleep 5
done
umask 077
consul connect envoy \\
  -sidecar-for "$SERVICE_NAME" \\
  -admin-bind "$ENVOY_ADMIN_BIND" \\
  -bootstrap > "$ENVOY_BOOTSTRAP.tmp"
chown "$ENVOY_UID" "$ENVOY_BOOTSTRAP.tmp"
mv "$ENVOY_BOOTSTRAP.tmp" "$ENVOY_BOOTSTRAP"
`;

const ENVOY_READY = `# Healthy once Envoy's admin API reports LIVE and the sidecar's listener is up.
state="$(curl -fsS http://127.0.0.1:19000/ready 2>/dev/null || true)"
[ "$state" = LIVE ] || exit 1
curl -fsS http://127.0.0.1:19000/listeners 2>/dev/null | grep -q 'public_listener' || exit 1
`;

const SERVER_USER_DATA = (secretArns: Record<string, string>, region: string) => `#!/bin/bash
# Consul server bootstrap: install a pinned, checksum-verified Consul, fetch its keys and tokens
# from Secrets Manager with the instance role, and run it under systemd.
set -euo pipefail

readonly CONSUL_VERSION='1.22.7'
readonly AWS_REGION='${region}'
${Object.entries(secretArns)
  .map(([key, arn]) => `readonly ${key}='${arn}'`)
  .join("\n")}

dnf install -y -q unzip jq
cd /tmp
curl -fsSLo consul.zip "https://releases.hashicorp.com/consul/$CONSUL_VERSION/consul_"$CONSUL_VERSION"_linux_amd64.zip"
echo "fe25cecd8dd3552a8e5b0941cde1d79bb6004eac384aa45679dd1398f947201d  consul.zip" | sha256sum -c -
unzip -o consul.zip consul -d /usr/local/bin
useradd --system --home /etc/consul.d --shell /bin/false consul || true
install -d -o consul -g consul -m 0750 /etc/consul.d /opt/consul

secret() { aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" --query SecretString --output text; }
umask 077
secret "$CA_CERT_SECRET" > /etc/consul.d/ca.pem
secret "$SERVER_CERT_SECRET" > /etc/consul.d/server.pem
secret "$SERVER_KEY_SECRET" > /etc/consul.d/server-key.pem
cat > /etc/consul.d/secrets.hcl <<EOF
encrypt = "$(secret "$GOSSIP_KEY_SECRET")"
acl {
  tokens {
    initial_management = "$(secret "$MANAGEMENT_TOKEN_SECRET")"
    agent              = "$(secret "$AGENT_TOKEN_SECRET" | jq -r .SecretID)"
  }
}
EOF
cat > /etc/consul.d/consul.hcl <<'EOF'
datacenter       = "aws"
server           = true
bootstrap_expect = 1
data_dir         = "/opt/consul"
bind_addr        = "${SERVER_IP}"
client_addr      = "0.0.0.0"
ui_config {
  enabled = true
}
ports {
  http  = -1
  https = 8501
  grpc  = -1
}
tls {
  defaults {
    ca_file         = "/etc/consul.d/ca.pem"
    cert_file       = "/etc/consul.d/server.pem"
    key_file        = "/etc/consul.d/server-key.pem"
    verify_incoming = true
    verify_outgoing = true
  }
  internal_rpc {
    verify_server_hostname = true
  }
  https {
    verify_incoming = false
  }
}
auto_encrypt {
  allow_tls = true
}
acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = true
}
connect {
  enabled = true
}
EOF
chown -R consul:consul /etc/consul.d
cat > /etc/systemd/system/consul.service <<'EOF'
[Unit]
Description=Consul server
Wants=network-online.target
After=network-online.target

[Service]
User=consul
Group=consul
ExecStart=/usr/local/bin/consul agent -config-dir=/etc/consul.d
ExecReload=/bin/kill --signal HUP $MAINPID
KillMode=process
Restart=on-failure
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable --now consul
`;

class PlainMeshStack extends TerraformStack {
  readonly managementTokenArn: string;
  readonly caCertArn: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const vpcCidr = "10.0.0.0/16";
    // What the project's stacks take from the spec is a literal here too; only access is a variable.
    const cluster = `bench-${N}`;
    const region = "us-east-1";
    const adminCidr = new TerraformVariable(this, "admin_cidr", { type: "string", nullable: true, description: "CIDR allowed to the Consul UI" });
    const key = new TerraformVariable(this, "aws_ec2_key", { type: "string", nullable: true, description: "EC2 key pair for SSH" });
    // A null default goes through an override: CDKTF 0.21 fails on `default: null`.
    for (const optional of [adminCidr, key]) optional.addOverride("default", null);

    new AwsProvider(this, "aws", { region, defaultTags: [{ tags: { Terraform: "true", Environment: "dev", Project: "consul-ecs-mesh", Cluster: cluster } }] });
    new RandomProvider(this, "random");
    new TlsProvider(this, "tls");
    const partition = new DataAwsPartition(this, "partition").partition;
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    const zones = new DataAwsAvailabilityZones(this, "available_zones", { state: "available" });

    const logKey = new KmsKey(this, "log_key", {
      description: "CloudWatch Logs of the mesh",
      enableKeyRotation: true,
      deletionWindowInDays: 7,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "Account", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
          {
            Sid: "Logs",
            Effect: "Allow",
            Principal: { Service: `logs.${region}.amazonaws.com` },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
          },
        ],
      }),
    });
    new KmsAlias(this, "log_key_alias", { name: `alias/${cluster}-logs`, targetKeyId: logKey.keyId });

    const vpc = new Vpc(this, "vpc", { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: cluster } });
    const zone = Fn.element(zones.names, 0);
    const publicSubnet = new Subnet(this, "public_subnet", { vpcId: vpc.id, cidrBlock: "10.0.16.0/20", availabilityZone: zone, tags: { Name: `${cluster}-public` } });
    const subnet = new Subnet(this, "private_subnet", { vpcId: vpc.id, cidrBlock: "10.0.0.0/20", availabilityZone: zone, tags: { Name: `${cluster}-private` } });
    const igw = new InternetGateway(this, "internet_gateway", { vpcId: vpc.id });
    const routes = new RouteTable(this, "public_route_table", { vpcId: vpc.id });
    new Route(this, "public_default_route", { routeTableId: routes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });
    new RouteTableAssociation(this, "public_subnet_route_table", { subnetId: publicSubnet.id, routeTableId: routes.id });
    const natIp = new Eip(this, "nat_eip", { domain: "vpc", tags: { Name: `${cluster}-nat` } });
    const nat = new NatGateway(this, "nat_gateway", { allocationId: natIp.allocationId, subnetId: publicSubnet.id, dependsOn: [igw], tags: { Name: `${cluster}-nat` } });
    const privateRoutes = new RouteTable(this, "private_route_table", { vpcId: vpc.id });
    new Route(this, "private_default_route", { routeTableId: privateRoutes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id });
    new RouteTableAssociation(this, "private_subnet_route_table", { subnetId: subnet.id, routeTableId: privateRoutes.id });
    const s3Service = new DataAwsVpcEndpointService(this, "s3_endpoint_service", { service: "s3", serviceType: "Gateway" });
    new VpcEndpoint(this, "s3_endpoint", {
      vpcId: vpc.id,
      serviceName: s3Service.serviceName,
      vpcEndpointType: "Gateway",
      routeTableIds: [privateRoutes.id],
      tags: { Name: `${cluster}-s3` },
    });
    // Images from public.ecr.aws through a pull-through cache in the account.
    const cache = new EcrPullThroughCacheRule(this, "ecr_public_cache", { ecrRepositoryPrefix: `${cluster}/ecrpublic`, upstreamRegistryUrl: "public.ecr.aws" });
    new EcrRepositoryCreationTemplate(this, "ecr_public_repositories", {
      prefix: `${cluster}/ecrpublic`,
      appliedFor: ["PULL_THROUGH_CACHE"],
      description: `Repositories the public.ecr.aws pull-through cache of ${cluster} creates`,
      encryptionConfiguration: [{ encryptionType: "KMS" }],
      imageTagMutability: "MUTABLE",
      lifecyclePolicy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "Expire untagged images after 7 days",
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
            action: { type: "expire" },
          },
        ],
      }),
      dependsOn: [cache],
    });
    new DefaultSecurityGroup(this, "default_security_group", { vpcId: vpc.id });
    const flowLogs = new CloudwatchLogGroup(this, "flow_log_group", { name: `/vpc/${cluster}/flow-logs`, retentionInDays: 30, kmsKeyId: logKey.arn });
    const flowRole = role(this, "flow_log_role", `${cluster}-flow-logs-`, "vpc-flow-logs.amazonaws.com", "VPC flow logs");
    new IamRolePolicy(this, "flow_log_role_policy", {
      namePrefix: "write-flow-logs-",
      role: flowRole.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [`${flowLogs.arn}:*`] }],
      }),
    });
    new FlowLog(this, "flow_log", { vpcId: vpc.id, trafficType: "ALL", logDestination: flowLogs.arn, iamRoleArn: flowRole.arn });

    // Secrets: gossip key, a private CA and the server's certificate, ACL tokens.
    const secret = (id: string, description: string, value: string) => {
      const s = new SecretsmanagerSecret(this, id, { namePrefix: `${cluster}/consul/${id.replace(/_/g, "-")}-`, description, recoveryWindowInDays: 7 });
      new SecretsmanagerSecretVersion(this, `${id}_value`, { secretId: s.id, secretString: value });
      return s;
    };
    const token = (id: string, description: string) => {
      const accessor = new Uuid(this, `${id}_accessor`);
      const secretId = new Uuid(this, `${id}_secret`);
      return secret(id, description, Fn.jsonencode({ AccessorID: accessor.result, SecretID: secretId.result }));
    };
    const gossip = secret("gossip_key", "Consul gossip encryption key", new Bytes(this, "gossip_key_bytes", { length: 32 }).base64);
    const caKey = new PrivateKey(this, "ca_key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const ca = new SelfSignedCert(this, "ca_certificate", {
      privateKeyPem: caKey.privateKeyPem,
      isCaCertificate: true,
      validityPeriodHours: 43800,
      allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      subject: [{ commonName: "Consul CA aws", organization: "consul-ecs-mesh" }],
    });
    const caCert = secret("ca_cert", "Consul CA certificate (public)", ca.certPem);
    const serverKey = new PrivateKey(this, "server_private_key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const request = new CertRequest(this, "server_cert_request", {
      privateKeyPem: serverKey.privateKeyPem,
      subject: [{ commonName: "server.aws.consul" }],
      dnsNames: ["server.aws.consul", "localhost"],
      ipAddresses: [SERVER_IP, "127.0.0.1"],
    });
    const serverCert = new LocallySignedCert(this, "server_certificate", {
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      caCertPem: ca.certPem,
      validityPeriodHours: 8760,
      allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
    });
    const serverCertSecret = secret("server_cert", "Consul server certificate", serverCert.certPem);
    const serverKeySecret = secret("server_key", "Consul server private key", serverKey.privateKeyPem);
    const management = secret("management_token", "Consul management token", new Uuid(this, "management_token_uuid").result);
    const agentToken = token("agent_token", "Consul agent token");
    const serviceTokens = new Map(services.map((s) => [s.name, token(`service_token_${s.name}`, `Consul ACL token of ${s.name} and its sidecar`)]));
    // One parameter per service token, which the Consul server keeps in sync (an ARN, no secret).
    for (const [service, s] of serviceTokens) {
      new SsmParameter(this, `service_token_${service}_parameter`, {
        name: `/${cluster}/consul/service-tokens/${service}`,
        type: "String",
        tier: "Standard",
        description: `The secret of ${service}'s Consul ACL token`,
        value: s.arn,
      });
    }
    this.managementTokenArn = management.arn;
    this.caCertArn = caCert.arn;

    // The Consul server.
    const serverSg = new SecurityGroup(this, "consul_server_security_group", { namePrefix: `${cluster}-consul-server-`, vpcId: vpc.id, description: "Consul server" });
    sgRules(this, "consul_server_security_group", serverSg.id, vpcCidr, [
      ["server_rpc", 8300, 8300, "tcp", vpcCidr],
      ["serf_lan_tcp", 8301, 8301, "tcp", vpcCidr],
      ["serf_lan_udp", 8301, 8301, "udp", vpcCidr],
      ["https_api", 8501, 8501, "tcp", vpcCidr],
      ["dns_tcp", 8600, 8600, "tcp", vpcCidr],
      ["dns_udp", 8600, 8600, "udp", vpcCidr],
      ["admin_ui", 8501, 8501, "tcp", adminCidr.stringValue],
      ["ssh", 22, 22, "tcp", adminCidr.stringValue],
    ]);
    const serverRole = role(this, "consul_server_role", `${cluster}-consul-server-`, "ec2.amazonaws.com", "Consul server");
    new IamRolePolicy(this, "consul_server_role_policy", {
      namePrefix: "read-consul-secrets-",
      role: serverRole.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: [gossip.arn, caCert.arn, serverCertSecret.arn, serverKeySecret.arn, management.arn, agentToken.arn, ...[...serviceTokens.values()].map((s) => s.arn)],
          },
        ],
      }),
    });
    const ssmSessions = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["ssm:UpdateInstanceInformation"], Resource: [`arn:${partition}:ec2:${region}:${account}:instance/*`] },
        {
          Effect: "Allow",
          Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
          Resource: "*",
        },
      ],
    });
    new IamRolePolicy(this, "consul_server_role_ssm_sessions", { namePrefix: "ssm-sessions-", role: serverRole.id, policy: ssmSessions });
    // Snapshots of the server's state to S3.
    const snapshots = new S3Bucket(this, "snapshots_bucket", { bucketPrefix: `${cluster}-consul-snapshots-`, forceDestroy: false });
    new S3BucketVersioningA(this, "snapshots_versioning", { bucket: snapshots.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketPublicAccessBlock(this, "snapshots_public_access_block", {
      bucket: snapshots.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "snapshots_ownership", { bucket: snapshots.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "snapshots_encryption", {
      bucket: snapshots.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: logKey.arn }, bucketKeyEnabled: true }],
    });
    new S3BucketLifecycleConfiguration(this, "snapshots_lifecycle", {
      bucket: snapshots.id,
      rule: [
        {
          id: "expire-snapshots",
          status: "Enabled",
          filter: [{ prefix: "snapshots/" }],
          expiration: [{ days: 30 }],
          noncurrentVersionExpiration: [{ noncurrentDays: 30 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    new S3BucketPolicy(this, "snapshots_policy", {
      bucket: snapshots.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [snapshots.arn, `${snapshots.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
    // The task reaper on the server looks up the mesh's tasks.
    new IamRolePolicy(this, "consul_server_role_describe_tasks", {
      namePrefix: "describe-mesh-tasks-",
      role: serverRole.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["ecs:DescribeTasks"], Resource: [`arn:${partition}:ecs:${region}:${account}:task/${cluster}/*`] }],
      }),
    });
    new IamRolePolicy(this, "consul_server_role_snapshots", {
      namePrefix: "save-snapshots-",
      role: serverRole.id,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: [`${snapshots.arn}/snapshots/*`] }] }),
    });
    const serverProfile = new IamInstanceProfile(this, "consul_server_profile", { namePrefix: `${cluster}-consul-server-`, role: serverRole.name });
    const serverAmi = new DataAwsSsmParameter(this, "consul_server_ami", { name: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" });
    const server = new Instance(this, "consul_server", {
      ami: serverAmi.value,
      instanceType: "t3.micro",
      subnetId: subnet.id,
      privateIp: SERVER_IP,
      associatePublicIpAddress: true,
      iamInstanceProfile: serverProfile.name,
      vpcSecurityGroupIds: [serverSg.id],
      keyName: key.stringValue,
      monitoring: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3" },
      lifecycle: { ignoreChanges: ["ami"] },
      userData: SERVER_USER_DATA(
        {
          GOSSIP_KEY_SECRET: gossip.arn,
          CA_CERT_SECRET: caCert.arn,
          SERVER_CERT_SECRET: serverCertSecret.arn,
          SERVER_KEY_SECRET: serverKeySecret.arn,
          MANAGEMENT_TOKEN_SECRET: management.arn,
          AGENT_TOKEN_SECRET: agentToken.arn,
        },
        region,
      ),
      tags: { Name: `${cluster}-consul-server` },
    });
    const data = new EbsVolume(this, "consul_server_data", {
      availabilityZone: zone,
      size: 10,
      type: "gp3",
      encrypted: true,
      kmsKeyId: logKey.arn,
      tags: { Name: `${cluster}-consul-server-data` },
    });
    new VolumeAttachment(this, "consul_server_data_attachment", { deviceName: "/dev/sdf", instanceId: server.id, volumeId: data.id });

    // The ECS cluster, its task security group and a host.
    const execLogs = new CloudwatchLogGroup(this, "ecs_exec_log_group", { name: `/ecs/${cluster}/exec`, retentionInDays: 30, kmsKeyId: logKey.arn });
    const ecsCluster = new EcsCluster(this, "ecs_cluster", {
      name: cluster,
      setting: [{ name: "containerInsights", value: "enabled" }],
      configuration: { executeCommandConfiguration: { logging: "OVERRIDE", logConfiguration: { cloudWatchLogGroupName: execLogs.name, cloudWatchEncryptionEnabled: true } } },
    });
    const taskSg = new SecurityGroup(this, "ecs_task_security_group", { namePrefix: `${cluster}-tasks-`, vpcId: vpc.id, description: "Mesh tasks" });
    sgRules(this, "ecs_task_security_group", taskSg.id, vpcCidr, [
      ["envoy_public", 21000, 21255, "tcp", vpcCidr],
      ["serf_lan_tcp", 8301, 8301, "tcp", vpcCidr],
      ["serf_lan_udp", 8301, 8301, "udp", vpcCidr],
    ]);
    const hostSg = new SecurityGroup(this, "ecs_hosts_security_group", { namePrefix: `${cluster}-ecs-hosts-`, vpcId: vpc.id, description: "ECS hosts" });
    sgRules(this, "ecs_hosts_security_group", hostSg.id, vpcCidr, [["ssh", 22, 22, "tcp", adminCidr.stringValue]]);
    const hostRole = role(this, "ecs_hosts_role", `${cluster}-ecs-host-`, "ec2.amazonaws.com", "ECS container hosts");
    new IamRolePolicyAttachment(this, "ecs_hosts_role_ecs", {
      role: hostRole.name,
      policyArn: `arn:${partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role`,
    });
    new IamRolePolicy(this, "ecs_hosts_role_ssm_sessions", { namePrefix: "ssm-sessions-", role: hostRole.id, policy: ssmSessions });
    const hostProfile = new IamInstanceProfile(this, "ecs_hosts_profile", { namePrefix: `${cluster}-ecs-host-`, role: hostRole.name });
    const hostAmi = new DataAwsSsmParameter(this, "ecs_hosts_ami", { name: "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id" });
    const host = new Instance(this, "ecs_host_1", {
      ami: hostAmi.value,
      instanceType: "t3.small",
      subnetId: subnet.id,
      privateIp: "10.0.0.150",
      associatePublicIpAddress: true,
      iamInstanceProfile: hostProfile.name,
      vpcSecurityGroupIds: [hostSg.id],
      keyName: key.stringValue,
      monitoring: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3" },
      lifecycle: { ignoreChanges: ["ami"] },
      userData: `#!/bin/bash\ncat >> /etc/ecs/ecs.config <<EOF\nECS_CLUSTER=${ecsCluster.name}\nECS_ENABLE_TASK_IAM_ROLE=true\nECS_AWSVPC_BLOCK_IMDS=true\nEOF\n`,
      tags: { Name: `${cluster}-ecs-host-1` },
    });

    // The services.
    const ecsServices = services.map((service) => {
      const logGroup = new CloudwatchLogGroup(this, `${service.name}_log_group`, { name: `/ecs/${cluster}/${service.name}`, retentionInDays: 30, kmsKeyId: logKey.arn });
      const tokenArn = serviceTokens.get(service.name)!.arn;
      const executionRole = role(this, `${service.name}_execution_role`, `${cluster}-${service.name}-`, "ecs-tasks.amazonaws.com", `ECS task execution of ${service.name}`);
      new IamRolePolicy(this, `${service.name}_execution_role_policy`, {
        namePrefix: "read-task-secrets-",
        role: executionRole.id,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [gossip.arn, caCert.arn, agentToken.arn, tokenArn] }],
        }),
      });
      new IamRolePolicyAttachment(this, `${service.name}_execution_role_attachment`, {
        role: executionRole.name,
        policyArn: `arn:${partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
      });
      const taskRole = role(this, `${service.name}_task_role`, `${cluster}-${service.name}-`, "ecs-tasks.amazonaws.com", `Task role of ${service.name}`);
      const logs = { logDriver: "awslogs", options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": service.name } };
      const volume = { sourceVolume: "envoy-bootstrap", containerPath: "/consul/envoy" };
      const containers = [
        {
          name: "consul-agent",
          image: CONSUL,
          essential: true,
          entryPoint: ["/bin/sh", "-ec", AGENT_SCRIPT, "consul-agent"],
          command: ["agent", "-hcl", AGENT_HCL, "-hcl", serviceHcl(service)],
          secrets: [
            { name: "CONSUL_AGENT_TOKEN", valueFrom: `${agentToken.arn}:SecretID::` },
            { name: "CONSUL_CA_PEM", valueFrom: caCert.arn },
            { name: "CONSUL_GOSSIP_KEY", valueFrom: gossip.arn },
            { name: "CONSUL_SERVICE_TOKEN", valueFrom: `${tokenArn}:SecretID::` },
          ],
          portMappings: [
            { containerPort: 8301, hostPort: 8301, protocol: "tcp" },
            { containerPort: 8301, hostPort: 8301, protocol: "udp" },
          ],
          healthCheck: { command: ["CMD", "consul", "members"], interval: 10, timeout: 5, retries: 3, startPeriod: 10 },
          memoryReservation: 64,
          readonlyRootFilesystem: false,
          dockerLabels: { "mesh.policy/readonly-root-exception": "the Consul agent writes its data dir, /consul/data" },
          logConfiguration: logs,
        },
        {
          name: "envoy-bootstrap",
          image: CONSUL,
          essential: false,
          entryPoint: ["/bin/sh", "-ec"],
          command: [BOOTSTRAP_SCRIPT],
          environment: [
            { name: "CONSUL_GRPC_ADDR", value: "127.0.0.1:8502" },
            { name: "CONSUL_HTTP_ADDR", value: "127.0.0.1:8500" },
            { name: "ENVOY_ADMIN_BIND", value: "127.0.0.1:19000" },
            { name: "ENVOY_BOOTSTRAP", value: "/consul/envoy/bootstrap.json" },
            { name: "ENVOY_UID", value: "101" },
            { name: "SERVICE_NAME", value: service.name },
          ],
          secrets: [{ name: "CONSUL_HTTP_TOKEN", valueFrom: `${tokenArn}:SecretID::` }],
          mountPoints: [{ ...volume, readOnly: false }],
          dependsOn: [{ containerName: "consul-agent", condition: "HEALTHY" }],
          memoryReservation: 32,
          readonlyRootFilesystem: true,
          logConfiguration: logs,
        },
        {
          name: "envoy-sidecar",
          image: ENVOY,
          essential: true,
          entryPoint: ["/usr/local/bin/envoy"],
          command: ["--config-path", "/consul/envoy/bootstrap.json", "--disable-hot-restart", "--log-level", "info"],
          user: "101",
          portMappings: [{ containerPort: 21000, hostPort: 21000, protocol: "tcp" }],
          mountPoints: [{ ...volume, readOnly: true }],
          dependsOn: [{ containerName: "envoy-bootstrap", condition: "SUCCESS" }],
          healthCheck: { command: ["CMD-SHELL", ENVOY_READY], interval: 10, timeout: 5, retries: 3, startPeriod: 10 },
          memoryReservation: 64,
          readonlyRootFilesystem: true,
          logConfiguration: logs,
        },
        {
          name: "app",
          image: "hashicorp/http-echo:1.0.0",
          essential: true,
          command: ["-listen=127.0.0.1:8080", `-text=${service.name}`],
          user: "65534",
          dependsOn: [{ containerName: "envoy-sidecar", condition: "HEALTHY" }],
          memoryReservation: 256,
          readonlyRootFilesystem: true,
          logConfiguration: logs,
        },
      ];
      const taskDefinition = new EcsTaskDefinition(this, `${service.name}_task_definition`, {
        family: `${cluster}-${service.name}`,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        executionRoleArn: executionRole.arn,
        taskRoleArn: taskRole.arn,
        containerDefinitions: JSON.stringify(containers),
        volume: [{ name: "envoy-bootstrap" }],
      });
      return new EcsService(this, `${service.name}_service`, {
        name: `${cluster}-${service.name}`,
        cluster: ecsCluster.arn,
        taskDefinition: taskDefinition.arn,
        desiredCount: 1,
        launchType: "FARGATE",
        networkConfiguration: { subnets: [subnet.id], securityGroups: [taskSg.id], assignPublicIp: false },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        enableExecuteCommand: false,
        enableEcsManagedTags: true,
        propagateTags: "SERVICE",
      });
    });

    new TerraformOutput(this, "consul_ui_url", { value: `https://${server.publicIp}:8501/ui/`, description: "Consul UI over HTTPS" });
    new TerraformOutput(this, "consul_ca_cert_pem", { value: ca.certPem, description: "CA of the Consul server certificate" });
    new TerraformOutput(this, "consul_management_token_secret_arn", { value: management.arn, description: "Secrets Manager ARN of the management token" });
    new TerraformOutput(this, "consul_server_instance_id", { value: server.id, description: "Consul server instance" });
    new TerraformOutput(this, "consul_server_private_ip", { value: server.privateIp, description: "Private address the agents join" });
    new TerraformOutput(this, "ecs_host_1_private_ip", { value: host.privateIp, description: "Private IP of ECS host 1" });
    new TerraformOutput(this, "ecs_cluster_name", { value: ecsCluster.name, description: "ECS cluster running the mesh" });
    new TerraformOutput(this, "ecs_service_names", { value: ecsServices.map((s) => s.name), description: "ECS services, one per mesh service" });
  }
}

class PlainIntentionsStack extends TerraformStack {
  constructor(scope: Construct, id: string, mesh: PlainMeshStack) {
    super(scope, id);
    const region = "us-east-1";
    const address = new TerraformVariable(this, "consul_address", { type: "string", default: "127.0.0.1:8501", description: "host:port of the Consul HTTPS API" });
    new AwsProvider(this, "aws", { region });
    const token = new DataAwsSecretsmanagerSecretVersion(this, "management_token", { secretId: mesh.managementTokenArn });
    const ca = new DataAwsSecretsmanagerSecretVersion(this, "consul_ca", { secretId: mesh.caCertArn });
    new ConsulProvider(this, "consul", { address: address.stringValue, scheme: "https", datacenter: "aws", caPem: ca.secretString, token: token.secretString });

    new ConfigEntry(this, "default_deny", {
      kind: "service-intentions",
      name: "*",
      configJson: JSON.stringify({ Sources: [{ Name: "*", Action: "deny", Description: "deny unless allowed" }] }),
    });
    const sources = new Map<string, { Name: string; Action: string; Description: string }[]>();
    for (const s of services) sources.set(s.name, []);
    for (const s of services) for (const u of s.upstreams) sources.get(u.destination)!.push({ Name: s.name, Action: "allow", Description: `upstream of ${s.name}` });
    for (const [source, destination] of denies) sources.get(destination)!.push({ Name: source, Action: "deny", Description: "denied by the spec" });
    for (const [destination, list] of sources) {
      new ConfigEntry(this, `intentions_${destination}`, {
        kind: "service-intentions",
        name: destination,
        configJson: JSON.stringify({ Sources: list.sort((a, b) => a.Name.localeCompare(b.Name)) }),
      });
    }
    new TerraformOutput(this, "intentions", {
      value: Object.fromEntries([...sources].map(([d, list]) => [d, list.map((s) => `${s.Name}:${s.Action}`)])),
      description: "Destination -> sources with their action",
    });
  }
}

// The one CDKTF-level setting the app makes (no per-token stack traces: lib/token-stack-traces.ts,
// repeated here because this file runs transpiled alone), so the ratio measures only what the
// project's own layers add.
(require("cdktf/lib/tokens/private/stack-trace") as { captureStackTrace: () => string[] }).captureStackTrace = () => [];
Error.prepareStackTrace = () => "";
const app = new App();
const mesh = new PlainMeshStack(app, "mesh");
new PlainIntentionsStack(app, "intentions", mesh).addDependency(mesh);
app.synth();
