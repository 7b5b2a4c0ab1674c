#!/usr/bin/env bash
# Forwards the Consul HTTPS API (8501) of the server to localhost through an SSM session, so
# the intentions stack and the UI work while admin_cidr stays closed. Leave it running, then:
#   npx cdktf deploy intentions --ignore-missing-stack-dependencies   (uses consul_address = 127.0.0.1:8501)
#   open https://localhost:8501/ui/      (log in with the management token, see README)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
  cat <<'EOF'
usage: scripts/consul-port-forward.sh [--local-port <port>] [--help]

Forwards a running Consul server's HTTPS API (8501) to localhost:<port> through an SSM session,
until interrupted. The server is found by the servers' EC2 tag (output consul_server_tag). Needs the AWS CLI v2 with credentials, the Session Manager plugin and the deployed
mesh stack (cdktf.out/stacks/mesh holds its state).
  --local-port <port>   local port (default 8501); a bare number is accepted too
  -h, --help            this text
EOF
}

local_port=8501
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --local-port) local_port="$(option_value "$@")"; shift ;;
    --local-port=*) local_port="${1#*=}" ;;
    -*) usage_error "unknown option '$1'" ;;
    *) local_port="$1" ;;
  esac
  shift
done
[[ "$local_port" =~ ^[0-9]+$ ]] || die "local port must be a number, got '$local_port'"

require_aws_credentials
require_command session-manager-plugin "install the Session Manager plugin (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)"

instance="$(running_consul_server)"
echo "forwarding localhost:$local_port to Consul server $instance:8501" >&2
aws ssm start-session --target "$instance" --document-name AWS-StartPortForwardingSession \
  --parameters "portNumber=8501,localPortNumber=$local_port"
