#!/usr/bin/env bash
# Sets up what is missing and starts the demo server on 127.0.0.1:7300 with a seeded workspace and
# simulated customer traffic. Stop it with Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p switchboard-server
exec target/release/switchboard-server demo --data-dir "${SWITCHBOARD_DEMO_DIR:-target/demo-data}" "$@"
