#!/usr/bin/env bash
# The demo: sets the machine up, builds Porthole and runs `porthole demo` — the controller with
# the Pulp mirror of examples/pulp running in it (a worker syncing a sample repository into
# shared volumes, a web server publishing them on 127.0.0.1:8080) — until Ctrl-C.
# PORTHOLE_DEMO_ROOT, PORTHOLE_DEMO_PORT (the API) and PORTHOLE_DEMO_WEB (the web server's
# address) override the defaults; arguments are passed to `porthole demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build -p porthole-cli
root="${PORTHOLE_DEMO_ROOT:-${XDG_DATA_HOME:-$HOME/.local/share}/porthole-demo}"
port="${PORTHOLE_DEMO_PORT:-2375}"
web="${PORTHOLE_DEMO_WEB:-127.0.0.1:8080}"
# Where cargo put it: CARGO_TARGET_DIR when set, as cargo itself decides.
exec "${CARGO_TARGET_DIR:-target}/debug/porthole" demo --root "$root" --listen "127.0.0.1:$port" --web "$web" "$@"
