#!/usr/bin/env bash
# The project's checks: lint, types, tests. Idempotent; run after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
ruff format --check .
mypy
python3 -m pytest -n "${PYTEST_WORKERS:-auto}" -q "$@"
