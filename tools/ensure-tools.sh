#!/usr/bin/env bash
# The tools `npm test` needs besides npm packages, checked before the tests run (npm's pretest):
#   - shellcheck lints every rendered script: a Debian package, installed here with apt-get
#     when missing and running as root (a fresh machine of this project's kind);
#   - terraform >= 1.10 runs variable validation: HashiCorp ships it outside Debian, so it is
#     only checked.
# Anything missing and not installable ends the run with one line naming the tool and the fix.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: tools/ensure-tools.sh [--check] [--help]

Checks the tools npm test needs (shellcheck, terraform >= 1.10); installs shellcheck with
apt-get when it is missing and this runs as root. npm test runs it first (pretest).
  --check   only check: install nothing, fail when a tool is missing
  --help    this text
Skip it with: npm test --ignore-scripts
EOF
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

SHELLCHECK_FIX="install it with 'apt-get install -y shellcheck' as root (Debian/Ubuntu; npm test does this itself when run as root), 'brew install shellcheck' (macOS), or see https://github.com/koalaman/shellcheck#installing"

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

if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$install" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: shellcheck is missing; installing the Debian package shellcheck with apt-get" >&2
    apt_install shellcheck || fail "shellcheck could not be installed with apt-get (its output is above); $SHELLCHECK_FIX"
    command -v shellcheck >/dev/null 2>&1 || fail "shellcheck is still not on PATH after apt-get installed it (PATH=$PATH)"
    echo "ensure-tools: installed $(shellcheck --version | sed -n 's/^version: /shellcheck /p')" >&2
  else
    fail "shellcheck is not installed (the tests lint every rendered script with it): $SHELLCHECK_FIX"
  fi
fi

terraform_fix="install Terraform >= 1.10 from https://developer.hashicorp.com/terraform/install (the tests run it to check variable validation)"
command -v terraform >/dev/null 2>&1 || fail "terraform is not installed: $terraform_fix"
# "Terraform v1.11.4" on the first line; warnings about the CLI config go to stderr.
version="$(terraform version 2>/dev/null | sed -n 's/^Terraform v\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' | head -n 1)"
[ -n "$version" ] || fail "terraform version printed no version: $terraform_fix"
read -r major minor <<<"$version"
if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 10 ]; }; then
  fail "terraform $major.$minor is too old: $terraform_fix"
fi
