#!/usr/bin/env bash
# The tools `npm test` needs besides npm packages, checked before the tests run (npm's pretest):
#   - Debian packages: shellcheck lints every rendered script; the script runner judge runs
#     them with the real jq, unzip and sha256sum, brings up loopback with ip (iproute2) and
#     isolates them with unshare (util-linux). Installed here with apt-get when missing and
#     running as root (a fresh machine of this project's kind);
#   - terraform >= 1.11 runs variable validation and checks required_version: HashiCorp ships it outside Debian, so it is
#     only checked.
# Anything missing and not installable ends the run with one line naming the tool and the fix.
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
usage: tools/ensure-tools.sh [--check] [--help]

Checks the tools npm test needs (shellcheck, jq, unzip, sha256sum, ip, unshare, terraform >= 1.11);
installs the missing Debian packages with apt-get when this runs as root. npm test runs it first
(pretest).
  --check   only check: install nothing, fail when a tool is missing
  --help    this text
Skip it with: npm test --ignore-scripts
EOF_USAGE
}

install=1
while [ "$#" -gt 0 ]; do
  case "$1" in
    --check) install=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "ensure-tools: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

fail() {
  echo "ensure-tools: $*" >&2
  exit 1
}

# command:Debian package
TOOLS=(shellcheck:shellcheck jq:jq unzip:unzip sha256sum:coreutils ip:iproute2 unshare:util-linux)

# Fresh Debian images ship without package lists: try the install, and on failure refresh the
# lists once and retry (stale lists fail the same way). apt's output is shown only on failure.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local log
  log="$(mktemp)"
  if apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 ||
    { apt-get update -qq >>"$log" 2>&1 && apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1; }; then
    rm -f "$log"
    return 0
  fi
  cat "$log" >&2
  rm -f "$log"
  return 1
}

missing_commands() {
  local tool
  for tool in "${TOOLS[@]}"; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || printf '%s\n' "$tool"
  done
}

missing=()
while IFS= read -r tool; do missing+=("$tool"); done < <(missing_commands)
if [ "${#missing[@]}" -gt 0 ]; then
  commands="$(printf '%s ' "${missing[@]%%:*}")"
  packages="$(printf '%s\n' "${missing[@]#*:}" | sort -u | tr '\n' ' ')"
  fix="install the Debian packages with 'apt-get install -y ${packages% }' as root (npm test does this itself when run as root), or your system's packages (macOS: brew install ${packages% })"
  if [ "$install" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: ${commands% } missing; installing the Debian packages ${packages% } with apt-get" >&2
    # shellcheck disable=SC2086 # one word per package
    apt_install ${packages% } || fail "${commands% } could not be installed with apt-get (its output is above); $fix"
    still="$(missing_commands | sed 's/:.*//' | tr '\n' ' ')"
    [ -z "$still" ] || fail "${still% } still not on PATH after apt-get installed them (PATH=$PATH)"
    echo "ensure-tools: installed ${packages% }" >&2
  else
    fail "${commands% } not installed (the tests run every rendered script through them): $fix"
  fi
fi

terraform_fix="install Terraform >= 1.11 from https://developer.hashicorp.com/terraform/install (the tests run it to check variable validation)"
command -v terraform >/dev/null 2>&1 || fail "terraform is not installed: $terraform_fix"
# "Terraform v1.11.4" on the first line; warnings about the CLI config go to stderr.
version="$(terraform version 2>/dev/null | sed -n 's/^Terraform v\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' | head -n 1)"
[ -n "$version" ] || fail "terraform version printed no version: $terraform_fix"
read -r major minor <<<"$version"
if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 11 ]; }; then
  fail "terraform $major.$minor is too old: $terraform_fix"
fi
