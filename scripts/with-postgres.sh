#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster, never a real database:
#
#   scripts/with-postgres.sh cargo test -p switchboard-server --test server
#
# It initdb's a fresh cluster in a temporary directory (UTF-8, locale C.UTF-8, no fsync), starts it
# listening only on a unix socket in that directory (nothing on TCP), exports
# SWITCHBOARD_TEST_DATABASE_URL (the cluster's `postgres` database as its superuser; the server
# tests create a database per test server through it) and runs the command. The cluster is stopped
# and deleted afterwards, whatever the command did. If PostgreSQL does not start, this fails: a
# suite that needs it is never skipped.
#
# As root, the cluster runs as the `postgres` user (initdb refuses root).
# Needs: PostgreSQL 15's server binaries (Debian/Ubuntu: apt-get install -y postgresql-15).
set -euo pipefail

die() {
  echo "with-postgres: $*" >&2
  exit 1
}

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARGS...]"

bin=${SWITCHBOARD_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] ||
  die "no PostgreSQL server binaries in $bin (install postgresql-15, or set SWITCHBOARD_PG_BIN)"

# The socket path must stay short (unix sockets allow ~107 bytes), so not under a long $TMPDIR.
dir=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to own the cluster"
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi

started=
cleanup() {
  if [ -n "$started" ]; then
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync \
  --locale=C.UTF-8 --encoding=UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; die "initdb failed"; }

port=5432
options="-k $dir -c listen_addresses='' -c port=$port -c fsync=off -c full_page_writes=off"
options+=" -c synchronous_commit=off -c max_connections=300"
started=1
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" -o "$options" start >/dev/null ||
  { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }

export SWITCHBOARD_TEST_DATABASE_URL="postgresql:///postgres?host=$dir&port=$port&user=postgres"
echo "with-postgres: a throwaway cluster in $dir" >&2
status=0
"$@" || status=$?
exit "$status"
