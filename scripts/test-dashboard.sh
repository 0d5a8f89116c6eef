#!/usr/bin/env bash
# CI entry for the dashboard's browser tests (Debian chromium + npm playwright-core, installed
# by the runner when missing). See tests/dashboard/run.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../tests/dashboard/run.sh" "$@"
