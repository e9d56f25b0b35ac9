#!/usr/bin/env bash
# A real Apache Kafka broker for the tests: single node, KRaft (no
# ZooKeeper), on 127.0.0.1, from its Maven Central artifacts
# (org.apache.kafka:kafka_2.13 and what it needs, resolved by Maven, cached
# in $BIFROST_CACHE, ~/.cache/bifrost by default).
#
#   tests/services/kafka.sh start   start (or reuse the running one); prints 127.0.0.1:PORT last
#   tests/services/kafka.sh secure  start (or reuse); prints the secured listener as one JSON line, last
#   tests/services/kafka.sh stop    stop it; its data stays, so `start` brings back the same broker
#   tests/services/kafka.sh reset   stop it and remove its data
#   tests/services/kafka.sh topic-config TOPIC KEY=VALUE[,KEY=VALUE]
#                                   set configs of an existing topic (Kafka's ConfigCommand,
#                                   as kafka-configs --alter --add-config does)
#
# Besides the plaintext listener (PORT, the principal User:ANONYMOUS, a
# super user: the tests' admin), the broker opens a SASL_SSL listener from
# its first start: a certificate for 127.0.0.1 and localhost from a test CA
# (openssl, kept in the state dir), mechanisms PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512 for the user `bifrost` (SCRAM credentials made by Kafka's
# own kafka-storage format --add-scram), OAUTHBEARER with tokens checked by
# Kafka's OAuthBearerValidatorCallbackHandler against the public key of a
# test identity provider (idp.key, served by tests/services/oidc_token.py,
# its JWKS in a file), and KRaft's StandardAuthorizer:
# `bifrost` may use topics and groups whose names start with "sec-" (ACLs
# made by kafka-acls once), nothing else. `secure` prints
#   {"address": "127.0.0.1:SPORT", "ca_file": ..., "other_ca_file": ..., "user": "bifrost",
#    "password_file": ..., "idp_key": ..., "prefix": "sec-"}
# (other_ca_file: a CA that did not sign the broker's certificate).
#
# State lives in $BIFROST_KAFKA_DIR (/tmp/bifrost-kafka by default).
set -euo pipefail
VERSION="${KAFKA_VERSION:-3.9.1}"
CACHE="${BIFROST_CACHE:-$HOME/.cache/bifrost}/kafka-$VERSION"
STATE="${BIFROST_KAFKA_DIR:-/tmp/bifrost-kafka}"

SECURE="$STATE/secure"
EXTRA_VERBS="secure topic-config"
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

# The test CA, the broker's certificate (its PEM "keystore": key then
# certificate) and the user's password, made once.
make_secrets() {
  make_test_ca "$SECURE" ca
  make_test_ca "$SECURE" other-ca
  make_test_cert "$SECURE" ca broker "IP:127.0.0.1,DNS:localhost"
  cat "$SECURE/broker.key" "$SECURE/broker.pem" > "$SECURE/broker-keystore.pem"
  chmod 600 "$SECURE/broker-keystore.pem"
  if [[ ! -f "$SECURE/password" ]]; then
    (umask 077; head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$SECURE/password")
  fi
  if [[ ! -f "$SECURE/jwks.json" ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$SECURE/idp.key" 2>/dev/null
    chmod 600 "$SECURE/idp.key"
    openssl rsa -in "$SECURE/idp.key" -noout -modulus | python3 -c '
import base64, json, sys
n = bytes.fromhex(sys.stdin.read().strip().split("=", 1)[1])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "bifrost-test", "use": "sig", "alg": "RS256",
                            "n": b64(n), "e": "AQAB"}]}))' > "$SECURE/jwks.json"
  fi
}

configure() {
  mkdir -p "$STATE/data"
  make_secrets
  local port cport sport pw
  read -r port cport < <(two_free_ports)
  sport=$(free_port)
  while [[ "$sport" == "$port" || "$sport" == "$cport" ]]; do sport=$(free_port); done
  pw=$(cat "$SECURE/password")
  echo "$port" > "$STATE/port"
  echo "$sport" > "$STATE/secure_port"
  cat > "$STATE/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$SECURE/broker-keystore.pem
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_bifrost="$pw";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
sasl.oauthbearer.jwks.endpoint.url=file://$SECURE/jwks.json
sasl.oauthbearer.expected.issuer=bifrost-test-idp
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=false
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
    -c "$STATE/server.properties" \
    --add-scram "SCRAM-SHA-256=[name=bifrost,password=$pw]" \
    --add-scram "SCRAM-SHA-512=[name=bifrost,password=$pw]" >/dev/null
}

# What `bifrost` may do through the SASL_SSL listener: topics and groups
# named sec-*; made once, over the plaintext listener (a super user).
grant_acls() {
  [[ -f "$STATE/acls.done" ]] && return
  java_run kafka.admin.AclCommand --bootstrap-server "127.0.0.1:$(cat "$STATE/port")" --add \
    --allow-principal User:bifrost --operation All --topic sec- --group sec- \
    --resource-pattern-type prefixed >/dev/null
  touch "$STATE/acls.done"
}

secure() {
  start >/dev/null
  printf '{"address": "127.0.0.1:%s", "ca_file": "%s", "other_ca_file": "%s", "user": "bifrost", ' \
    "$(cat "$STATE/secure_port")" "$SECURE/ca.pem" "$SECURE/other-ca.pem"
  printf '"password_file": "%s", "idp_key": "%s", "prefix": "sec-"}\n' "$SECURE/password" "$SECURE/idp.key"
}

start() {
  if [[ -f "$STATE/server.properties" ]] && ! grep -q OAUTHBEARER "$STATE/server.properties"; then
    # Made by an older kafka.sh, without the secured listener: made again.
    say "the state in $STATE has no SASL_SSL listener (an older kafka.sh): resetting it"
    stop
    rm -rf "$STATE"
  fi
  if running && [[ -f "$STATE/acls.done" ]]; then
    echo "127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  command -v java >/dev/null || { say "java (OpenJDK 17) is needed to run the broker"; exit 1; }
  command -v openssl >/dev/null || { say "openssl is needed to make the test CA"; exit 1; }
  fetch
  [[ -f "$STATE/server.properties" ]] || configure
  if running; then  # up, but its ACLs were not made yet
    grant_acls
    echo "127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  local port; port=$(cat "$STATE/port")
  say "starting Kafka $VERSION on 127.0.0.1:$port (state in $STATE)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true -Dkafka.logs.dir="$STATE" \
    -Dorg.apache.kafka.sasl.oauthbearer.allowed.urls="file://$SECURE/jwks.json" \
    -Dlog4j.configuration="file:$STATE/log4j.properties" -cp "$CACHE/libs/*" \
    kafka.Kafka "$STATE/server.properties" > "$STATE/stdout.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  for _ in $(seq 1 600); do
    if ! running; then
      tail -30 "$STATE/stdout.log" "$STATE/server.log" >&2 || true
      say "the broker exited while starting (logs above)"; exit 1
    fi
    if kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q "1 brokers"; then
      grant_acls
      echo "127.0.0.1:$port"
      return
    fi
    sleep 0.2
  done
  say "the broker did not answer on 127.0.0.1:$port within 120 s"; exit 1
}

topic_config() {
  local topic="${ARGS[0]:-}" configs="${ARGS[1]:-}"
  [[ -n "$topic" && -n "$configs" ]] || { say "usage: kafka.sh topic-config TOPIC KEY=VALUE[,KEY=VALUE]"; exit 2; }
  running || { say "the broker is not running"; exit 1; }
  java_run kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$(cat "$STATE/port")" \
    --entity-type topics --entity-name "$topic" --alter --add-config "$configs" >&2
}

ARGS=("${@:2}")
dispatch "$@"
