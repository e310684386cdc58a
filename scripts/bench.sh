#!/usr/bin/env bash
# The benchmark command. Builds the harness, the app and the hello-world baseline, then measures
# every figure of the performance issue, each next to its baseline from the same run, and writes
# a Markdown table and JSON (default bench-results/; --out DIR to change).
#
#   scripts/bench.sh            # full: 100k conversations, 1M messages, release build (~15 min)
#   scripts/bench.sh --quick    # small presets on the debug build, in about a minute (CI runs it)
#
# The app figures need a display and a Secret Service: this starts Xvfb when there is no display,
# and always runs inside a throwaway keyring (scripts/with-secret-service.sh), never your own.
# Timings are reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
for arg in "$@"; do
  [ "$arg" = --quick ] && profile=debug
done

# The app embeds the built UI.
[ -f ui/dist/index.html ] || npm --prefix ui run build
if [ "$profile" = release ]; then
  cargo build --release --locked --workspace --bins
else
  # The same build the test script makes, so nothing is rebuilt.
  cargo build --locked --workspace --all-targets
fi

if [ -z "${DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null || { echo "bench: Xvfb is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  display=:$((110 + RANDOM % 9))
  Xvfb "$display" -screen 0 1440x900x24 -nolisten tcp >/tmp/switchboard-bench-xvfb.log 2>&1 &
  xvfb_pid=$!
  trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
  export DISPLAY=$display
  for _ in $(seq 1 50); do
    [ -e "/tmp/.X11-unix/X${display#:}" ] && break
    sleep 0.1
  done
fi

scripts/with-secret-service.sh "target/$profile/switchboard-bench" "$@"
