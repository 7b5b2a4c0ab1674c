#!/usr/bin/env bash
# Replaces the Consul servers one at a time, each on its current launch template (a new Consul
# version or AMI after `cdktf deploy mesh`), without losing quorum: each server is its own Auto
# Scaling group of one, and a new instance completes its launch lifecycle hook only once the
# cluster is healthy with it (autopilot), so a refresh succeeds only after the replacement has
# joined. The next server is not touched before the previous refresh succeeded; a refresh that
# fails or is cancelled stops the roll.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
  cat <<'USAGE'
usage: scripts/roll-consul-servers.sh [--poll-seconds <n>] [--help]

Starts an instance refresh of each Consul server's Auto Scaling group (output consul_server_groups),
one after the other, and waits for each to succeed before the next. Needs the AWS CLI v2 with
credentials, jq and the deployed mesh stack (servers in Auto Scaling groups: consul.servers, not
consul.serverPrivateIps; fixed servers are replaced with `terraform apply -replace`, README).
  --poll-seconds <n>   how often to ask for the refresh status (default 30)
  -h, --help           this text
USAGE
}

poll=30
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --poll-seconds) poll="$(option_value "$@")"; shift ;;
    --poll-seconds=*) poll="${1#*=}" ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  shift
done
[[ "$poll" =~ ^[0-9]+$ ]] || die "--poll-seconds must be a number, got '$poll'"

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
