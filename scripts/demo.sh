#!/usr/bin/env bash
# The demo: builds Porthole, starts the controller, and runs the 2014 Pulp walkthrough with the
# stock docker CLI. On a terminal it then leaves the controller running (dashboard, your own
# docker commands) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build -p porthole-cli
root="${PORTHOLE_DEMO_ROOT:-${XDG_DATA_HOME:-$HOME/.local/share}/porthole-demo}"
port="${PORTHOLE_DEMO_PORT:-2375}"
target/debug/porthole serve --root "$root" --listen "127.0.0.1:$port" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
export DOCKER_HOST="tcp://127.0.0.1:$port" DOCKER_BUILDKIT=0
for _ in $(seq 1 300); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
docker rm -f -v volume-demo volumes-from-demo >/dev/null 2>&1 || true
step docker build -t markllama/pulp-content examples/pulp-content
if [ -t 0 ] && [ -z "${CI:-}" ]; then
    echo "(an interactive shell in the container: try 'mount', 'find /var/www', 'exit')"
    step docker run -it --name volume-demo markllama/pulp-content /bin/sh || true
else
    step docker run --name volume-demo markllama/pulp-content sh -c 'mount; find /var/www; find /var/lib/pulp'
fi
step docker inspect --format '{{.Config.Volumes}}' volume-demo
step docker inspect --format '{{json .Mounts}}' volume-demo
step docker run --name volumes-from-demo --volumes-from volume-demo markllama/pulp-content sh -c 'cat /var/www/pub/f; mount | grep /var'
step docker volume ls
printf '\nDashboard: http://127.0.0.1:%s/\nYour shell: export DOCKER_HOST=%s\n' "$port" "$DOCKER_HOST"
if [ -t 0 ] && [ -z "${CI:-}" ]; then
    echo "Porthole keeps running; press Ctrl-C to stop it."
    wait "$server"
fi
