#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL for the test suite, installing it via apt when missing (as root).
# Usage: scripts/test-postgres.sh install|start|stop   -- start prints `export` lines for the test environment.
# Works without systemd: initdb + pg_ctl, as the postgres user when run as root.
set -euo pipefail
ROOT=${PG_TEST_ROOT:-/tmp/registry-test-pg}
PORT=${PG_TEST_PORT:-54329}

run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

find_bin() {
  local ver
  ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$ver" ] && [ -x "/usr/lib/postgresql/$ver/bin/initdb" ] && echo "/usr/lib/postgresql/$ver/bin"
}

ensure_installed() {
  PGBIN=$(find_bin || true)
  if [ -z "$PGBIN" ]; then
    if [ "$(id -u)" != 0 ]; then echo "PostgreSQL is not installed and this is not root: apt-get install postgresql" >&2; exit 1; fi
    echo "[pg] installing PostgreSQL via apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >&2
    PGBIN=$(find_bin)
  fi
}

case "${1:-start}" in
install)
  ensure_installed
  ;;
start)
  ensure_installed
  if [ -f "$ROOT/data/postmaster.pid" ] && run_pg "$PGBIN/pg_ctl" -D "$ROOT/data" status >/dev/null 2>&1; then
    echo "[pg] already running on port $PORT" >&2
  else
    rm -rf "$ROOT"; mkdir -p "$ROOT"; chmod 755 "$ROOT"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$ROOT"
    run_pg "$PGBIN/initdb" -D "$ROOT/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    run_pg "$PGBIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/pg.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=${PG_TEST_SHARED_BUFFERS:-512MB}" \
      start >/dev/null || { cat "$ROOT/pg.log" >&2; exit 1; }
    run_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc \
      "CREATE ROLE registry LOGIN PASSWORD 'registry' CREATEDB" >/dev/null
    run_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres -O registry registry_test
    echo "[pg] started on 127.0.0.1:$PORT" >&2
  fi
  echo "export REGISTRY_TEST_POSTGRES_URL=postgresql://registry:registry@127.0.0.1:$PORT/registry_test"
  ;;
stop)
  PGBIN=$(find_bin || true)
  [ -n "$PGBIN" ] && [ -d "$ROOT/data" ] && run_pg "$PGBIN/pg_ctl" -D "$ROOT/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$ROOT"
  ;;
esac
