#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster, never a real database:
#
#   scripts/with-postgres.sh cargo test -p switchboard-server --test server
#
# It initdb's a fresh cluster in a temporary directory (UTF-8, locale C.UTF-8, no fsync), starts it
# on a unix socket in that directory and on a free port of 127.0.0.1 (TLS only there), exports
# SWITCHBOARD_TEST_DATABASE_URL (the socket; the cluster's `postgres` database as its superuser;
# the server tests create a database per test server through it) and
# SWITCHBOARD_TEST_DATABASE_TLS_URL (the same over TCP with sslmode=verify-full, trusting a CA made
# for this run, whose certificate names localhost), and runs the command. The cluster is stopped
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

# A CA of this run's own and a certificate for localhost signed by it, for the TLS URL; TCP takes
# TLS connections only.
tls=$dir/tls
mkdir "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=switchboard test CA" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" >/dev/null 2>&1 || die "openssl could not make a CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" \
  -out "$tls/server.csr" >/dev/null 2>&1 || die "openssl could not make a certificate request"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tls/san.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
  -days 2 -extfile "$tls/san.ext" -out "$tls/server.crt" >/dev/null 2>&1 || die "openssl could not sign"
chmod 600 "$tls/server.key"
printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n' >"$dir/data/pg_hba.conf"
if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$tls" "$dir/data/pg_hba.conf"; fi

# One port for the socket's name and TCP: a free one, so clusters of several runs can coexist.
port=$("$(dirname "$0")/free-port.sh")
options="-k $dir -c listen_addresses=127.0.0.1 -c port=$port -c fsync=off -c full_page_writes=off"
options+=" -c synchronous_commit=off -c max_connections=300"
# As README's "Retention and erasure" asks of an operator: WAL segments are deleted, not recycled
# with their old bytes (tests/server/erasure.rs searches pg_wal/ after an erasure).
options+=" -c wal_recycle=off"
options+=" -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key"

started=1
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" -o "$options" start >/dev/null ||
  { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }

export SWITCHBOARD_TEST_DATABASE_URL="postgresql:///postgres?host=$dir&port=$port&user=postgres"
export SWITCHBOARD_TEST_DATABASE_TLS_URL="postgresql://postgres@localhost:$port/postgres?sslmode=verify-full&sslrootcert=$tls/ca.crt"
echo "with-postgres: a throwaway cluster in $dir" >&2
status=0
"$@" || status=$?
exit "$status"
