#!/usr/bin/env bash
# Keycloak (the local stack's OpenID Connect provider) in development mode on 127.0.0.1, from Maven Central's
# distribution (org.keycloak:keycloak-quarkus-dist, via mvn) run by a JDK >= 21 (Temurin 25 where present).
#   infra/keycloak.sh install                   # the distribution into $WHALE_CACHE/keycloak (once)
#   infra/keycloak.sh start [PORT] [DATA_DIR]   # start-dev on 127.0.0.1:PORT (default 8112), realm `whale`
#   infra/keycloak.sh stop [PORT] [DATA_DIR] | status [PORT] | url [PORT] | java
# DATA_DIR (default var/keycloak-PORT) holds the instance: its H2 database, the realm file it imported and the
# log. The realm is generated from the demo staff (python -m devtools.keycloak realm) unless KEYCLOAK_REALM_FILE
# names one; origins allowed to sign in: KEYCLOAK_ORIGINS (space separated, default http://127.0.0.1:8100).
# A changed realm file wipes the instance's database (Keycloak imports a realm only when it does not exist).
# Exit code 3: no JDK >= 21 on this machine (callers fall back to the development sign-in).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=${KEYCLOAK_VERSION:-26.5.6}
CACHE=${WHALE_CACHE:-$ROOT/.cache}
DIST=$CACHE/keycloak/keycloak-$VERSION
PORT=${2:-${KEYCLOAK_PORT:-8112}}
DATA=${3:-${KEYCLOAK_DATA_DIR:-$ROOT/var/keycloak-$PORT}}
HOME_DIR=$DATA/home
PIDFILE=$DATA/keycloak.pid
LOG=$DATA/keycloak.log
ISSUER=http://127.0.0.1:$PORT/realms/whale

find_java() {  # a JDK >= 21 (Keycloak 26): KEYCLOAK_JAVA_HOME (only it when set), else Temurin 25, else any other
  local candidates=(/usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*)
  [ -n "${KEYCLOAK_JAVA_HOME:-}" ] && candidates=("$KEYCLOAK_JAVA_HOME")
  for j in "${candidates[@]}"; do
    [ -n "$j" ] && [ -x "$j/bin/java" ] || continue
    major=$("$j/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "${major:-0}" -ge 21 ] 2>/dev/null; then echo "$j"; return 0; fi
  done
  return 1
}

install() {
  if [ -f "$DIST/.complete" ]; then return 0; fi
  command -v mvn >/dev/null && command -v unzip >/dev/null || {
    echo "keycloak.sh: installing Maven and unzip (Debian packages)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven unzip >/dev/null
  }
  echo "keycloak.sh: fetching Keycloak $VERSION from Maven Central" >&2
  local tmp; tmp=$(mktemp -d "$CACHE/keycloak-dl.XXXXXX" 2>/dev/null || { mkdir -p "$CACHE"; mktemp -d "$CACHE/keycloak-dl.XXXXXX"; })
  mvn -B -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:zip" -DoutputDirectory="$tmp" >&2
  rm -rf "$DIST" && mkdir -p "$CACHE/keycloak"
  unzip -q "$tmp/keycloak-quarkus-dist-$VERSION.zip" -d "$tmp"
  mv "$tmp/keycloak-$VERSION" "$DIST" && rm -rf "$tmp"
  touch "$DIST/.complete"
}

answers() { curl -sf -o /dev/null --max-time 2 "$ISSUER/.well-known/openid-configuration"; }

# The instance's own Keycloak home: bin/ and conf/ copied (kc.sh takes its home from its own path), the jars
# and themes linked to the shared distribution, data/ (H2 database, realm to import) its own.
make_home() {
  mkdir -p "$HOME_DIR/data/import"
  for d in bin conf; do [ -d "$HOME_DIR/$d" ] || cp -r "$DIST/$d" "$HOME_DIR/$d"; done
  for d in lib providers themes; do ln -sfn "$DIST/$d" "$HOME_DIR/$d"; done
  local realm=$HOME_DIR/data/import/whale-realm.json new
  new=$(mktemp)
  if [ -n "${KEYCLOAK_REALM_FILE:-}" ]; then cp "$KEYCLOAK_REALM_FILE" "$new"; else
    local origins=() o
    for o in ${KEYCLOAK_ORIGINS:-http://127.0.0.1:8100}; do origins+=(--origin "$o"); done
    "${PYTHON:-$ROOT/.venv/bin/python}" -m devtools.keycloak realm --out "$new" "${origins[@]}"
  fi
  if ! cmp -s "$new" "$realm"; then rm -rf "$HOME_DIR/data/h2"; mv "$new" "$realm"; else rm -f "$new"; fi
  # a database that already holds this realm (saved by an earlier instance's clean stop) spares the schema
  # creation and the import: most of a first start
  local template; template=$(template_dir)
  if [ ! -d "$HOME_DIR/data/h2" ] && [ -d "$template" ]; then cp -r "$template" "$HOME_DIR/data/h2"; fi
}

template_dir() { echo "$CACHE/keycloak/h2-$VERSION-$(sha256sum "$HOME_DIR/data/import/whale-realm.json" | cut -c1-16)"; }

start() {
  if answers; then echo "keycloak.sh: already answering on 127.0.0.1:$PORT" >&2; return 0; fi
  local java; java=$(find_java) || {
    echo "keycloak.sh: NO JDK >= 21 FOUND (Keycloak $VERSION needs one; set KEYCLOAK_JAVA_HOME)" >&2; return 3; }
  install
  make_home
  # its own session (process group = its pid, written by itself): `stop` signals kc.sh and its java together
  rm -f "$PIDFILE"
  ( cd "$HOME_DIR" && JAVA_HOME=$java JAVA_OPTS_KC_HEAP="${KEYCLOAK_HEAP:--Xms64m -Xmx512m}" \
      nohup setsid sh -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" "$HOME_DIR/bin/kc.sh" start-dev --import-realm \
      --http-host=127.0.0.1 --http-port="$PORT" --hostname="http://127.0.0.1:$PORT" \
      --log-level=WARN,io.quarkus:INFO >"$LOG" 2>&1 & ) </dev/null >/dev/null 2>&1  # holds none of the caller's pipes
  for _ in $(seq 1 40); do [ -s "$PIDFILE" ] && break; sleep 0.05; done
  local timeout=${KEYCLOAK_START_TIMEOUT_S:-600}  # a first start on a loaded 2-core machine: minutes
  for _ in $(seq 1 $((timeout * 4))); do
    if answers; then echo "keycloak.sh: Keycloak up on 127.0.0.1:$PORT (issuer $ISSUER, pid $(cat "$PIDFILE"))" >&2; return 0; fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "keycloak.sh: Keycloak exited; last log lines:" >&2; tail -20 "$LOG" >&2; rm -f "$PIDFILE"; return 1
    fi
    sleep 0.25
  done
  echo "keycloak.sh: Keycloak did not start within $timeout s" >&2; tail -20 "$LOG" >&2; stop; return 1
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid clean=1; pid=$(cat "$PIDFILE")
  if kill -0 -- "-$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 -- "-$pid" 2>/dev/null && clean=0
  fi
  rm -f "$PIDFILE"
  local template; template=$(template_dir 2>/dev/null) || return 0
  if [ "$clean" = 1 ] && [ ! -d "$template" ] && [ -d "$HOME_DIR/data/h2" ] && grep -q "started in" "$LOG" 2>/dev/null; then
    local tmp; tmp=$(mktemp -d "$template.XXXXXX") && cp -r "$HOME_DIR/data/h2/." "$tmp/" && mv -T "$tmp" "$template" \
      2>/dev/null || rm -rf "$tmp"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if answers; then echo "up on 127.0.0.1:$PORT"; else echo "down"; exit 1; fi ;;
  url) echo "$ISSUER" ;;
  java) find_java ;;
  *) echo "usage: $0 install|start|stop|status|url|java [PORT] [DATA_DIR]" >&2; exit 2 ;;
esac
