# Shared by the operator scripts: fail early, with the fix, when a tool or credentials are missing.
# shellcheck shell=bash

# inherit_errexit (a failure inside $(...) stops the script too) needs bash 4.4; macOS ships 3.2.
if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4))); then
  echo "error: these scripts need bash 4.4 or later, this is $BASH_VERSION (macOS: brew install bash, then run them with that bash)" >&2
  exit 1
fi
shopt -s inherit_errexit

die() {
  echo "error: $*" >&2
  exit 1
}

# A bad command line: the reason and the usage (the script's own usage function) on stderr, exit 2.
usage_error() {
  echo "error: $*" >&2
  usage >&2
  exit 2
}

# The value of an option that takes one: option_value "$@" while "$1" is the option.
option_value() {
  { [ "$#" -ge 2 ] && [ -n "$2" ] && [[ "$2" != -* ]]; } || usage_error "$1 needs a value"
  printf '%s' "$2"
}

require_command() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

require_aws_credentials() {
  require_command aws "install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)"
  aws sts get-caller-identity >/dev/null 2>&1 ||
    die "no usable AWS credentials: configure a profile (aws configure / aws sso login) or export AWS_PROFILE"
}

# Reads a Terraform output of a deployed stack: terraform_output STACK NAME
terraform_output() {
  require_command terraform "install Terraform >= 1.11"
  local dir="cdktf.out/stacks/$1"
  [ -d "$dir" ] || die "stack $1 is not synthesized here: run 'npm run synth' and deploy it first"
  terraform -chdir="$dir" output -raw "$2" 2>/dev/null || die "stack $1 has no output $2: is it deployed?"
}

# Reads a Terraform output of a deployed stack as JSON: terraform_output_json STACK NAME
terraform_output_json() {
  require_command terraform "install Terraform >= 1.11"
  local dir="cdktf.out/stacks/$1"
  [ -d "$dir" ] || die "stack $1 is not synthesized here: run 'npm run synth' and deploy it first"
  terraform -chdir="$dir" output -json "$2" 2>/dev/null || die "stack $1 has no output $2: is it deployed?"
}

# A running Consul server's instance ID, found by the servers' EC2 tag (output consul_server_tag, "key=value").
running_consul_server() {
  local tag key value instance
  tag="$(terraform_output mesh consul_server_tag)"
  key="${tag%%=*}" value="${tag#*=}"
  instance="$(aws ec2 describe-instances \
    --filters "Name=tag:$key,Values=$value" "Name=instance-state-name,Values=running" \
    --query 'sort_by(Reservations[].Instances[], &InstanceId)[0].InstanceId' --output text)"
  { [ -n "$instance" ] && [ "$instance" != "None" ]; } || die "no running Consul server tagged $tag"
  printf '%s' "$instance"
}
