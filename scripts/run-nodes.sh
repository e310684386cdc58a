#!/usr/bin/env bash
# Runs several nodes of the built server on one throwaway PostgreSQL database, with nginx in front
# (deploy/nginx.conf), all unprivileged on free ports of 127.0.0.1; for trying it locally and for
# the out-of-process tests:
#
#   scripts/run-nodes.sh                    # 2 nodes; prints the URL and the admin's password,
#                                           # serves until Ctrl-C
#   scripts/run-nodes.sh --nodes 3 CMD ...  # runs CMD with the cluster up, then tears it down
#
# The nodes start together on an empty database (so they race to migrate it), then `init` makes
# the admin. Attachments go to a directory all nodes share (file://), or to the S3 bucket
# with-s3.sh set up when SWITCHBOARD_TEST_S3_BUCKET is set. CMD gets:
#   SWITCHBOARD_NODES_URL             the load balancer, http://127.0.0.1:PORT
#   SWITCHBOARD_NODES_DIR             node-I.port, node-I.pid, node-I.log and node-I.sh (starts
#                                     node I again, as before) for I in 1..N; nginx/ (its logs)
#   SWITCHBOARD_NODES                 N
#   SWITCHBOARD_NODES_DATABASE_URL    the nodes' database
#   SWITCHBOARD_NODES_ADMIN_EMAIL, SWITCHBOARD_NODES_ADMIN_PASSWORD
#
# PostgreSQL: inside scripts/with-postgres.sh (SWITCHBOARD_TEST_DATABASE_URL set) a fresh database
# in that cluster; otherwise it runs itself inside with-postgres.sh. If PostgreSQL, nginx, the
# server binary or a node does not start, this fails: a test that needs them is never skipped.
# Needs: target/debug/switchboard-server (cargo build --workspace --all-targets), nginx, psql,
# curl (scripts/setup.sh installs them). SWITCHBOARD_SERVER_BIN and SWITCHBOARD_NGINX override
# where the binaries are.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() {
  echo "run-nodes: $*" >&2
  exit 1
}

nodes=2
if [ "${1:-}" = --nodes ]; then
  [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [--nodes N] [CMD ARGS...]"
  nodes=$2
  shift 2
fi

server=${SWITCHBOARD_SERVER_BIN:-$root/target/debug/switchboard-server}
nginx=${SWITCHBOARD_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$server" ] || die "no server binary at $server (cargo build --workspace --all-targets --locked)"
[ -x "$nginx" ] || die "nginx is missing (scripts/setup.sh installs it; or set SWITCHBOARD_NGINX)"
command -v psql >/dev/null || die "psql is missing (postgresql-client, installed with postgresql-15)"

case "${SWITCHBOARD_TEST_DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *) exec scripts/with-postgres.sh "$0" --nodes "$nodes" "$@" ;;
esac

# Short, like with-postgres.sh's, and readable by nginx's workers (which run as nobody under root).
dir=$(mktemp -d /tmp/switchboard-nodes.XXXXXX)
chmod 755 "$dir"
pids=()
status=0
cleanup() {
  local pid
  for pid in "${pids[@]}" $(cat "$dir"/node-*.pid 2>/dev/null); do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] && [ "$status" -ne 130 ]; then
    for log in "$dir"/node-*.log "$dir"/nginx/error.log; do
      [ -f "$log" ] || continue
      echo "run-nodes: the last lines of $log:" >&2
      tail -n 20 "$log" >&2
    done
  fi
  rm -rf "$dir"
}
trap 'status=$?; cleanup' EXIT
trap 'exit 130' INT TERM

# A database of its own in the cluster: the nodes find it empty.
name=nodes_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
psql -X -q -v ON_ERROR_STOP=1 -d "$SWITCHBOARD_TEST_DATABASE_URL" -c "CREATE DATABASE $name" ||
  die "could not create a database in $SWITCHBOARD_TEST_DATABASE_URL"
database=$(python3 -c '
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
print(f"{url.scheme}://{url.netloc}/{sys.argv[2]}" + (f"?{url.query}" if url.query else ""))' "$SWITCHBOARD_TEST_DATABASE_URL" "$name")

if [ -n "${SWITCHBOARD_TEST_S3_BUCKET:-}" ]; then
  attachments=s3://$SWITCHBOARD_TEST_S3_BUCKET/$name
else
  mkdir "$dir/attachments"
  attachments=file://$dir/attachments
fi

# Each node is a script, so a test can start a node it stopped again, the same way.
for i in $(seq 1 "$nodes"); do
  port=$(scripts/free-port.sh)
  echo "$port" >"$dir/node-$i.port"
  mkdir "$dir/node-$i"
  cat >"$dir/node-$i.sh" <<EOF
#!/usr/bin/env bash
# Node $i of scripts/run-nodes.sh; appends to node-$i.log.
echo \$\$ >"$dir/node-$i.pid"
# An error's causes, without a backtrace after them.
export RUST_BACKTRACE=0
exec "$server" serve --data-dir "$dir/node-$i" --database "$database" --attachments "$attachments" \\
  --listen 127.0.0.1:$port --node-id node-$i --trusted-proxy 127.0.0.1 >>"$dir/node-$i.log" 2>&1
EOF
  chmod +x "$dir/node-$i.sh"
done
# All at once, on the empty database.
for i in $(seq 1 "$nodes"); do
  "$dir/node-$i.sh" &
  pids+=($!)
done

# Ready when it answers (a request without a token gets the server's 401).
wait_ready() {
  local what=$1 url=$2 pid=$3
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/v1/me" || true)" = 401 ] && return 0
    kill -0 "$pid" 2>/dev/null || die "$what exited before serving"
    sleep 0.1
  done
  die "$what did not answer within 60 s"
}
for i in $(seq 1 "$nodes"); do
  wait_ready "node $i" "http://127.0.0.1:$(cat "$dir/node-$i.port")" "${pids[$((i - 1))]}"
done

admin_email=admin@nodes.example
init=$("$server" init --data-dir "$dir/init" --database "$database" --admin-email "$admin_email" --admin-name "Ada Admin") ||
  die "init failed: $init"
admin_password=$(sed -n 's/^password: //p' <<<"$init")
[ -n "$admin_password" ] || die "init printed no password: $init"

# nginx with deploy/nginx.conf, its nodes and its address filled in, under a minimal main config.
lb_port=$(scripts/free-port.sh)
mkdir "$dir/nginx"
upstreams=$(for i in $(seq 1 "$nodes"); do echo "127.0.0.1:$(cat "$dir/node-$i.port")"; done)
awk -v upstreams="$upstreams" -v listen="127.0.0.1:$lb_port" '
  /# a node$/ {
    if (!done) {
      n = split(upstreams, address, "\n")
      for (i = 1; i <= n; i++) { line = $0; sub(/server [^ ;]+/, "server " address[i], line); print line }
      done = 1
    }
    next
  }
  /# the clients. address$/ { sub(/listen [^;]+;/, "listen " listen ";") }
  { print }
' deploy/nginx.conf >"$dir/nginx/switchboard.conf"
grep -q "127.0.0.1:$lb_port" "$dir/nginx/switchboard.conf" || die "deploy/nginx.conf has no line marked '# the clients' address'"
cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log info;
events { worker_connections 1024; }
http {
  # Which node answered each request, and whether nginx had to try another.
  log_format nodes '\$remote_addr [\$time_local] "\$request" \$status upstream=\$upstream_addr '
                   'upstream_status=\$upstream_status \${request_time}s';
  access_log $dir/nginx/access.log nodes;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  include $dir/nginx/switchboard.conf;
}
EOF
"$nginx" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -g 'daemon off;' &
pids+=($!)
wait_ready nginx "http://127.0.0.1:$lb_port" "${pids[-1]}"

export SWITCHBOARD_NODES_URL=http://127.0.0.1:$lb_port
export SWITCHBOARD_NODES_DIR=$dir
export SWITCHBOARD_NODES=$nodes
export SWITCHBOARD_NODES_DATABASE_URL=$database
export SWITCHBOARD_NODES_ADMIN_EMAIL=$admin_email
export SWITCHBOARD_NODES_ADMIN_PASSWORD=$admin_password

if [ "$#" -eq 0 ]; then
  echo "run-nodes: $nodes nodes behind nginx at $SWITCHBOARD_NODES_URL"
  echo "run-nodes: sign in as $admin_email with password $admin_password"
  echo "run-nodes: logs in $dir (node-I.log, nginx/access.log says which node answered)"
  echo "run-nodes: stop node 1 with: kill \$(cat $dir/node-1.pid); start it again with: $dir/node-1.sh &"
  echo "run-nodes: Ctrl-C stops everything"
  wait "${pids[-1]}"
  exit 0
fi
"$@"
