# shellcheck shell=bash disable=SC2034
# The stub engine of tools/judges/run-script.ts, sourced by every stub file (which sets stub_name
# and stub_id): records the call, then answers it from the rules the runner wrote for this stub,
# or runs the real program. Builtins only on the common path, so a call costs one bash start.
# A record is NUL-separated, appended with one printf (nothing it holds can contain a NUL):
#   CALL name path answer-key argc args... envc env... has-stdin stdin listc listing... filec (path content)...
: "${stub_name:?the stub file sets stub_name}" "${stub_id:?the stub file sets stub_id}"
__rs=/.run-script
__patterns=() __nresp=() __record_env=() __drop=()
declare -A __out=() __err=() __exit=() __blob=() __blob_after=()
__stdin_when="" __list_dirs=0 __real="" __default=0 __file_prefix=""
if [[ -f $__rs/rules/$stub_id.sh ]]; then
  # shellcheck source=/dev/null
  source "$__rs/rules/$stub_id.sh"
fi
__joined="$*"

__key=""
for __i in "${!__patterns[@]}"; do
  # shellcheck disable=SC2053 # the pattern is a glob on purpose
  if [[ $__joined == ${__patterns[__i]} ]]; then
    __n=0
    if [[ -f $__rs/state/$stub_id.$__i ]]; then read -r __n < "$__rs/state/$stub_id.$__i"; fi
    printf '%s\n' "$((__n + 1))" > "$__rs/state/$stub_id.$__i"
    __key=$__i.$((__n < __nresp[__i] ? __n : __nresp[__i] - 1))
    break
  fi
done
if [[ -z $__key && $__default == 1 ]]; then __key=d; fi
if [[ -n $__real ]]; then __key=real; fi

__has_stdin=0 __stdin=""
# shellcheck disable=SC2053
if [[ -n $__stdin_when && $__joined == $__stdin_when ]]; then
  IFS= read -r -d '' __stdin
  __has_stdin=1
fi
__env=()
for __v in "${__record_env[@]}"; do
  if [[ -v $__v ]]; then __env+=("$__v=${!__v}"); else __env+=("$__v"); fi
done
__listing=()
if ((__list_dirs)); then
  for __a in "$@"; do
    if [[ $__a == /* && -d $__a ]]; then
      while IFS= read -r -d '' __p; do __listing+=("$__p"); done < <(find "$__a" -print0)
    fi
  done
fi
# The content of each file an argument names after the prefix (--cli-input-json file://F), read at the call.
__files=()
if [[ -n $__file_prefix ]]; then
  for __a in "$@"; do
    if [[ $__a == "$__file_prefix"* ]]; then
      __f=${__a#"$__file_prefix"} __c=""
      if [[ -f $__f ]]; then IFS= read -r -d '' __c < "$__f" || true; fi
      __files+=("$__f" "$__c")
    fi
  done
fi
printf '%s\0' CALL "$stub_name" "$0" "${__key:-none}" "$#" "$@" "${#__env[@]}" "${__env[@]}" \
  "$__has_stdin" "$__stdin" "${#__listing[@]}" "${__listing[@]}" "$((${#__files[@]} / 2))" "${__files[@]}" >> "$__rs/calls.log"

if [[ -n $__real ]]; then
  __args=() __skip=0
  for __a in "$@"; do
    if ((__skip)); then __skip=0; continue; fi
    for __d in "${__drop[@]}"; do
      if [[ $__a == "$__d" ]]; then __skip=1; continue 2; fi
    done
    __args+=("$__a")
  done
  if ((__has_stdin)); then exec "$__real" "${__args[@]}" < <(printf '%s' "$__stdin"); fi
  exec "$__real" "${__args[@]}"
fi
if [[ -z $__key ]]; then
  printf 'run-script: stub %s has no scripted answer for: %s\n' "$stub_name" "$__joined" >&2
  exit 97
fi
if [[ -v __blob[$__key] ]]; then
  __target="" __prev=""
  for __a in "$@"; do
    if [[ $__prev == "${__blob_after[$__key]}" ]]; then __target=$__a; fi
    __prev=$__a
  done
  if [[ -z $__target ]]; then
    printf 'run-script: stub %s found no file argument after %s to write\n' "$stub_name" "${__blob_after[$__key]}" >&2
    exit 98
  fi
  cat "$__rs/blobs/${__blob[$__key]}" > "$__target"
fi
if [[ -v __out[$__key] ]]; then printf '%s' "${__out[$__key]}"; fi
if [[ -v __err[$__key] ]]; then printf '%s' "${__err[$__key]}" >&2; fi
exit "${__exit[$__key]:-0}"
