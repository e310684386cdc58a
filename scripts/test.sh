#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the API fuzz run, and the Rust test suites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

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
echo "== cargo test (inside a throwaway Secret Service, so the keychain test uses a real keyring)"
scripts/with-secret-service.sh cargo test --workspace --locked
