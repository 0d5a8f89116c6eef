#!/usr/bin/env bash
# Installs what building and testing Porthole needs on a fresh machine: the WebAssembly
# targets the guests are compiled for, and the stock docker CLI (a client only: Porthole is the
# daemon) for the end-to-end tests. Safe to run again.
set -euo pipefail
rustup target add wasm32-wasip1 wasm32-wasip2
if ! command -v docker >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq docker-cli || $sudo_cmd apt-get install -y -qq docker.io
fi
