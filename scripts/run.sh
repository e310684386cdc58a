#!/usr/bin/env bash
# Sets up what is missing, starts the demo server on 127.0.0.1:7300 (seeded workspace, simulated
# customer traffic) and opens the desktop app signed in to it as Sara, an agent. Closing the app
# stops the server. Needs a desktop session (a display and a Secret Service keyring, as any
# GNOME/KDE desktop has).
#
#   scripts/run.sh                 # the app, signed in as sara@switchboard.demo
#   scripts/run.sh --server-only   # only the demo server (sign in from another machine or curl)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

scripts/build-ui.sh
cargo build --workspace --locked

demo_dir=${SWITCHBOARD_DEMO_DIR:-target/demo-data}
server_url=http://127.0.0.1:7300
if [ "${1:-}" = "--server-only" ]; then
  exec target/debug/switchboard-server demo --data-dir "$demo_dir" --listen 127.0.0.1:7300
fi

target/debug/switchboard-server demo --data-dir "$demo_dir" --listen 127.0.0.1:7300 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "$server_url/api/v1/openapi.json" >/dev/null && break
  kill -0 $server_pid 2>/dev/null || { echo "run: the demo server did not start" >&2; exit 1; }
  sleep 0.2
done

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display here, so only the server runs (at $server_url); press Ctrl+C to stop." >&2
  wait $server_pid
  exit 0
fi

# The app keeps this demo's account apart from any real one.
SWITCHBOARD_DATA_DIR=${SWITCHBOARD_APP_DATA_DIR:-target/demo-app-data} \
SWITCHBOARD_SERVER_URL=$server_url \
SWITCHBOARD_AUTO_SIGN_IN=sara@switchboard.demo:switchboard-demo \
  target/debug/switchboard
