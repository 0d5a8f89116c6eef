#!/usr/bin/env bash
# Installs what building and testing Porthole needs on a fresh machine: the WebAssembly
# targets the guests are compiled for, the stock docker CLI (a client only: Porthole is the
# daemon) for the end-to-end tests, the Python Docker SDK (the library docker-compose and most
# scripts drive the engine with) for its end-to-end test, a local registry for pull and push, and clang with Debian's wasi-libc, which builds the C test
# program (a real wasi-libc guest). Safe to run again.
set -euo pipefail
rustup target add wasm32-wasip1 wasm32-wasip2
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
updated=""
apt_install() {
    [ -n "$updated" ] || { $sudo_cmd apt-get update -qq; updated=1; }
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@"
}
if ! command -v docker >/dev/null 2>&1; then
    apt_install docker-cli || apt_install docker.io
fi
if ! python3 -c 'import docker' >/dev/null 2>&1; then
    apt_install python3-docker
fi
# Debian's docker-compose 1.29 (Python, over python3-docker): the compose test drives it.
if ! command -v docker-compose >/dev/null 2>&1; then
    apt_install docker-compose
fi
# Debian's docker-registry (the CNCF distribution registry): the pull/push tests start one on
# a loopback port.
if ! [ -x /usr/bin/docker-registry ]; then
    apt_install docker-registry
fi
# podman: the save/load test has it load an archive Porthole saved (`podman load`).
if ! command -v podman >/dev/null 2>&1; then
    apt_install podman
fi
if ! [ -f /usr/lib/wasm32-wasi/libc.a ] || ! command -v clang >/dev/null 2>&1; then
    apt_install clang lld wasi-libc libclang-rt-dev-wasm32
fi
