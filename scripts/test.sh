#!/usr/bin/env bash
# Runs the checks and tests. Installs what is missing first (scripts/setup.sh).
#
#   scripts/test.sh          # everything; CI runs exactly this
#   scripts/test.sh --fast   # the inner loop: fmt, clippy, the UI's type check and Vitest,
#                            # cargo test in a throwaway Secret Service, the server's suite on
#                            # a throwaway PostgreSQL, server processes behind nginx, the email
#                            # connector against Dovecot and an SMTP sink, and the chat widget in
#                            # headless Chromium (no e2e, fuzz run or bench)
#
# The full run compiles the workspace once. Clippy checks it, then one
# `cargo build --workspace --all-targets` builds every binary and test binary, and every later
# step reuses that build:
#   - every cargo command selects the whole workspace and its test targets, because cargo turns on
#     a dependency's features for what it was asked to build (`-p switchboard-e2e`, `--exclude …` or
#     `--test server` alone recompiled half the workspace); a suite that runs one test binary runs
#     it directly (scripts/test-binary.sh);
#   - the UI is built before cargo and only when stale (scripts/build-ui.sh), because the app
#     embeds ui/dist and a rewritten ui/dist recompiles and relinks it;
#   - the benchmark's quick preset measures that same debug build.
# A later step that compiles anyway is named in a warning at the end.
#
# Each suite is a function below (suite_NAME), and the plan at the bottom lists them in order;
# `run A B` runs suites side by side (each logs to target/test-logs/NAME.log), which pays on two
# cores when one of them mostly waits (the fuzz run waits on the server).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
case "${1:-}" in
  "") ;;
  --fast) mode=fast ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--fast]" >&2; exit 2 ;;
esac

logs=target/test-logs
rm -rf "$logs"
mkdir -p "$logs"

# --- The suites ---------------------------------------------------------------------------------

suite_fmt() { cargo fmt --all -- --check; }

# The app embeds ui/dist, so this comes before anything that compiles the desktop crate.
suite_ui_build() { scripts/build-ui.sh; }

suite_ui() {
  npm --prefix ui run check
  npm --prefix ui test
}

suite_clippy() { cargo clippy --workspace --all-targets --locked -- -D warnings; }

# The one build of the full run: the binaries (app, server, bench, hello-world) and every test binary.
suite_build() { cargo build --workspace --all-targets --locked; }

# Fuzzes the built server from its served OpenAPI document, each operation alone and then stateful
# chains of operations (90 s; about 2 min in all); fails on any 5xx or panic.
suite_schemathesis() { tests/schemathesis.sh target/debug/switchboard-server; }

# Timings are reported, never asserted: this keeps the harness working, on the debug build.
suite_bench() { scripts/bench.sh --quick --out target/bench-quick; }

# The real app under Xvfb through tauri-driver (tests/e2e/run.sh).
suite_e2e() { tests/e2e/run.sh; }

# Inside a throwaway Secret Service, so the keychain test uses a real keyring, never yours. The e2e
# test ran through its harness above; here it only reports itself skipped. Every cargo command
# selects the whole workspace (no --exclude): leaving a package out changes which features cargo
# unifies, and that recompiled part of the workspace after the build step.
suite_cargo_test() { scripts/with-secret-service.sh cargo test --workspace --locked; }

# The server's suite and the core's (its fault-injection schedules included) again, against a
# server on a throwaway PostgreSQL cluster: the conformance run of the second backend. If
# PostgreSQL does not start, with-postgres.sh fails and so does this suite.
suite_server_postgres() {
  scripts/with-postgres.sh scripts/with-secret-service.sh \
    bash -c 'scripts/test-binary.sh server && scripts/test-binary.sh core'
}

# Server processes behind a load balancer: scripts/run-nodes.sh starts three nodes of the built
# server together on an empty throwaway PostgreSQL database with nginx (deploy/nginx.conf) in
# front, and the core's out-of-process test (crates/core/tests/core/balanced.rs) has real clients
# follow through nginx while one node is stopped and another killed. Fails if PostgreSQL, nginx or a
# node does not start, and unless the test says it ran to the end (elsewhere it reports itself
# skipped).
suite_nodes() {
  local out=$logs/nodes-test.out
  scripts/run-nodes.sh --nodes 3 scripts/test-binary.sh core balanced:: --nocapture 2>&1 | tee "$out"
  grep -q SWITCHBOARD_NODES_PASSED "$out" || { echo "nodes: the balanced test did not run to the end" >&2; return 1; }
}

# Attachments in S3-compatible storage: the server's attachment tests against moto (with-s3.sh),
# on PostgreSQL so a second node downloads what the first uploaded. If moto or PostgreSQL does not
# start, this fails.
suite_s3() {
  scripts/with-s3.sh scripts/with-postgres.sh scripts/test-binary.sh server attachments
}

# The email connector against real servers: Dovecot (with-dovecot.sh) for IMAP, aiosmtpd
# (with-smtp-sink.sh) for SMTP, on SQLite and then on PostgreSQL. Fails if a server does not
# start, and if any email test says it was skipped (which it does only without the wrappers'
# variables).
suite_email() {
  local out=$logs/email-test.out
  {
    scripts/with-dovecot.sh scripts/with-smtp-sink.sh scripts/test-binary.sh server email:: &&
      scripts/with-postgres.sh scripts/with-dovecot.sh scripts/with-smtp-sink.sh \
        scripts/test-binary.sh server email::
  } 2>&1 | tee "$out"
  ! grep -q '^skipping email::' "$out" || { echo "email: a test was skipped" >&2; return 1; }
}

# The website chat widget in a real browser: Debian's Chromium, headless, driven through its
# chromedriver (tests/e2e/widget_browser.rs starts both, a server and a host page on loopback).
# Fails unless the test says it ran to the end (without SWITCHBOARD_CHROMEDRIVER it reports itself
# skipped, as it does in cargo_test).
suite_widget() {
  local out=$logs/widget-test.out
  SWITCHBOARD_CHROMEDRIVER=/usr/bin/chromedriver SWITCHBOARD_CHROMIUM=/usr/bin/chromium \
    scripts/test-binary.sh widget_browser --nocapture 2>&1 | tee "$out"
  grep -q SWITCHBOARD_WIDGET_BROWSER_PASSED "$out" ||
    { echo "widget: the browser test did not run to the end" >&2; return 1; }
}

# --- Running them -------------------------------------------------------------------------------

failed=()
# run SUITE...: runs the suites side by side (one suite: in the foreground, its output shown as it
# comes), logs each to $logs/SUITE.log, prints how long each took, and stops the script on a failure.
run() {
  local suite pids=() i=0 start=$SECONDS
  if [ $# -eq 1 ]; then
    echo "== $1"
    ( "suite_$1" 2>&1 | tee "$logs/$1.log" ) &
    pids+=($!)
  else
    echo "== side by side: $*"
    for suite in "$@"; do
      ( "suite_$suite" ) >"$logs/$suite.log" 2>&1 &
      pids+=($!)
    done
  fi
  for suite in "$@"; do
    if wait "${pids[$i]}"; then
      if [ $# -gt 1 ]; then tail -n 3 "$logs/$suite.log" | sed "s/^/   $suite: /"; fi
      echo "== $suite: passed (done $((SECONDS - start)) s after the start of its step)"
    else
      failed+=("$suite")
      if [ $# -gt 1 ]; then
        echo "== $suite failed; its log ($logs/$suite.log):"
        cat "$logs/$suite.log"
      fi
      echo "== $suite: FAILED"
    fi
    i=$((i + 1))
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "test: failed: ${failed[*]}" >&2
    exit 1
  fi
}

# Nothing in a run may change what git tracks (caches and outputs belong in target/ or .gitignore).
git_before=$(git status --porcelain 2>/dev/null || true)
check_tree_unchanged() {
  local after
  after=$(git status --porcelain 2>/dev/null || true)
  if [ "$after" != "$git_before" ]; then
    echo "test: warning: the working tree changed during the run (a test wrote a tracked or" \
      "unignored file, or you edited one meanwhile):" >&2
    diff <(echo "$git_before") <(echo "$after") | grep '^[<>]' >&2 || true
  fi
}

# After the build, a step that compiles means two steps disagree on features or profiles.
check_compiled_once() {
  local step
  for step in e2e cargo_test server_postgres nodes s3 email widget bench; do
    [ -f "$logs/$step.log" ] || continue
    if grep -qE '^ *Compiling ' "$logs/$step.log"; then
      echo "test: warning: $step recompiled after the build step (see $logs/$step.log):" >&2
      grep -E '^ *Compiling ' "$logs/$step.log" | head -5 >&2
    fi
  done
}

scripts/setup.sh

if [ "$mode" = fast ]; then
  run fmt
  run ui_build
  run clippy ui
  run cargo_test
  run server_postgres
  run nodes
  run s3
  run email
  run widget
else
  run fmt
  run ui_build
  run clippy
  run build
  run schemathesis ui
  run bench
  run e2e
  run cargo_test
  run server_postgres
  run nodes
  run s3
  run email
  run widget
  check_compiled_once
fi
check_tree_unchanged
echo "test: all passed ($mode run, ${SECONDS} s)"
