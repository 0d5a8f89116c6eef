#!/usr/bin/env bash
# Browser tests of the dashboard: installs what they need when missing (Debian's chromium, the
# npm packages; CI runs as root), builds the porthole binary, and runs the test, which starts,
# restarts and stops `porthole serve` itself on a free loopback port. Screenshots go to
# target/screenshots/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if ! command -v chromium >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
fi
if ! command -v node >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
(cd "$here" && npm ci --no-audit --no-fund)
# The same build as the test command (cargo test --workspace), so after it this is a no-op;
# a plain `cargo build -p porthole-cli` unifies features differently and rebuilds wasmtime.
(cd "$repo" && cargo test --workspace --no-run)

# Where cargo put it: CARGO_TARGET_DIR when set, as cargo itself decides.
target="${CARGO_TARGET_DIR:-$repo/target}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PORTHOLE_BIN="$target/debug/porthole" PORTHOLE_PORT="$port" SCREENSHOTS="$target/screenshots" \
    node "$here/dashboard.test.mjs"
