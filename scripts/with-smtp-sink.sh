#!/usr/bin/env bash
# Runs a command against a throwaway SMTP server that keeps every message it receives (aiosmtpd's
# Maildir handler, from PyPI), on loopback:
#
#   scripts/with-smtp-sink.sh scripts/test-binary.sh server email
#
# It exports SWITCHBOARD_TEST_SMTP_PORT (clear text, no authentication: loopback only) and
# SWITCHBOARD_TEST_SMTP_MAILDIR (a Maildir: each message received is a file in its `new/`),
# runs the command, then stops the server and removes the Maildir. If the server does not
# start, this fails: a suite that needs it is never skipped.
#
# Needs: aiosmtpd (python3 -m pip install aiosmtpd; scripts/setup.sh installs it).
set -euo pipefail

die() {
  echo "with-smtp-sink: $*" >&2
  exit 1
}

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARGS...]"
python3 -c 'import aiosmtpd' 2>/dev/null || die "no aiosmtpd (python3 -m pip install aiosmtpd, or run scripts/setup.sh)"

root=$(cd "$(dirname "$0")/.." && pwd)
port=$("$root/scripts/free-port.sh")
dir=$(mktemp -d /tmp/switchboard-smtp.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir/maildir"/{new,cur,tmp}
python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { cat "$dir/log" >&2; die "aiosmtpd exited while starting"; }
  if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $port), 1); sys.exit(0 if s.recv(100).startswith(b'220') else 1)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null ||
  { cat "$dir/log" >&2; die "aiosmtpd does not answer on 127.0.0.1:$port"; }

export SWITCHBOARD_TEST_SMTP_PORT=$port
export SWITCHBOARD_TEST_SMTP_MAILDIR=$dir/maildir
echo "with-smtp-sink: aiosmtpd on 127.0.0.1:$port, messages in $dir/maildir/new" >&2
status=0
"$@" || status=$?
exit "$status"
