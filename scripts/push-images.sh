#!/usr/bin/env bash
# Images of the tls-edge stack: builds the Flask app (app/flask) and pushes it to the stack's ECR
# repository under an immutable tag (git short SHA + hash of the build context), mirrors the
# pinned official Envoy image (lib/versions.ts) into its repository, and the pinned metrics
# collector into its own when the stack has one (observability.metrics), and prints the tag to
# deploy as app_image_tag on stdout (everything else goes to stderr). Every image is of the
# platform the tasks run (the stack's output cpu_architecture, tlsEdge.cpuArchitecture); one of
# another platform, built or already in ECR, is refused.
#
# Needs: docker with a running engine, the AWS CLI with credentials, and the stack deployed
# (its ECR repositories exist and cdktf.out/stacks/<stack> holds its state).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
  cat <<'EOF'
usage: scripts/push-images.sh [--tag-only] [--stack <name>] [--app-dir <dir>] [--help]

Builds the Flask app image and pushes it to the TLS edge stack's ECR repository under an immutable
tag, mirrors the pinned Envoy image (and the metrics collector, when the stack ships metrics),
all for the tasks' platform (stack output cpu_architecture: linux/amd64 or linux/arm64),
and prints the tag on stdout (deploy it as app_image_tag).
Needs Docker with a running engine, the AWS CLI v2 with credentials and the deployed stack.
  --tag-only         print the tag this checkout would get, and stop (no Docker, no AWS)
  --stack <name>     the TLS edge stack (default: $TLS_EDGE_STACK, else tls-edge)
  --app-dir <dir>    the image's build context (default: $APP_DIR, else app/flask)
  -h, --help         this text
EOF
}

stack="${TLS_EDGE_STACK:-tls-edge}"
app_dir="${APP_DIR:-app/flask}"
tag_only=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --tag-only) tag_only=1 ;;
    --stack) stack="$(option_value "$@")"; shift ;;
    --stack=*) stack="${1#*=}" ;;
    --app-dir) app_dir="$(option_value "$@")"; shift ;;
    --app-dir=*) app_dir="${1#*=}" ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
  shift
done

[ -f "$app_dir/Dockerfile" ] || die "$app_dir/Dockerfile not found: run from a checkout of this project, or pass --app-dir <build context>"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi
}

# Hash of every file in the build context (names and contents), so a rebuild of the same
# sources gets the same tag and any change, committed or not, gets a new one.
content_hash() {
  local file
  (
    cd "$app_dir"
    find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z |
      while IFS= read -r -d '' file; do
        printf '%s  %s\n' "$(sha256 <"$file" | cut -d' ' -f1)" "$file"
      done
  ) | sha256 | cut -c1-12
}

git_sha="$(git rev-parse --short=12 HEAD 2>/dev/null || echo nogit)"
tag="$git_sha-$(content_hash)"
if [ "$tag_only" = 1 ]; then
  echo "$tag"
  exit 0
fi
if [ "$git_sha" != nogit ] && [ -n "$(git status --porcelain -- "$app_dir" 2>/dev/null)" ]; then
  echo "warning: $app_dir has uncommitted changes: the tag's content hash covers them, its git SHA does not" >&2
fi

require_command docker "install Docker (https://docs.docker.com/get-docker/)"
docker info >/dev/null 2>&1 ||
  die "the Docker engine is not running or not reachable (docker info failed): start Docker Desktop or the docker service, or check DOCKER_HOST and your permissions"
require_aws_credentials

app_repo="$(terraform_output "$stack" ecr_repository_url)"
envoy_repo="$(terraform_output "$stack" envoy_repository_url)"
envoy_source="$(terraform_output "$stack" envoy_source_image)"
envoy_tag="$(terraform_output "$stack" envoy_image_tag)"
cpu_architecture="$(terraform -chdir="cdktf.out/stacks/$stack" output -raw cpu_architecture 2>/dev/null || true)"
case "$cpu_architecture" in
  X86_64) platform=linux/amd64 ;;
  ARM64) platform=linux/arm64 ;;
  "") die "stack $stack has no output cpu_architecture (the tasks' platform): deploy it with this checkout (npx cdktf deploy $stack) and run this again" ;;
  *) die "stack $stack's output cpu_architecture is '$cpu_architecture': this script builds for X86_64 (linux/amd64) or ARM64 (linux/arm64) only" ;;
esac
# The collector's mirror exists only when the edge ships metrics: no such output, nothing to mirror.
collector_repo="$(terraform -chdir="cdktf.out/stacks/$stack" output -raw collector_repository_url 2>/dev/null || true)"
if [ -n "$collector_repo" ]; then
  collector_source="$(terraform_output "$stack" collector_source_image)"
  collector_tag="$(terraform_output "$stack" collector_image_tag)"
fi

registry="${app_repo%%/*}"
if [[ ! "$registry" =~ ^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$ ]]; then
  die "output ecr_repository_url ($app_repo) is not an ECR repository URL"
fi
region="${BASH_REMATCH[1]}"

image_exists() { # image_exists REPOSITORY_URL TAG
  aws ecr describe-images --region "$region" --repository-name "${1#*/}" --image-ids "imageTag=$2" >/dev/null 2>&1
}

# Refuses a local image that is not of the tasks' platform: the task would stop with "exec format
# error". require_platform IMAGE FIX
require_platform() {
  local actual
  actual="$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$1")" || die "docker image inspect $1 failed"
  [ "$actual" = "$platform" ] || die "$1 is $actual, but the tasks run $platform (stack output cpu_architecture: $cpu_architecture); $2"
}

# An image already in ECR under an immutable tag: pulled for the tasks' platform and checked, as
# it may have been pushed for another before tlsEdge.cpuArchitecture changed.
check_existing() { # check_existing REPOSITORY_URL TAG
  local fix="its tag is immutable: delete it (aws ecr batch-delete-image --region $region --repository-name ${1#*/} --image-ids imageTag=$2) and run this again"
  echo "$1:$2 is already in ECR: checking it is $platform" >&2
  docker pull --platform "$platform" "$1:$2" >&2 || die "pulling $1:$2 for $platform failed (an image of another platform?); $fix"
  require_platform "$1:$2" "$fix"
}

echo "logging in to $registry" >&2
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry" >&2 ||
  die "docker login to $registry failed: check the AWS credentials' ECR permissions"

# Tags are immutable: an existing tag already holds exactly these sources.
if image_exists "$app_repo" "$tag"; then
  check_existing "$app_repo" "$tag"
else
  echo "building $app_repo:$tag from $app_dir ($platform, the tasks' platform)" >&2
  docker build --platform "$platform" --pull --tag "$app_repo:$tag" "$app_dir" >&2
  require_platform "$app_repo:$tag" "its base image must publish $platform, and building for another CPU than this machine's needs QEMU (docker run --privileged --rm tonistiigi/binfmt --install all)"
  docker push "$app_repo:$tag" >&2
fi

mirror() { # mirror SOURCE_IMAGE REPOSITORY_URL TAG
  if image_exists "$2" "$3"; then
    check_existing "$2" "$3"
  else
    echo "mirroring $1 ($platform) to $2:$3" >&2
    docker pull --platform "$platform" "$1" >&2 || die "pulling $1 for $platform failed: does it publish $platform?"
    require_platform "$1" "pick an image that publishes $platform, or set tlsEdge.cpuArchitecture to its platform"
    docker tag "$1" "$2:$3"
    docker push "$2:$3" >&2
  fi
}
mirror "$envoy_source" "$envoy_repo" "$envoy_tag"
if [ -n "$collector_repo" ]; then
  mirror "$collector_source" "$collector_repo" "$collector_tag"
fi

echo "deploy it: TF_VAR_app_image_tag=$tag npx cdktf deploy $stack --ignore-missing-stack-dependencies" >&2
echo "$tag"
