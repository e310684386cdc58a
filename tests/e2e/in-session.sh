#!/usr/bin/env bash
# The part of tests/e2e/run.sh that runs inside the private D-Bus session, with the nodes of
# scripts/run-nodes.sh up.
set -euo pipefail
root=$PWD
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export SWITCHBOARD_E2E_NOTIFY_LOG=$work/notify.log
dbus-monitor --session "interface='org.freedesktop.Notifications',member='Notify'" >"$SWITCHBOARD_E2E_NOTIFY_LOG" 2>&1 &
pids+=($!)
dunst >"$work/dunst.log" 2>&1 &
pids+=($!)

port=$(scripts/free-port.sh)
native_port=$(scripts/free-port.sh)
# The app inherits this environment from tauri-driver: its own data directory, nothing shared. The
# test empties it between its two sessions.
export SWITCHBOARD_E2E_APP_DATA=$work/app-data
SWITCHBOARD_DATA_DIR=$SWITCHBOARD_E2E_APP_DATA tauri-driver --port "$port" --native-port "$native_port" >"$work/tauri-driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break
  sleep 0.1
done

export SWITCHBOARD_E2E_APP=$root/target/debug/switchboard
export SWITCHBOARD_E2E_WEBDRIVER=http://127.0.0.1:$port
status=0
# The test binary from the workspace's build, run directly: `cargo test --test e2e` would resolve
# features for that narrower selection and recompile part of the workspace (scripts/test-binary.sh).
scripts/test-binary.sh e2e --nocapture 2>&1 | tee "$work/e2e.log" || status=$?
if [ "$status" -ne 0 ] || ! grep -q SWITCHBOARD_E2E_PASSED "$work/e2e.log"; then
  echo "e2e: failed; tauri-driver log:" >&2
  tail -50 "$work/tauri-driver.log" >&2 || true
  exit 1
fi
# The app's output lands in tauri-driver's log. A panic on any of its threads fails the test, even
# when the window carried on (a start-up thread once panicked unseen, and its work never happened).
if grep -q "panicked at" "$work/tauri-driver.log"; then
  echo "e2e: the app panicked:" >&2
  grep -A12 "panicked at" "$work/tauri-driver.log" >&2
  exit 1
fi
