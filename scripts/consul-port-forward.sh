#!/usr/bin/env bash
# Forwards the Consul HTTPS API (8501) of the server to localhost through an SSM session, so
# the intentions stack and the UI work while admin_cidr stays closed. Leave it running, then:
#   npx cdktf deploy intentions          (uses consul_address = 127.0.0.1:8501)
#   open https://localhost:8501/ui/      (log in with the management token, see README)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

local_port="${1:-8501}"
[[ "$local_port" =~ ^[0-9]+$ ]] || die "local port must be a number, got '$local_port'"

require_aws_credentials
require_command session-manager-plugin "install the Session Manager plugin (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)"

instance="$(terraform_output mesh consul_server_instance_id)"
aws ssm start-session --target "$instance" --document-name AWS-StartPortForwardingSession \
  --parameters "portNumber=8501,localPortNumber=$local_port"
