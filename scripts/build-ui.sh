#!/usr/bin/env bash
# Builds the UI into ui/dist, unless ui/dist is already newer than every file of ui/ it is built
# from (ui/node_modules aside):
#
#   scripts/build-ui.sh           # build when stale
#   scripts/build-ui.sh --force   # build anyway
#
# The desktop app embeds ui/dist when it compiles (Tauri's generate_context! includes every file),
# so rewriting ui/dist, even with the same bytes, makes cargo recompile and relink
# switchboard-desktop. The test script, the benchmark and run.sh build it through here, before
# cargo, so a run builds it at most once and a stale ui/dist is never embedded.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=ui/dist/index.html
if [ "${1:-}" != --force ] && [ -f "$stamp" ] &&
  [ -z "$(find ui -path ui/node_modules -prune -o -path ui/dist -prune -o -type f -newer "$stamp" -print -quit)" ]; then
  echo "build-ui: ui/dist is up to date"
  exit 0
fi
npm --prefix ui run build
