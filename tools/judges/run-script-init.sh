#!/bin/bash
# PID 1 of the namespaces tools/judges/run-script.ts creates (unshare has mounted the new PID
# namespace's /proc in the root), still on the host's view of the file system: binds the system
# folders read-only into the root, brings up loopback, drains the /dev/console FIFO, starts the
# test's listeners, then runs the script chrooted. Status goes to files in the control folder,
# so the script's own stdout and stderr stay clean.
# Usage: run-script-init.sh ROOT CONTROL TICK-FIFO (NODE and LISTENER in the environment).
# Every process costs (tens of ms on a loaded machine): builtins wherever they do.
set -euo pipefail
: "${NODE:?the runner passes the node binary}" "${LISTENER:?the runner passes the listener program}"
root=$1 ctl=$2 tick_fifo=$3
setup_failed() {
  printf '%s\n' "$*" > "$ctl/setup-error"
  exit 1
}

# unshare made every mount private: nothing below propagates to the host.
while IFS= read -r -d '' from && IFS= read -r -d '' to && IFS= read -r -d '' access; do
  if [[ $access == ro ]]; then
    mount --bind -o ro "$from" "$to" || setup_failed "binding $from read-only into the root failed"
  else
    mount --bind "$from" "$to" || setup_failed "binding $from into the root failed"
  fi
done < "$ctl/mounts"
# Loopback only, as in a task: 127.0.0.1 refuses where nothing listens; nothing else is reachable.
ip link set lo up || setup_failed "bringing up the loopback interface of the new network namespace failed"

# The console: a FIFO (made by the runner) drained into a file. Opened read-write, so the reader
# never sees end-of-file between two writers, and `> /dev/console` never truncates what was written.
[[ -p $root/dev/console ]] || setup_failed "/dev/console is not the runner's FIFO"
# A builtin pause: read with a timeout from a FIFO nobody writes (no process per wait).
exec {tick}<> "$tick_fifo"
pause() { read -r -t 0.01 -u "$tick" _ || true; }
cat 0<>"$root/dev/console" > "$ctl/console" 2>/dev/null &
reader=$!

declare -A listening=()
while read -r port; do
  "$NODE" -e "$LISTENER" "$port" "$ctl/listener-$port.response" "$ctl/listener-$port.request" "$ctl/listener-$port.ready" \
    < /dev/null > /dev/null 2> "$ctl/listener-$port.error" &
  listening[$port]=$!
done < "$ctl/listeners"
# Bounded by the runner's timeout: node may take seconds to start on a loaded machine.
for port in "${!listening[@]}"; do
  until [[ -e $ctl/listener-$port.ready ]]; do
    kill -0 "${listening[$port]}" 2> /dev/null || setup_failed "the listener on port $port exited: $(< "$ctl/listener-$port.error")"
    pause
  done
done

mapfile -d '' -t argv < "$ctl/argv"
# The umask cloud-init and Docker start processes with.
umask 022
mapfile -d '' -t environment < "$ctl/env"
: > "$ctl/setup-ok"
set +e
chroot "$root" /usr/bin/env -i "${environment[@]}" "${argv[@]}" < "$ctl/stdin" {tick}<&-
status=$?
set -e

# Everything written to the console before the marker has been read once the marker has.
marker="run-script-console-end-$RANDOM$RANDOM"
printf '\n%s\n' "$marker" > "$root/dev/console"
# Bounded by the runner's timeout, not here: a loaded machine may starve the reader for seconds.
while true; do
  IFS= read -r -d '' seen < "$ctl/console" || true
  if [[ $seen == *"$marker"* ]]; then break; fi
  pause
done
kill "$reader" 2> /dev/null || true
# The PID namespace's last PID: how many processes the run took (init's own included).
read -r _ _ _ _ last_pid < "$root/proc/loadavg"
printf '%s\n%s\n%s\n' "$status" "$marker" "$last_pid" > "$ctl/exit"
