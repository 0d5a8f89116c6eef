#!/usr/bin/env bash
# Installs what building and testing Porthole needs on a fresh machine: the WebAssembly
# targets the guests are compiled for. Safe to run again.
set -euo pipefail
rustup target add wasm32-wasip1 wasm32-wasip2
