#!/usr/bin/env bash
# The benchmark command. Builds the harness, the app and the hello-world baseline, then measures
# every figure of the performance issue, each next to its baseline from the same run, and writes
# a Markdown table and JSON (default bench-results/; --out DIR to change).
#
#   scripts/bench.sh            # full: 100k conversations, 1M messages, release build (~15 min)
#   scripts/bench.sh --quick    # small presets on the debug build, in about a minute (CI runs it)
#
# The app figures need a display and a Secret Service: the run gets a private Xvfb and a throwaway
# keyring (scripts/with-xvfb.sh, scripts/with-secret-service.sh), never your screen or keyring.
# The scale figures need PostgreSQL: a throwaway cluster (scripts/with-postgres.sh) unless
# SWITCHBOARD_TEST_DATABASE_URL names one; if it does not start, the run fails rather than skip them.
# Timings are reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
for arg in "$@"; do
  [ "$arg" = --quick ] && profile=debug
done

# The binaries embed ui/dist, and a stale one would be measured without a word: build it when any
# of its sources is newer (only then, or the app would be recompiled for nothing).
scripts/build-ui.sh
if [ "$profile" = release ]; then
  cargo build --release --locked --workspace --bins
else
  # The same build the test script makes, so nothing is rebuilt.
  cargo build --locked --workspace --all-targets
fi

# The scale figures hold tens of thousands of sockets (the load client's ends in its process, the
# servers' in the bench's): raise the open-file limit as far as this user may.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

postgres=()
[ -n "${SWITCHBOARD_TEST_DATABASE_URL:-}" ] || postgres=(scripts/with-postgres.sh)
"${postgres[@]}" scripts/with-xvfb.sh scripts/with-secret-service.sh "target/$profile/switchboard-bench" "$@"
