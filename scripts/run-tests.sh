#!/usr/bin/env bash
# One command: install what is missing (with the test extras), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
exec .venv/bin/python -m pytest "$@"
