#!/usr/bin/env bash
# Images of the tls-edge stack: builds the Flask app (app/flask) for the tasks' platform (the
# stack's output cpu_architecture, tlsEdge.cpuArchitecture) and pushes it to the stack's ECR
# repository under an immutable tag (git short SHA + hash of the build context + architecture, so
# switching architectures makes a new tag and never touches the one the running tasks use), mirrors
# the pinned official Envoy image (lib/versions.ts) into its repository, and the pinned collector
# into its own when the stack has one, and prints the tag to deploy as app_image_tag on stdout
# (everything else goes to stderr).
# Mirrors are copied registry to registry with their whole multi-platform index (docker buildx
# imagetools create): no local image store is involved (a single-platform pull of a multi-arch
# image cannot be pushed from Docker's containerd image store, docker/cli#4959), and one mirror
# tag serves every architecture. Each mirror, new or already in ECR, must hold the tasks' platform.
#
# Needs: docker with a running engine and buildx, the AWS CLI with credentials, and the stack
# deployed (its ECR repositories exist and cdktf.out/stacks/<stack> holds its state).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
  cat <<'EOF'
usage: scripts/push-images.sh [--tag-only [--cpu-architecture X86_64|ARM64]] [--stack <name>] [--app-dir <dir>] [--help]

Builds the Flask app image for the tasks' platform (stack output cpu_architecture: linux/amd64 or
linux/arm64) and pushes it to the TLS edge stack's ECR repository under an immutable tag naming
that architecture, mirrors the pinned Envoy image (and the collector, when the stack runs one)
with every platform it publishes, checks each holds the tasks' platform, and prints the tag on
stdout (deploy it as app_image_tag).
Needs Docker with a running engine and buildx, the AWS CLI v2 with credentials and the deployed stack.
  --tag-only         print the tag this checkout would get, and stop (no Docker, no AWS)
  --cpu-architecture X86_64|ARM64
                     with --tag-only: the architecture the tag is for (default: the stack's output)
  --stack <name>     the TLS edge stack (default: $TLS_EDGE_STACK, else tls-edge)
  --app-dir <dir>    the image's build context (default: $APP_DIR, else app/flask)
  -h, --help         this text
EOF
}

stack="${TLS_EDGE_STACK:-tls-edge}"
app_dir="${APP_DIR:-app/flask}"
tag_only=0
tag_architecture=
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --tag-only) tag_only=1 ;;
    --cpu-architecture) tag_architecture="$(option_value "$@")"; shift ;;
    --cpu-architecture=*) tag_architecture="${1#*=}" ;;
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

[ -z "$tag_architecture" ] || [ "$tag_only" = 1 ] || usage_error "--cpu-architecture goes with --tag-only: a push builds for the stack's output cpu_architecture"

# The tasks' platform: the stack's output cpu_architecture (tlsEdge.cpuArchitecture).
stack_architecture() {
  local value
  value="$(terraform -chdir="cdktf.out/stacks/$stack" output -raw cpu_architecture 2>/dev/null || true)"
  [ -n "$value" ] || die "stack $stack has no output cpu_architecture (the tasks' platform): deploy it with this checkout (npx cdktf deploy $stack) and run this again"
  echo "$value"
}
platform_of() { # platform_of CPU_ARCHITECTURE SOURCE
  case "$1" in
    X86_64) echo linux/amd64 ;;
    ARM64) echo linux/arm64 ;;
    *) die "$2 is '$1': this script builds for X86_64 (linux/amd64) or ARM64 (linux/arm64) only" ;;
  esac
}

git_sha="$(git rev-parse --short=12 HEAD 2>/dev/null || echo nogit)"
# The architecture ends the tag: the same sources for another platform are another image.
tag_for() { echo "$git_sha-$(content_hash)-${1#linux/}"; }
if [ "$tag_only" = 1 ]; then
  if [ -n "$tag_architecture" ]; then
    tag_for "$(platform_of "$tag_architecture" "--cpu-architecture")"
  else
    cpu_architecture="$(stack_architecture)"
    tag_for "$(platform_of "$cpu_architecture" "stack $stack's output cpu_architecture")"
  fi
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
cpu_architecture="$(stack_architecture)"
platform="$(platform_of "$cpu_architecture" "stack $stack's output cpu_architecture")"
tag="$(tag_for "$platform")"
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

# Every other output reaches docker's and aws's argv: each must have the shape its stack writes
# (the same registry, an image reference, a Docker tag), so none can become an option or a path.
expect_output() { # expect_output NAME VALUE REGEX WHAT
  [[ "$2" =~ $3 ]] || die "output $1 ($2) is not $4"
}
repository_pattern="^${registry//./\\.}/[a-z0-9][a-z0-9._/-]*$"
image_pattern='^[a-z0-9][a-z0-9._-]*(:[0-9]+)?(/[a-z0-9][a-z0-9._-]*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
tag_pattern='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
expect_output envoy_repository_url "$envoy_repo" "$repository_pattern" "a repository of $registry"
expect_output envoy_source_image "$envoy_source" "$image_pattern" "an image reference with a tag"
expect_output envoy_image_tag "$envoy_tag" "$tag_pattern" "a Docker tag"
if [ -n "$collector_repo" ]; then
  expect_output collector_repository_url "$collector_repo" "$repository_pattern" "a repository of $registry"
  expect_output collector_source_image "$collector_source" "$image_pattern" "an image reference with a tag"
  expect_output collector_image_tag "$collector_tag" "$tag_pattern" "a Docker tag"
fi

image_exists() { # image_exists REPOSITORY_URL TAG
  aws ecr describe-images --region "$region" --repository-name "${1#*/}" --image-ids "imageTag=$2" >/dev/null 2>&1
}

# Whether an image in a registry (one platform, or an index of several) holds the tasks' platform,
# read from its image configs: a single object, or one per platform keyed by it.
has_platform() { # has_platform IMAGE_REF
  local configs
  configs="$(docker buildx imagetools inspect --format '{{json .Image}}' "$1" | tr -d ' \n\t')" || die "docker buildx imagetools inspect $1 failed: is buildx installed (docker buildx version) and the image reachable?"
  [[ "$configs" == *"\"architecture\":\"${platform#linux/}\",\"os\":\"linux\""* ]]
}

echo "logging in to $registry" >&2
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry" >&2 ||
  die "docker login to $registry failed: check the AWS credentials' ECR permissions"

# Tags are immutable and name the architecture: an existing tag already holds exactly these
# sources built for this platform (this script pushes it only after checking that).
if image_exists "$app_repo" "$tag"; then
  echo "$app_repo:$tag is already in ECR" >&2
else
  echo "building $app_repo:$tag from $app_dir ($platform, the tasks' platform)" >&2
  docker build --platform "$platform" --pull --tag "$app_repo:$tag" "$app_dir" >&2
  actual="$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$app_repo:$tag")" || die "docker image inspect $app_repo:$tag failed"
  [ "$actual" = "$platform" ] ||
    die "$app_repo:$tag is $actual, but the tasks run $platform (stack output cpu_architecture: $cpu_architecture); its base image must publish $platform, and building for another CPU than this machine's needs QEMU (docker run --privileged --rm tonistiigi/binfmt --install all)"
  docker push "$app_repo:$tag" >&2
fi

# Copies the source's whole index into ECR, registry to registry; the tag keeps every platform
# the source publishes, so changing tlsEdge.cpuArchitecture needs no new mirror.
mirror() { # mirror SOURCE_IMAGE REPOSITORY_URL TAG
  if image_exists "$2" "$3"; then
    echo "$2:$3 is already in ECR: checking it holds $platform" >&2
    has_platform "$2:$3" ||
      die "$2:$3 holds no $platform image, but the tasks run $platform (stack output cpu_architecture: $cpu_architecture): an older push-images.sh mirrored one platform only; delete it (aws ecr batch-delete-image --region $region --repository-name ${2#*/} --image-ids imageTag=$3) and run this again at once: the new mirror holds every platform $1 publishes, the running tasks' too"
  else
    has_platform "$1" || die "$1 publishes no $platform image, but the tasks run $platform (stack output cpu_architecture: $cpu_architecture): pick an image that publishes it, or set tlsEdge.cpuArchitecture to one it publishes"
    echo "mirroring $1 (every platform it publishes) to $2:$3" >&2
    docker buildx imagetools create --tag "$2:$3" "$1" >&2 || die "copying $1 to $2:$3 failed (docker buildx imagetools create)"
    has_platform "$2:$3" || die "$2:$3, copied from $1, holds no $platform image"
  fi
}
mirror "$envoy_source" "$envoy_repo" "$envoy_tag"
if [ -n "$collector_repo" ]; then
  mirror "$collector_source" "$collector_repo" "$collector_tag"
fi

echo "deploy it: TF_VAR_app_image_tag=$tag npx cdktf deploy $stack --ignore-missing-stack-dependencies" >&2
echo "$tag"
