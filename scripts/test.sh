#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the UI's checks and unit tests, the API fuzz run,
# the Rust test suites (inside a throwaway Secret Service), and the end-to-end test of the real app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== ui: type check, unit tests, build"
npm --prefix ui run check
npm --prefix ui test
npm --prefix ui run build
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build"
cargo build --workspace --all-targets --locked
echo "== schemathesis against the served OpenAPI (no 5xx allowed)"
tests/schemathesis.sh target/debug/switchboard-server >target/schemathesis.log 2>&1 || {
  cat target/schemathesis.log
  exit 1
}
grep -E "generated|passed|failed" target/schemathesis.log | tail -2
echo "== benchmark harness, quick preset, app figures included (timings are reported, never asserted)"
scripts/bench.sh --quick --out target/bench-quick >/dev/null
echo "== end-to-end: the real app under Xvfb through tauri-driver"
tests/e2e/run.sh
echo "== cargo test (inside a throwaway Secret Service, so the keychain test uses a real keyring)"
# The e2e test ran above, against the real window; here it would only report itself skipped.
scripts/with-secret-service.sh cargo test --workspace --locked --exclude switchboard-e2e
