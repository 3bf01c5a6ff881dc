#!/usr/bin/env bash
# Local single-node Apache Kafka 3.9.x (KRaft) for `make run` and `make test`.
#   infra/kafka.sh fetch   # broker jars from Maven Central (via mvn) into .cache/kafka/libs (once)
#   infra/kafka.sh start   # start on 127.0.0.1:$KAFKA_PORT (default 9092) unless one already answers there
#   infra/kafka.sh stop | status | wait
# KAFKA_BOOTSTRAP_SERVERS set in the environment means "use that cluster": start/stop do nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${KAFKA_PORT:-9092}
CPORT=$((PORT + 1))
CACHE=${WHALE_CACHE:-$ROOT/.cache}
LIBS=$CACHE/kafka/libs
DATA=${KAFKA_DATA_DIR:-$ROOT/var/kafka-$PORT}
PIDFILE=$DATA/broker.pid
LOG=$DATA/broker.log

answers() { (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; }

need_java() {
  command -v java >/dev/null && command -v mvn >/dev/null && return 0
  echo "kafka.sh: installing a JDK and Maven (Debian packages)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
}

fetch() {
  if [ -f "$LIBS/.complete" ]; then return 0; fi
  need_java
  echo "kafka.sh: fetching Apache Kafka broker jars from Maven Central" >&2
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -B -q -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime
  touch "$LIBS/.complete"
}

start() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [ "${WHALE_FORCE_LOCAL_KAFKA:-0}" != 1 ]; then
    echo "kafka.sh: using existing cluster $KAFKA_BOOTSTRAP_SERVERS" >&2; return 0
  fi
  if answers; then echo "kafka.sh: broker already answering on 127.0.0.1:$PORT" >&2; check_files; return 0; fi
  fetch
  mkdir -p "$DATA/log"
  cat > "$DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA/log
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=168
num.network.threads=2
num.io.threads=4
PROPS
  if [ ! -f "$DATA/log/meta.properties" ]; then
    java -cp "$LIBS/*" -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
      kafka.tools.StorageTool format -t "$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null)" \
      -c "$DATA/server.properties" >/dev/null
  fi
  nohup java -Xms256m -Xmx${KAFKA_HEAP:-768m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$DATA/server.properties" >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  if ! wait_up; then stop; return 1; fi  # never leave a half-started broker holding the ports
  echo "kafka.sh: broker up on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), data $DATA)" >&2
  check_files
}

# Every partition keeps a few files open: a development broker that collects thousands of topics (test runs
# whose topics were never deleted) reaches its open-files limit and stops answering. Say so before it does.
check_files() {
  local limit parts
  limit=$(ulimit -Hn)
  [ "$limit" = unlimited ] && return 0
  [ -d "$DATA/log" ] || return 0  # a broker this script did not start (another checkout's, a cluster)
  parts=$(find "$DATA/log" -mindepth 1 -maxdepth 1 -type d -name '*-[0-9]*' 2>/dev/null | wc -l || true)
  if [ $((parts * 2)) -gt "$limit" ]; then
    echo "kafka.sh: WARNING: $parts partitions in $DATA/log against an open-files limit of $limit:" \
         "the broker will stop answering near the limit; delete old test topics or the data directory" >&2
  fi
}

wait_up() {
  # a broker recovering a large data directory after an unclean stop takes more than a minute
  local timeout=${KAFKA_START_TIMEOUT_S:-180}
  for _ in $(seq 1 $((timeout * 4))); do
    if answers && grep -q "Transition from STARTING to STARTED" "$LOG" 2>/dev/null; then return 0; fi
    if answers && [ ! -f "$LOG" ]; then return 0; fi
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "kafka.sh: broker exited; last log lines:" >&2; tail -20 "$LOG" >&2; return 1
    fi
    sleep 0.25
  done
  echo "kafka.sh: broker did not start within $timeout s" >&2; tail -20 "$LOG" >&2; return 1
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  wait) wait_up ;;
  status) if answers; then echo "up on 127.0.0.1:$PORT"; else echo "down"; exit 1; fi ;;
  *) echo "usage: $0 fetch|start|stop|status|wait" >&2; exit 2 ;;
esac
