#!/usr/bin/env bash
# The TLS edge's CA, made outside Terraform so that no key is in its state: makes a P-256 key and a
# CA certificate with openssl on this machine and writes {CertPEM, KeyPEM} to the stack's CA secret,
# and the certificate (with the previous generation's, during a rotation) to the secret clients
# read. Each generation is written under a fixed version ID (ClientRequestToken): Secrets Manager
# never changes a version, so a second or concurrent run writes nothing new, and every run reads
# back the one stored value and checks it. The generation is the one this checkout's synthesized
# stack pins (output ca_generation in cdktf.out), the secrets' ARNs the deployed stack's: to rotate,
# synthesize the raised tlsEdge.caGeneration, run this, then deploy.
#
# Needs: the AWS CLI with credentials (secretsmanager:GetSecretValue and PutSecretValue on both
# secrets, kms:GenerateDataKey and kms:Decrypt on the stack's key), openssl, jq, and the stack
# synthesized and deployed (cdktf.out/stacks/<stack> holds its JSON and state).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
  cat <<'EOF'
usage: scripts/tls-edge-ca.sh [--stack <name>] [--help]

Makes the TLS edge CA generation the synthesized stack pins (output ca_generation) unless it exists,
writes it to the stack's CA secret and the CA certificate to the secret clients read, and checks
what is stored. Safe to run again and from two machines at once. Prints the CA certificate(s)
clients trust on stdout.
  --stack <name>     the TLS edge stack (default: $TLS_EDGE_STACK, else tls-edge)
  -h, --help         this text
EOF
}

stack="${TLS_EDGE_STACK:-tls-edge}"
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --stack) stack="$(option_value "$@")"; shift ;;
    --stack=*) stack="${1#*=}" ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  shift
done

require_command openssl "install OpenSSL 3 (the CA key is made on this machine)"
require_command jq "install jq (https://jqlang.org)"
require_aws_credentials

deployed="$(terraform_output_json "$stack" ca_generation)"
synthesized="cdktf.out/stacks/$stack/cdk.tf.json"
generation="$(jq -c --argjson deployed "$deployed" '.output.ca_generation.value + ($deployed | {caSecretArn, caCertificateSecretArn})' "$synthesized" 2>/dev/null)" ||
  die "$synthesized has no output ca_generation: run 'npm run synth' with this checkout"
field() { jq -r --arg f "$1" '.[$f] // "" | tostring' <<<"$generation"; }
ca_secret="$(field caSecretArn)"
certificate_secret="$(field caCertificateSecretArn)"
version="$(field versionId)"
previous="$(field previousVersionId)"
common_name="$(field commonName)"
days="$(field days)"
# Each value reaches aws's argv or openssl's -subj: a "/" or "+" in the name would add subject fields.
[[ "$version" =~ ^[A-Za-z0-9-]{32,64}$ && ( -z "$previous" || "$previous" =~ ^[A-Za-z0-9-]{32,64}$ ) && "$common_name" =~ ^[A-Za-z0-9.*\ -]+$ &&
  "$days" =~ ^[0-9]+$ && -n "$ca_secret" && -n "$certificate_secret" ]] ||
  die "output ca_generation of stack $stack is not what this script expects: synthesize and deploy the stack with this checkout"

# Secrets only in files of this folder (mode 0600), never in arguments; removed on exit.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077

# get_version SECRET VERSION FILE: the version's value into FILE; exit 3 when the version does not exist.
get_version() {
  local err="$work/get.err"
  if aws secretsmanager get-secret-value --secret-id "$1" --version-id "$2" --query SecretString --output text >"$3" 2>"$err"; then return 0; fi
  grep -q ResourceNotFoundException "$err" && return 3
  die "reading version $2 of $1 failed: $(tr '\n' ' ' <"$err")"
}

# put_version SECRET VERSION FILE: writes FILE's content as that version; "created", "exists"
# (the same or another value: a version never changes, the caller reads it back), or fails.
put_version() {
  local err="$work/put.err"
  jq -n --arg id "$1" --arg token "$2" --rawfile value "$3" '{SecretId: $id, ClientRequestToken: $token, SecretString: $value}' >"$work/request.json"
  if aws secretsmanager put-secret-value --cli-input-json "file://$work/request.json" >/dev/null 2>"$err"; then
    rm -f "$work/request.json"
    echo created
    return 0
  fi
  rm -f "$work/request.json"
  grep -q ResourceExistsException "$err" && { echo exists; return 0; }
  die "writing version $2 of $1 failed: $(tr '\n' ' ' <"$err")"
}

# valid_ca FILE: {CertPEM, KeyPEM} of a CA certificate (CA:TRUE, may sign certificates, not expired) and its key.
valid_ca() {
  jq -ej '.CertPEM | strings' <"$1" >"$work/ca.pem" 2>/dev/null || return 1
  jq -ej '.KeyPEM | strings' <"$1" >"$work/ca.key" 2>/dev/null || return 1
  openssl x509 -in "$work/ca.pem" -noout -checkend 0 >/dev/null 2>&1 || return 1
  openssl x509 -in "$work/ca.pem" -noout -ext basicConstraints,keyUsage 2>/dev/null | grep -q 'CA:TRUE' || return 1
  openssl x509 -in "$work/ca.pem" -noout -ext keyUsage 2>/dev/null | grep -q 'Certificate Sign' || return 1
  [ "$(openssl pkey -in "$work/ca.key" -pubout 2>/dev/null)" = "$(openssl x509 -in "$work/ca.pem" -noout -pubkey 2>/dev/null)" ] || return 1
}

mint() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/new.key" 2>/dev/null
  openssl req -x509 -new -config /dev/null -key "$work/new.key" -subj "/O=consul-ecs-mesh/CN=$common_name" -days "$days" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$work/new.pem" 2>/dev/null
  jq -n --rawfile cert "$work/new.pem" --rawfile key "$work/new.key" '{CertPEM: $cert, KeyPEM: $key}' >"$work/new.json"
  rm -f "$work/new.key"
}

# 1. The CA: this generation's version, made here only if no run made it before.
status=0
get_version "$ca_secret" "$version" "$work/ca.json" || status=$?
if [ "$status" = 3 ]; then
  mint
  outcome="$(put_version "$ca_secret" "$version" "$work/new.json")"
  case "$outcome" in
    created) echo "created CA version $version in $ca_secret" >&2 ;;
    exists) echo "CA version $version was written by another run first: using that one" >&2 ;;
  esac
  rm -f "$work/new.json"
  # Whoever won, the stored value is the one every task reads.
  get_version "$ca_secret" "$version" "$work/ca.json" || die "CA version $version of $ca_secret is missing right after it was written: run again"
else
  echo "CA version $version exists in $ca_secret: nothing to make" >&2
fi
valid_ca "$work/ca.json" ||
  die "version $version of $ca_secret is not a CA this script writes ({CertPEM, KeyPEM}: a CA certificate, valid now, and its key): a version cannot be changed, so raise tlsEdge.caGeneration and run again"
rm -f "$work/ca.key"

# 2. What clients trust: this generation's certificate, then the previous one's while tasks still
#    serve certificates it signed (same content on every run, so the put is idempotent).
cp "$work/ca.pem" "$work/trust.pem"
if [ -n "$previous" ]; then
  status=0
  get_version "$ca_secret" "$previous" "$work/previous.json" || status=$?
  if [ "$status" = 0 ]; then jq -j '.CertPEM' <"$work/previous.json" >>"$work/trust.pem"; fi
  rm -f "$work/previous.json"
fi
put_version "$certificate_secret" "$version" "$work/trust.pem" >/dev/null
get_version "$certificate_secret" "$version" "$work/stored.pem" || die "version $version of $certificate_secret is missing right after it was written: run again"
# --output text ends the value with a newline.
cmp -s <(printf '%s\n' "$(cat "$work/trust.pem")") <(printf '%s\n' "$(cat "$work/stored.pem")") ||
  die "version $version of $certificate_secret holds other certificates than the CA's: a version cannot be changed, so raise tlsEdge.caGeneration and run again"
echo "clients trust version $version of $certificate_secret" >&2
cat "$work/trust.pem"
