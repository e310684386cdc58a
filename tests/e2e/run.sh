#!/usr/bin/env bash
# Runs the end-to-end test: the built app (target/debug/switchboard, with ui/dist) driven through
# tauri-driver + WebKitWebDriver in a virtual display, with a private D-Bus session that has a
# notification server (dunst), a recorder (dbus-monitor) and a throwaway Secret Service; and two
# nodes of the built server on a throwaway PostgreSQL behind nginx (scripts/run-nodes.sh) for its
# second session, where the node the app is connected to is killed; and a throwaway Dovecot
# (scripts/with-dovecot.sh) whose mailbox an email inbox watches, for the hostile raw emails.
# Screenshots land in $SWITCHBOARD_E2E_SCREENSHOTS (default target/e2e-screenshots).
# SWITCHBOARD_E2E_ONLY=hostile,long_thread runs only those steps after the sign-in (the names in
# tests/e2e/main.rs, only_steps), without the second session: for working on a step.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

for tool in Xvfb xdotool dbus-monitor dunst tauri-driver WebKitWebDriver; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
[ -x target/debug/switchboard ] || { echo "e2e: build the app first (cargo build --workspace --all-targets)" >&2; exit 1; }

export SWITCHBOARD_E2E_SCREENSHOTS=${SWITCHBOARD_E2E_SCREENSHOTS:-$root/target/e2e-screenshots}
mkdir -p "$SWITCHBOARD_E2E_SCREENSHOTS"

# Everything else runs in a private display, inside a private session bus with a throwaway keyring,
# with Dovecot and the nodes up.
scripts/with-xvfb.sh scripts/with-secret-service.sh scripts/with-dovecot.sh \
  scripts/run-nodes.sh --nodes 2 tests/e2e/in-session.sh
