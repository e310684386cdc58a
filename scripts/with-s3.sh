#!/usr/bin/env bash
# Runs a command against a throwaway S3-compatible server (moto's, in memory), never real S3:
#
#   scripts/with-s3.sh cargo test -p switchboard-server --test server attachments
#
# It starts moto on a free port on 127.0.0.1, creates a bucket, exports the standard AWS_*
# variables pointing at it (dummy credentials, plain HTTP) and SWITCHBOARD_TEST_S3_BUCKET, and runs
# the command. moto is stopped afterwards, whatever the command did. If moto does not start, this
# fails: a suite that needs it is never skipped.
#
# Needs: moto's server (python3 -m pip install 'moto[server]'; scripts/setup.sh installs it).
set -euo pipefail

die() {
  echo "with-s3: $*" >&2
  exit 1
}

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARGS...]"

if command -v moto_server >/dev/null; then
  moto=(moto_server)
elif python3 -c 'import moto.server' 2>/dev/null; then
  moto=(python3 -m moto.server)
else
  die "no moto server (python3 -m pip install 'moto[server]', or run scripts/setup.sh)"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
port=$("$root/scripts/free-port.sh")
log=$(mktemp /tmp/switchboard-s3.XXXXXX.log)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${moto[@]}" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!

endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "moto exited while starting"; }
  if curl -fsS -o /dev/null "$endpoint/moto-api/" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
curl -fsS -o /dev/null "$endpoint/moto-api/" 2>/dev/null || { cat "$log" >&2; die "moto did not start on $endpoint"; }

bucket=switchboard-test
curl -fsS -o /dev/null -X PUT "$endpoint/$bucket" || die "creating bucket $bucket on $endpoint failed"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$endpoint AWS_ALLOW_HTTP=true
export SWITCHBOARD_TEST_S3_BUCKET=$bucket
echo "with-s3: moto on $endpoint, bucket $bucket" >&2
status=0
"$@" || status=$?
exit "$status"
