#!/usr/bin/env bash
# The demo walkthrough through ECS Exec: runs curl in the client task against its upstream's
# local port and prints the answer ("hello world", or the refusal after a deny intention).
# Usage: scripts/exec-curl.sh [service] [port]   (defaults: http-client 8085)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

service="${1:-http-client}"
port="${2:-8085}"
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
