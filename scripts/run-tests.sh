#!/usr/bin/env bash
# The whole test suite in one pytest session, with a throwaway PostgreSQL so the PostgreSQL tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then  # the browser tests drive Debian's Chromium headless
  if [ "$(id -u)" = 0 ]; then
    echo "[test] installing Chromium via apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "[test] Chromium is missing and this is not root: apt-get install chromium" >&2
  fi
fi
if ! command -v promtool >/dev/null; then  # the native oracle for rule files (tests/catalog/test_native_oracles.py)
  if [ "$(id -u)" = 0 ]; then
    echo "[test] installing promtool via apt (Debian's prometheus; its service is not started)" >&2
    install_promtool() { DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
    install_promtool || { apt-get update -qq >&2 && install_promtool; } \
      || echo "[test] promtool could not be installed; its oracle test is skipped" >&2
  else
    echo "[test] promtool is missing and this is not root: apt-get install prometheus (its test is skipped)" >&2
  fi
fi
scripts/test-postgres.sh install  # before leaving the network: apt may need it
# The suite runs without outside network where the machine allows it (root, unshare, iproute2): a test that
# reaches outside, a DNS lookup included, then fails loudly instead of passing on a machine that is online.
if [ -z "${REGISTRY_TEST_OFFLINE:-}" ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null && unshare -n ip link set lo up 2>/dev/null; then
  echo "[test] running in a network namespace of its own (loopback only)" >&2
  exec unshare -n env REGISTRY_TEST_OFFLINE=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
export PG_TEST_PORT=${PG_TEST_PORT:-$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export PG_TEST_ROOT=${PG_TEST_ROOT:-$(mktemp -d /tmp/registry-test-pg.XXXXXX)}
trap 'scripts/test-postgres.sh stop' EXIT
eval "$(scripts/test-postgres.sh start)"
export REGISTRY_TEST_REQUIRE_POSTGRES=1
# Lint first: ruff and mypy are part of "the suite passes".
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
# Two workers (one per core), a test file per worker at a time so module fixtures (a seeded server) are built once.
.venv/bin/python -m pytest -p no:cacheprovider -n 2 --dist loadfile "$@"
