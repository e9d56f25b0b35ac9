#!/usr/bin/env bash
# A real Apache Kafka broker for the tests: single node, KRaft (no
# ZooKeeper), on 127.0.0.1, from its Maven Central artifacts
# (org.apache.kafka:kafka_2.13 and what it needs, resolved by Maven, cached
# in $BIFROST_CACHE, ~/.cache/bifrost by default).
#
#   tests/services/kafka.sh start   start (or reuse the running one); prints 127.0.0.1:PORT last
#   tests/services/kafka.sh stop    stop it; its data stays, so `start` brings back the same broker
#   tests/services/kafka.sh reset   stop it and remove its data
#
# State lives in $BIFROST_KAFKA_DIR (/tmp/bifrost-kafka by default).
set -euo pipefail
VERSION="${KAFKA_VERSION:-3.9.1}"
CACHE="${BIFROST_CACHE:-$HOME/.cache/bifrost}/kafka-$VERSION"
STATE="${BIFROST_KAFKA_DIR:-/tmp/bifrost-kafka}"

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "kafka.sh: $*" >&2; }

fetch() {
  [[ -f "$CACHE/libs/kafka_2.13-$VERSION.jar" ]] && return
  command -v mvn >/dev/null || { say "mvn (Maven) is needed to fetch Kafka from Maven Central"; exit 1; }
  say "fetching org.apache.kafka:kafka_2.13:$VERSION from Maven Central into $CACHE"
  mkdir -p "$CACHE"
  cat > "$CACHE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>bifrost.tests</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$CACHE/libs.part"
  (cd "$CACHE" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$CACHE/libs.part") >&2
  mv "$CACHE/libs.part" "$CACHE/libs"
}

java_run() { java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration="file:$STATE/log4j.properties" -cp "$CACHE/libs/*" "$@"; }

configure() {
  mkdir -p "$STATE/data"
  local port cport
  read -r port cport < <(two_free_ports)
  echo "$port" > "$STATE/port"
  cat > "$STATE/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$STATE/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
log.retention.bytes=-1
message.max.bytes=16777216
PROPS
  cat > "$STATE/log4j.properties" <<'LOG'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
LOG
  java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
    -c "$STATE/server.properties" >/dev/null
}

start() {
  if running; then
    echo "127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  command -v java >/dev/null || { say "java (OpenJDK 17) is needed to run the broker"; exit 1; }
  fetch
  [[ -f "$STATE/server.properties" ]] || configure
  local port; port=$(cat "$STATE/port")
  say "starting Kafka $VERSION on 127.0.0.1:$port (state in $STATE)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true -Dkafka.logs.dir="$STATE" \
    -Dlog4j.configuration="file:$STATE/log4j.properties" -cp "$CACHE/libs/*" \
    kafka.Kafka "$STATE/server.properties" > "$STATE/stdout.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  for _ in $(seq 1 600); do
    if ! running; then
      tail -30 "$STATE/stdout.log" "$STATE/server.log" >&2 || true
      say "the broker exited while starting (logs above)"; exit 1
    fi
    if kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q "1 brokers"; then
      echo "127.0.0.1:$port"
      return
    fi
    sleep 0.2
  done
  say "the broker did not answer on 127.0.0.1:$port within 120 s"; exit 1
}

dispatch "$@"
