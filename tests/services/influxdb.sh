#!/usr/bin/env bash
# A real InfluxDB for the tests: Debian's `influxdb` package (1.6), run in
# the foreground of its own process group with a private config, data
# directory and loopback ports; `influx` (influxdb-client) queries it.
#
#   tests/services/influxdb.sh start   start (or reuse the running one); prints http://127.0.0.1:PORT last
#   tests/services/influxdb.sh stop    stop it; its data stays, so `start` brings back the same server
#   tests/services/influxdb.sh reset   stop it and remove its data
#
# State lives in $BIFROST_INFLUXDB_DIR (/tmp/bifrost-influxdb by default).
set -euo pipefail
STATE="${BIFROST_INFLUXDB_DIR:-/tmp/bifrost-influxdb}"

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "influxdb.sh: $*" >&2; }
configure() {
  mkdir -p "$STATE"
  local port rpc
  read -r port rpc < <(two_free_ports)
  echo "$port" > "$STATE/port"
  cat > "$STATE/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$STATE/meta"
[data]
  dir = "$STATE/data"
  wal-dir = "$STATE/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$port"
  log-enabled = false
  max-body-size = 2000000
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
CONF
}

start() {
  if running; then
    echo "http://127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  command -v influxd >/dev/null || { say "influxd is missing: apt-get install influxdb influxdb-client"; exit 1; }
  [[ -f "$STATE/influxdb.conf" ]] || configure
  local port; port=$(cat "$STATE/port")
  say "starting InfluxDB on 127.0.0.1:$port (state in $STATE)"
  setsid nohup influxd -config "$STATE/influxdb.conf" > "$STATE/influxd.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  for _ in $(seq 1 300); do
    if ! running; then
      tail -30 "$STATE/influxd.log" >&2 || true
      say "influxd exited while starting (log above)"; exit 1
    fi
    if curl -fs -o /dev/null "http://127.0.0.1:$port/ping"; then
      echo "http://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  say "InfluxDB did not answer on 127.0.0.1:$port within 30 s"; exit 1
}

dispatch "$@"
