#!/usr/bin/env bash
# Prints a TCP port on 127.0.0.1 that is free right now (the kernel picks it), for a test server
# or driver to listen on:
#
#   port=$(scripts/free-port.sh)
#
# The port is released before this returns, so another process could take it first; the suites
# that use it start their listener straight away.
set -euo pipefail
exec python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
