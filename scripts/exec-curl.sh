#!/usr/bin/env bash
# The demo walkthrough through ECS Exec: runs curl in the client task against its upstream's
# local port and prints the answer ("hello world", or the refusal after a deny intention).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
  cat <<'EOF'
usage: scripts/exec-curl.sh [--service <name>] [--port <port>] [--help]
       scripts/exec-curl.sh [<service> [<port>]]

Runs `curl 127.0.0.1:<port>` in a running task of <service> through ECS Exec and prints the answer.
Needs the AWS CLI v2 with credentials, the Session Manager plugin and the deployed mesh stack.
  --service <name>   the calling service (default http-client)
  --port <port>      its upstream's local bind port (default 8085)
  -h, --help         this text
EOF
}

service=http-client
port=8085
positionals=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --service) service="$(option_value "$@")"; shift ;;
    --service=*) service="${1#*=}" ;;
    --port) port="$(option_value "$@")"; shift ;;
    --port=*) port="${1#*=}" ;;
    -*) usage_error "unknown option '$1'" ;;
    *) positionals+=("$1") ;;
  esac
  shift
done
[ "${#positionals[@]}" -le 2 ] || usage_error "too many arguments: ${positionals[*]}"
[ "${#positionals[@]}" -lt 1 ] || service="${positionals[0]}"
[ "${#positionals[@]}" -lt 2 ] || port="${positionals[1]}"
[[ "$service" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] || die "service must be a service name of the spec (a DNS label), got '$service'"
[[ "$port" =~ ^[0-9]+$ ]] || die "port must be a number, got '$port'"

require_aws_credentials
require_command session-manager-plugin "install the Session Manager plugin (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)"

cluster="$(terraform_output mesh ecs_cluster_name)"
task="$(aws ecs list-tasks --cluster "$cluster" --service-name "$cluster-$service" --desired-status RUNNING \
  --query 'taskArns[0]' --output text)"
if [ -z "$task" ] || [ "$task" = "None" ]; then
  die "no running task of service $cluster-$service"
fi

echo "curl 127.0.0.1:$port in $task (container app):" >&2
aws ecs execute-command --cluster "$cluster" --task "$task" --container app --interactive \
  --command "curl -sS --max-time 5 http://127.0.0.1:$port/"
