#!/usr/bin/env bash
# Throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks, from the system's binaries
# (Debian's postgresql package is installed when missing).
#   infra/postgres.sh start | stop | status | url [DBNAME] | createdb NAME
# WHALE_TEST_DATABASE_URL set in the environment means "use that server": start/stop do nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PG_PORT:-55432}
DATA=${PG_DATA_DIR:-$ROOT/var/pg-$PORT}
RUNAS=postgres

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }; done
  command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

ensure_installed() {
  if ! BIN=$(find_bin); then
    echo "postgres.sh: installing PostgreSQL (Debian packages)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    BIN=$(find_bin)
  fi
  if [ "$(id -u)" = 0 ]; then
    id "$RUNAS" >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$RUNAS"
  fi
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$RUNAS" -- "$@"; else "$@"; fi
}

start() {
  if [ -n "${WHALE_TEST_DATABASE_URL:-}" ]; then echo "postgres.sh: using $WHALE_TEST_DATABASE_URL" >&2; return 0; fi
  ensure_installed
  if as_pg "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then return 0; fi
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown -R "$RUNAS" "$DATA" && chmod 700 "$DATA"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
max_connections = 300
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 4GB
CONF
  fi
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >/dev/null
  echo "postgres.sh: PostgreSQL up on 127.0.0.1:$PORT (data $DATA)" >&2
}

stop() {
  BIN=$(find_bin) || return 0
  [ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) BIN=$(find_bin) && "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" ;;
  url) echo "${WHALE_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:$PORT/${2:-postgres}}" ;;
  *) echo "usage: $0 start|stop|status|url [DB]" >&2; exit 2 ;;
esac
