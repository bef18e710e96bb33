#!/usr/bin/env bash
# The whole test suite: set up, lint (ruff), type-check (mypy), then pytest against a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check guard codemods migrations triggers tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 "$@"
