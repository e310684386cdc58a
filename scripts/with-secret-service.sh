#!/usr/bin/env bash
# Runs a command against a throwaway Secret Service, never the user's own keyring:
#
#   scripts/with-secret-service.sh cargo test -p switchboard-core --lib keychain -- --nocapture
#
# It starts a private D-Bus session (dbus-run-session), a fresh gnome-keyring-daemon in it whose
# keyring lives in a temporary directory and is unlocked with a random password, checks with
# secret-tool that storing and looking up a secret works, exports SWITCHBOARD_TEST_SECRET_SERVICE=1
# and runs the command. The daemon and the temporary directory are removed afterwards.
#
# Needs: dbus-run-session, gnome-keyring-daemon, secret-tool
#   (Debian/Ubuntu: apt-get install -y dbus-x11 gnome-keyring libsecret-tools)
set -euo pipefail

die() {
  echo "with-secret-service: $*" >&2
  exit 1
}

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARGS...]"

# Stage 2 runs inside the private session. The marker is the temporary directory stage 1 made, and the
# session bus must differ from the one stage 1 saw, so a stray marker can't send us to the real keyring.
if [ -n "${_SWITCHBOARD_SS_WORKDIR:-}" ] && [ -d "$_SWITCHBOARD_SS_WORKDIR" ] &&
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] &&
  [ "$DBUS_SESSION_BUS_ADDRESS" != "${_SWITCHBOARD_SS_OUTER_BUS:-}" ]; then
  workdir=$_SWITCHBOARD_SS_WORKDIR
  unset _SWITCHBOARD_SS_WORKDIR _SWITCHBOARD_SS_OUTER_BUS
  unset GNOME_KEYRING_CONTROL GNOME_KEYRING_PID

  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  # --unlock reads the password on stdin and creates the (empty) login keyring with it, unlocked.
  # XDG_DATA_HOME and XDG_RUNTIME_DIR already point into the temp dir (stage 1); HOME does too, here.
  # Run in the background rather than --daemonize, so we know its pid and stage 1 can always stop it.
  printf '%s' "$password" |
    HOME="$workdir/home" gnome-keyring-daemon --components=secrets --foreground --unlock \
      >"$workdir/gnome-keyring.log" 2>&1 &
  keyring_pid=$!
  echo "$keyring_pid" >"$workdir/gnome-keyring.pid"

  # Wait until our daemon owns the Secret Service name (so nothing D-Bus-activates a second one).
  bus_call() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      "org.freedesktop.DBus.$1" "string:org.freedesktop.secrets" 2>/dev/null
  }
  owner=
  for _ in $(seq 1 200); do
    kill -0 "$keyring_pid" 2>/dev/null || break
    owner=$(bus_call GetConnectionUnixProcessID | awk '/uint32/ { print $2 }') || true
    [ -n "$owner" ] && break
    sleep 0.05
  done
  if [ "$owner" != "$keyring_pid" ]; then
    cat "$workdir/gnome-keyring.log" >&2 || true
    die "gnome-keyring-daemon (pid $keyring_pid) did not take over the Secret Service (owner: ${owner:-none})"
  fi
  [ -S "$XDG_RUNTIME_DIR/keyring/control" ] ||
    die "gnome-keyring-daemon is not using the private runtime dir $XDG_RUNTIME_DIR"
  export GNOME_KEYRING_CONTROL="$XDG_RUNTIME_DIR/keyring"

  # Prove the Secret Service answers and the default collection is unlocked (retry while it settles).
  probe=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  ok=
  for _ in $(seq 1 50); do
    if printf '%s' "$probe" | secret-tool store --label='switchboard probe' switchboard-probe "$probe" \
      2>"$workdir/probe.err" &&
      [ "$(secret-tool lookup switchboard-probe "$probe" 2>>"$workdir/probe.err")" = "$probe" ]; then
      ok=1
      break
    fi
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    cat "$workdir/probe.err" >&2 || true
    die "the Secret Service in the private session does not work (secret-tool store/lookup failed)"
  fi
  secret-tool clear switchboard-probe "$probe" || true
  echo "with-secret-service: gnome-keyring Secret Service ready" \
    "(pid $keyring_pid, keyrings in $XDG_DATA_HOME/keyrings, bus $DBUS_SESSION_BUS_ADDRESS)" >&2

  export SWITCHBOARD_TEST_SECRET_SERVICE=1
  exec "$@"
fi

# Stage 1: check the tools, make the temp dir, re-run this script under dbus-run-session, clean up.
for tool in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
  command -v "$tool" >/dev/null ||
    die "$tool not found (Debian/Ubuntu: apt-get install -y dbus-x11 gnome-keyring libsecret-tools)"
done

self=$(readlink -f "${BASH_SOURCE[0]}")
workdir=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-secret-service.XXXXXX")
cleanup() {
  if [ -f "$workdir/gnome-keyring.pid" ]; then
    pid=$(cat "$workdir/gnome-keyring.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do # let it exit before its files are removed
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Set before the bus starts, so the bus daemon and any service it activates (a gnome-keyring started
# on demand would otherwise use ~/.local/share/keyrings) only ever see the temp dir. The keyring files
# go in $XDG_DATA_HOME/keyrings, the control socket in $XDG_RUNTIME_DIR/keyring; a private runtime
# dir also stops the new daemon from finding, and deferring to, a daemon that is already running.
export XDG_DATA_HOME="$workdir/data"
export XDG_RUNTIME_DIR="$workdir/runtime"
mkdir -p -m 700 "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" "$workdir/home"

status=0
# HOME points into the temp dir for the bus (and so for activated services) but is restored for CMD.
HOME="$workdir/home" _SWITCHBOARD_SS_WORKDIR=$workdir _SWITCHBOARD_SS_OUTER_BUS=${DBUS_SESSION_BUS_ADDRESS:-} \
  dbus-run-session -- env HOME="${HOME:-}" bash "$self" "$@" || status=$?
exit "$status"
