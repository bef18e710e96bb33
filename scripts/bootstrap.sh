#!/usr/bin/env bash
# Set up everything guard needs on a fresh machine: a venv with guard and its test tools, and the
# PostgreSQL server binaries the test suite runs a throwaway cluster from (installed only if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# pip and setuptools are chatty even with --quiet; keep their output in a log and show it only on failure.
log=.venv/bootstrap.log
echo "bootstrap: installing guard and its test tools into .venv (log: $log)" >&2
if ! { .venv/bin/python -m pip install --quiet --upgrade pip && .venv/bin/python -m pip install --quiet -e '.[test]'; } \
    >"$log" 2>&1; then
  cat "$log" >&2
  echo "bootstrap: pip install failed; the output above says why" >&2
  exit 1
fi

have_pg_server() {
  [ -n "${GUARD_TEST_DSN:-}" ] && return 0
  [ -n "${GUARD_PG_BINDIR:-}" ] && [ -x "$GUARD_PG_BINDIR/initdb" ] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
  command -v initdb >/dev/null 2>&1
}
if ! have_pg_server; then
  echo "bootstrap: no PostgreSQL server binaries found; installing Debian's postgresql" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

# Headless Chromium for the HTML report tests (driven through the DevTools protocol; no browser is downloaded).
have_chromium() {
  [ -n "${GUARD_CHROMIUM:-}" ] && [ -x "$GUARD_CHROMIUM" ] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}
if ! have_chromium; then
  echo "bootstrap: no chromium found; installing Debian's chromium (for the HTML report tests)" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium; } \
      >/dev/null 2>&1; then
    echo "bootstrap: could not install chromium; the browser tests will be skipped (and say so)" >&2
  fi
fi
