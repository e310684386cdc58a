#!/usr/bin/env bash
# Runs a command in a private virtual display (Xvfb, 1440×900), stopped afterwards:
#
#   scripts/with-xvfb.sh CMD [ARGS...]
#
# The end-to-end test and the benchmark use it, so windows never open on your own screen and every
# run gets the same screen size.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
command -v Xvfb >/dev/null || { echo "with-xvfb: Xvfb is missing (scripts/setup.sh installs it)" >&2; exit 1; }

# The first display number nobody holds (an X server leaves a lock file and a socket).
number=90
while [ -e "/tmp/.X$number-lock" ] || [ -e "/tmp/.X11-unix/X$number" ]; do
  number=$((number + 1))
done
log=${TMPDIR:-/tmp}/switchboard-xvfb-$number.log
Xvfb ":$number" -screen 0 1440x900x24 -nolisten tcp >"$log" 2>&1 &
xvfb_pid=$!
trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -e "/tmp/.X11-unix/X$number" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || break
  sleep 0.1
done
[ -e "/tmp/.X11-unix/X$number" ] || { cat "$log" >&2; echo "with-xvfb: Xvfb did not start on :$number" >&2; exit 1; }
export DISPLAY=:$number

status=0
"$@" || status=$?
exit "$status"
