#!/usr/bin/env bash
# A real Elasticsearch for the tests: the integ-test-zip distribution
# (org.elasticsearch.distribution.integ-test-zip:elasticsearch, a full
# server without the x-pack extras) from Maven Central, cached in
# $BIFROST_CACHE (~/.cache/bifrost), single node on 127.0.0.1, small heap.
# It refuses to run as root: as root it runs as the system user
# `bifrost-es` (created here).
#
#   tests/services/elasticsearch.sh start   start (or reuse the running one); prints http://127.0.0.1:PORT last
#   tests/services/elasticsearch.sh stop    stop it; its data stays, so `start` brings back the same server
#   tests/services/elasticsearch.sh reset   stop it and remove its data
#
# State lives in $BIFROST_ES_DIR (/tmp/bifrost-elasticsearch by default).
# $BIFROST_ES_SETTINGS adds lines to elasticsearch.yml when the state is
# first made (a tiny write queue: "thread_pool.write.queue_size: 2").
set -euo pipefail
VERSION="${ES_VERSION:-8.15.3}"
CACHE="${BIFROST_CACHE:-$HOME/.cache/bifrost}/elasticsearch-$VERSION"
STATE="${BIFROST_ES_DIR:-/tmp/bifrost-elasticsearch}"
RUN_AS=bifrost-es
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "elasticsearch.sh: $*" >&2; }

fetch() {
  [[ -f "$CACHE/elasticsearch-$VERSION.zip" ]] && return
  command -v mvn >/dev/null || { say "mvn (Maven) is needed to fetch Elasticsearch from Maven Central"; exit 1; }
  say "fetching org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION from Maven Central"
  mkdir -p "$CACHE"
  mvn -q -B dependency:copy -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip" \
    -DoutputDirectory="$CACHE.part" >&2
  mv "$CACHE.part/elasticsearch-$VERSION.zip" "$CACHE/"
  rm -rf "$CACHE.part"
}

as_user() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u "$RUN_AS" -- "$@"
  else
    "$@"
  fi
}

configure() {
  fetch
  if [[ "$(id -u)" -eq 0 ]] && ! id "$RUN_AS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
  fi
  rm -rf "$STATE"
  mkdir -p "$STATE"
  (cd "$STATE" && unzip -q "$CACHE/elasticsearch-$VERSION.zip" && mv "elasticsearch-$VERSION" home)
  local port tport
  read -r port tport < <(two_free_ports)
  echo "$port" > "$STATE/port"
  cat >> "$STATE/home/config/elasticsearch.yml" <<YML
cluster.name: bifrost-tests
node.name: node-1
discovery.type: single-node
network.host: 127.0.0.1
http.port: $port
transport.port: $tport
path.data: $STATE/data
path.logs: $STATE/logs
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
${BIFROST_ES_SETTINGS:-}
YML
  mkdir -p "$STATE/data" "$STATE/logs"
  [[ "$(id -u)" -eq 0 ]] && chown -R "$RUN_AS" "$STATE"
  chmod 755 "$STATE"
}

start() {
  if running; then
    echo "http://127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  command -v java >/dev/null || { say "java (OpenJDK 17) is needed"; exit 1; }
  [[ -f "$STATE/home/config/elasticsearch.yml" ]] || configure
  local port; port=$(cat "$STATE/port")
  say "starting Elasticsearch $VERSION on 127.0.0.1:$port (state in $STATE)"
  rm -f "$STATE/es.pid"
  as_user env ES_JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" \
    ES_JAVA_OPTS="-Xms512m -Xmx512m" \
    "$STATE/home/bin/elasticsearch" -d -p "$STATE/es.pid" > "$STATE/start.log" 2>&1 || {
      tail -40 "$STATE/start.log" >&2; say "Elasticsearch did not start (log above)"; exit 1; }
  for _ in $(seq 1 1200); do
    [[ -s "$STATE/es.pid" ]] && cp "$STATE/es.pid" "$STATE/pid"
    if curl -fs "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port"
      return
    fi
    if [[ -f "$STATE/pid" ]] && ! running; then
      tail -40 "$STATE/logs/bifrost-tests.log" >&2 || true
      say "Elasticsearch exited while starting (log above)"; exit 1
    fi
    sleep 0.1
  done
  say "Elasticsearch did not answer on 127.0.0.1:$port within 120 s"; exit 1
}

dispatch "$@"
