#!/usr/bin/env bash
# Replaces the Consul servers one at a time, each on its current launch template (a new Consul
# version or AMI after `cdktf deploy mesh`), without losing quorum: each server is its own Auto
# Scaling group of one, and a new instance completes its launch lifecycle hook only once the
# cluster is healthy with it (autopilot), so a refresh succeeds only after the replacement has
# joined. The next server is not touched before the previous refresh succeeded; a refresh that
# fails or is cancelled stops the roll. With --rotate-gossip-key it rotates the gossip key instead
# (no server is replaced): install, use, store, remove, each checked on every member.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
  cat <<'USAGE'
usage: scripts/roll-consul-servers.sh [--poll-seconds <n>] [--help]
       scripts/roll-consul-servers.sh --rotate-gossip-key

Starts an instance refresh of each Consul server's Auto Scaling group (output consul_server_groups),
one after the other, and waits for each to succeed before the next. Needs the AWS CLI v2 with
credentials, jq and the deployed mesh stack (servers in Auto Scaling groups: consul.servers, not
consul.serverPrivateIps; fixed servers are replaced with `terraform apply -replace`, README).
  --poll-seconds <n>   how often to ask for the refresh status (default 30)
  --rotate-gossip-key  instead: a new gossip key, through the servers' HTTPS API (the keyring
                       endpoint behind consul keyring -install, -use, -remove): installed on every
                       member, made primary, stored in the gossip key secret, then the old key
                       removed. Fixed or Auto Scaling servers. Needs curl and openssl, the port
                       forward (scripts/consul-port-forward.sh) and CONSUL_CACERT (the CA
                       certificate file, README); CONSUL_HTTP_ADDR defaults to https://localhost:8501
  -h, --help           this text
USAGE
}

poll=30 rotate_gossip_key=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --rotate-gossip-key) rotate_gossip_key=1 ;;
    --poll-seconds) poll="$(option_value "$@")"; shift ;;
    --poll-seconds=*) poll="${1#*=}" ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  shift
done
[[ "$poll" =~ ^[0-9]+$ ]] || die "--poll-seconds must be a number, got '$poll'"

# The gossip key rotation. Keys and the token pass through files in a private folder and stdin,
# never through a command line. A member that has not installed the new key stops the rotation
# before it is used, and the old key is removed only once the new one is primary everywhere and
# stored: tasks that start afterwards read the new key from the secret.
rotate_gossip() {
  require_command jq "install jq"
  require_command curl "install curl"
  require_command openssl "install openssl"
  require_aws_credentials
  local addr="${CONSUL_HTTP_ADDR:-https://localhost:8501}" cacert="${CONSUL_CACERT:-}" gossip_arn token_arn work
  { [ -n "$cacert" ] && [ -f "$cacert" ]; } || die "CONSUL_CACERT must name the CA certificate file (README: read it with aws secretsmanager get-secret-value)"
  gossip_arn="$(terraform_output mesh consul_gossip_key_secret_arn)"
  token_arn="$(terraform_output mesh consul_management_token_secret_arn)"
  work="$(mktemp -d)"
  # shellcheck disable=SC2064 # the folder is known now
  trap "rm -rf '$work'" EXIT
  umask 077
  aws secretsmanager get-secret-value --secret-id "$token_arn" --query SecretString --output text > "$work/token" ||
    die "could not read the management token ($token_arn)"
  # It becomes a header line: anything but a UUID (a CR, another header) stops here.
  [[ "$(cat "$work/token")" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
    die "the management token secret ($token_arn) does not hold a Consul token (a UUID): nothing was changed"
  { printf 'X-Consul-Token: '; tr -d '\n' < "$work/token"; printf '\n'; } > "$work/header"
  aws secretsmanager get-secret-value --secret-id "$gossip_arn" --query SecretString --output text > "$work/old" || die "could not read the gossip key ($gossip_arn)"
  tr -d '\n' < "$work/old" > "$work/old.key" && mv "$work/old.key" "$work/old"
  openssl rand -base64 32 | tr -d '\n' > "$work/new"
  [[ "$(cat "$work/old")" =~ ^[A-Za-z0-9+/]{43}=$ ]] || die "the gossip key secret ($gossip_arn) does not hold 32 base64 bytes: nothing was changed"
  [[ "$(cat "$work/new")" =~ ^[A-Za-z0-9+/]{43}=$ ]] || die "openssl rand did not give 32 base64 bytes: nothing was changed"
  for key in old new; do jq -n --rawfile key "$work/$key" '{Key: $key}' > "$work/$key.json"; done
  keyring() { # keyring METHOD [BODY]: the keyring endpoint's answer (a list per datacenter and pool)
    local body=()
    [ "$#" -lt 2 ] || body=(--data-binary "@$work/$2")
    curl --fail --silent --show-error --cacert "$cacert" --header "@$work/header" --request "$1" "${body[@]}" "$addr/v1/operator/keyring"
  }
  # everywhere FIELD KEY: the key is in FIELD (Keys, PrimaryKeys) of every member of every pool.
  everywhere() {
    keyring GET > "$work/keyring.json" || return 1
    jq -e --arg field "$1" --rawfile key "$work/$2" 'length > 0 and all(.[]; (.[$field] // {})[$key] == .NumNodes)' "$work/keyring.json" > /dev/null
  }
  everywhere Keys old || die "the key in the gossip key secret ($gossip_arn) is not installed on every member: nothing was changed; check consul keyring -list"
  keyring POST new.json > /dev/null || die "installing the new key failed: nothing else was changed"
  everywhere Keys new || die "the new key is not installed on every member (see consul keyring -list): it was not made primary, the old key still is; run again once every member is up"
  echo "new gossip key installed on every member" >&2
  keyring PUT new.json > /dev/null || die "making the new key primary failed: both keys are installed, the old one is primary; run again"
  everywhere PrimaryKeys new || die "the new key is not primary on every member (see consul keyring -list); the secret still holds the old key"
  echo "new gossip key is primary on every member" >&2
  jq -n --arg id "$gossip_arn" --arg token "gossip-key-rotation-$(date -u +%Y%m%dT%H%M%SZ)-$(openssl rand -hex 8)" --rawfile value "$work/new" \
    '{SecretId: $id, ClientRequestToken: $token, SecretString: $value}' > "$work/put.json"
  aws secretsmanager put-secret-value --cli-input-json "file://$work/put.json" > /dev/null ||
    die "storing the new key in $gossip_arn failed: every member uses it, and the old key is still installed (tasks started now still join); run again"
  echo "new gossip key stored in $gossip_arn" >&2
  keyring DELETE old.json > /dev/null || die "removing the old key failed: remove it with consul keyring -remove once you checked the members"
  { keyring GET > "$work/keyring.json" && jq -e --rawfile key "$work/old" 'all(.[]; (.Keys // {}) | has($key) | not)' "$work/keyring.json" > /dev/null; } ||
    die "the old key is still installed on some member: remove it with consul keyring -remove"
  echo "gossip key rotated: the old key is removed from every member" >&2
}
if ((rotate_gossip_key)); then
  rotate_gossip
  exit 0
fi

require_command jq "install jq"
require_aws_credentials
groups_json="$(terraform_output_json mesh consul_server_groups)" \
  || die "no Auto Scaling groups of Consul servers: servers at fixed addresses (consul.serverPrivateIps) are replaced one at a time with terraform apply -replace (README: Upgrading Consul)"
mapfile -t groups < <(jq -r '.[]' <<<"$groups_json")
[ "${#groups[@]}" -gt 0 ] || die "output consul_server_groups is empty"

for group in "${groups[@]}"; do
  # One instance per group: nothing may stay in service while it is replaced (0 %), and the new
  # instance counts as healthy only once its lifecycle hook completed (the cluster is healthy with it).
  refresh="$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$group" \
    --preferences '{"MinHealthyPercentage":0,"MaxHealthyPercentage":100,"SkipMatching":false}' \
    --query InstanceRefreshId --output text)"
  echo "$group: instance refresh $refresh started" >&2
  while true; do
    status="$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$group" --instance-refresh-ids "$refresh" \
      --query 'InstanceRefreshes[0].Status' --output text)"
    case "$status" in
      Successful) echo "$group: replaced" >&2; break ;;
      # Still running (None: not listed yet right after the start).
      Pending | InProgress | Baking | Cancelling | RollbackInProgress | None) sleep "$poll" ;;
      *) die "$group: instance refresh $refresh ended $status; the remaining servers were not touched. Check the group's activity and the new server's console output" ;;
    esac
  done
done
echo "all ${#groups[@]} Consul servers replaced, one at a time" >&2
