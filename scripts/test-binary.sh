#!/usr/bin/env bash
# Runs one test binary of the workspace's build directly, the way `cargo test` would (from its
# package's directory), without asking cargo to select it:
#
#   scripts/test-binary.sh server attachments        # tests/server of crates/server, filtered
#   scripts/test-binary.sh core
#
# Why: `cargo test --test NAME` makes cargo resolve features for that narrower selection, which
# differs from the whole workspace's and recompiled half of it after scripts/test.sh's one build.
# This asks cargo (`--workspace --no-run`, a no-op when the build is fresh) where the integration
# test binary NAME is, then runs it with the remaining arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$#" -gt 0 ] || { echo "usage: $0 TEST-TARGET [TEST-ARGS...]" >&2; exit 2; }
target=$1
shift

found=$(cargo test --workspace --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, os, sys
want = sys.argv[1]
found = None
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    target = message.get("target") or {}
    if found is None and message.get("reason") == "compiler-artifact" and message.get("executable") \
            and target.get("name") == want and "test" in target.get("kind", []):
        found = (os.path.dirname(message["manifest_path"]), message["executable"])
# Read to the end: stopping early would break cargo'"'"'s pipe and fail the pipeline.
if found:
    print(found[0])
    print(found[1])
' "$target")
[ -n "$found" ] || { echo "test-binary: no integration test target named $target (build it first)" >&2; exit 1; }
package_dir=$(sed -n 1p <<<"$found")
binary=$(sed -n 2p <<<"$found")
cd "$package_dir"
exec "$binary" "$@"
