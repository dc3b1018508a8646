#!/usr/bin/env bash
# One command: install what is missing, then start Peregrine Desktop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/peregrine-desktop "$@"
