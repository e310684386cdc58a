#!/usr/bin/env bash
# Runs a command against a throwaway Dovecot IMAP server (Debian's dovecot-imapd), on loopback:
#
#   scripts/with-dovecot.sh scripts/test-binary.sh server email
#
# It writes a config into a temporary directory (passwd-file users, maildir, no TLS, IMAP on a
# free port of 127.0.0.1, logs and sockets in the directory), starts Dovecot with it, and exports:
#   SWITCHBOARD_TEST_IMAP_PORT      the IMAP port (clear text: loopback only)
#   SWITCHBOARD_TEST_IMAP_USER      a user whose password is SWITCHBOARD_TEST_IMAP_PASSWORD
#   SWITCHBOARD_TEST_IMAP_PASSWORD
#   SWITCHBOARD_TEST_IMAP_COUNTED_USER another user (same password), whom the kick leaves alone:
#                                   a test counts what its sessions fetched in the log
#   SWITCHBOARD_TEST_DOVECOT_LOG    Dovecot's log (each session's end says what it fetched)
#   SWITCHBOARD_TEST_DOVECOT_KICK   a command that makes the server cut every IMAP connection
#   SWITCHBOARD_TEST_DOVECOT_RESTART a command that stops Dovecot and starts it again (same port)
# Tests put mail in with IMAP APPEND, each in a mailbox of its own. Dovecot is stopped and the
# directory removed afterwards, whatever the command did. If Dovecot does not start, this fails:
# a suite that needs it is never skipped.
#
# Needs: dovecot-imapd (scripts/setup.sh installs it). As root, Dovecot's own unprivileged users
# (dovecot, dovenull) run its processes and the mail belongs to `nobody`; otherwise everything
# runs as the calling user.
set -euo pipefail

die() {
  echo "with-dovecot: $*" >&2
  exit 1
}

[ "$#" -gt 0 ] || die "usage: $0 CMD [ARGS...]"
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || die "no dovecot (apt-get install dovecot-imapd, or run scripts/setup.sh)"
dovecot_bin=$(command -v dovecot || echo /usr/sbin/dovecot)
doveadm_bin=$(command -v doveadm || echo /usr/bin/doveadm)

root=$(cd "$(dirname "$0")/.." && pwd)
port=$("$root/scripts/free-port.sh")
dir=$(mktemp -d /tmp/switchboard-dovecot.XXXXXX)
chmod 755 "$dir"
cleanup() {
  "$dovecot_bin" -c "$dir/dovecot.conf" stop >/dev/null 2>&1 || true
  # Let the master reap its children before the directory goes.
  for _ in $(seq 1 50); do [ -e "$dir/run/master.pid" ] || break; sleep 0.1; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

user=support
password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
if [ "$(id -u)" -eq 0 ]; then
  mail_uid=$(id -u nobody) mail_gid=$(id -g nobody)
  users="default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1"
else
  mail_uid=$(id -u) mail_gid=$(id -g)
  me=$(id -un)
  users="default_internal_user = $me
default_login_user = $me
default_internal_group = $(id -gn)
first_valid_uid = $mail_uid
first_valid_gid = $mail_gid"
fi
counted=counted
# Each user's Maildir exists before the first session: tests start together, and Dovecot creating
# the root under several concurrent CREATEs once answered one of them [ALREADYEXISTS].
mkdir -p "$dir/run"
for name in "$user" "$counted"; do mkdir -p "$dir/home/$name/Maildir/"{cur,new,tmp}; done
chown -R "$mail_uid:$mail_gid" "$dir/home"
for name in "$user" "$counted"; do
  echo "$name:{PLAIN}$password:$mail_uid:$mail_gid::$dir/home/$name"
done >"$dir/passwd"
chmod 644 "$dir/passwd"

cat >"$dir/dovecot.conf" <<EOF
base_dir = $dir/run
state_dir = $dir/run
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
$users
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/passwd
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0
  }
}
service doveadm {
  unix_listener doveadm-server {
    mode = 0666
  }
}
EOF

start() {
  "$dovecot_bin" -c "$dir/dovecot.conf" || { cat "$dir/dovecot.log" >&2 2>/dev/null; die "dovecot did not start"; }
  for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $port), 1); sys.exit(0 if s.recv(100).startswith(b'* OK') else 1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  cat "$dir/dovecot.log" >&2 2>/dev/null || true
  die "dovecot does not answer on 127.0.0.1:$port"
}
start

# The helpers the tests call to disturb the server.
cat >"$dir/kick.sh" <<EOF
#!/usr/bin/env bash
exec "$doveadm_bin" -c "$dir/dovecot.conf" kick "$user"
EOF
cat >"$dir/restart.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
"$dovecot_bin" -c "$dir/dovecot.conf" stop
for _ in \$(seq 1 100); do [ -e "$dir/run/master.pid" ] || break; sleep 0.1; done
"$dovecot_bin" -c "$dir/dovecot.conf"
for _ in \$(seq 1 100); do
  python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $port), 1); sys.exit(0 if s.recv(100).startswith(b'* OK') else 1)" 2>/dev/null && exit 0
  sleep 0.1
done
echo "restart: dovecot does not answer again" >&2
exit 1
EOF
chmod +x "$dir/kick.sh" "$dir/restart.sh"

export SWITCHBOARD_TEST_IMAP_PORT=$port
export SWITCHBOARD_TEST_IMAP_USER=$user
export SWITCHBOARD_TEST_IMAP_PASSWORD=$password
export SWITCHBOARD_TEST_IMAP_COUNTED_USER=$counted
export SWITCHBOARD_TEST_DOVECOT_LOG=$dir/dovecot.log
export SWITCHBOARD_TEST_DOVECOT_KICK=$dir/kick.sh
export SWITCHBOARD_TEST_DOVECOT_RESTART=$dir/restart.sh
echo "with-dovecot: dovecot $("$dovecot_bin" --version | cut -d' ' -f1) on 127.0.0.1:$port" >&2
status=0
"$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "with-dovecot: the command failed; dovecot's log:" >&2
  tail -n 40 "$dir/dovecot.log" >&2 2>/dev/null || true
fi
exit "$status"
