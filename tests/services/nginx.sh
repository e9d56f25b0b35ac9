#!/usr/bin/env bash
# A real nginx (Debian's nginx-light) for the tests: a private instance in
# the foreground of its own process group, with its own config, pid file,
# logs and temp directories under $BIFROST_NGINX_DIR and a free loopback
# port; never the system's service. It answers every request with 200 and
# writes an access log (the "combined" format plus the request's id, so
# every line is unique) to $BIFROST_NGINX_DIR/logs/access.log.
#
#   tests/services/nginx.sh start   start (or reuse the running one); prints http://127.0.0.1:PORT last
#   tests/services/nginx.sh stop    stop it; its logs stay
#   tests/services/nginx.sh reset   stop it and remove its state
#   tests/services/nginx.sh reopen  reopen the access log (after a rotation: logrotate's postrotate)
#
# A test runs its own: BIFROST_NGINX_DIR=<its tmp dir>/nginx (the default,
# /tmp/bifrost-nginx-load, is for trying it by hand).
set -euo pipefail
STATE="${BIFROST_NGINX_DIR:-/tmp/bifrost-nginx-load}"

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "nginx.sh: $*" >&2; }

configure() {
  mkdir -p "$STATE/logs" "$STATE/tmp"
  local port; port=$(free_port)
  echo "$port" > "$STATE/port"
  cat > "$STATE/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $STATE/nginx.pid;
error_log $STATE/logs/error.log warn;
events { worker_connections 1024; }
http {
  log_format bifrost '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent '
                     '"\$http_referer" "\$http_user_agent" \$request_id';
  access_log $STATE/logs/access.log bifrost;
  client_body_temp_path $STATE/tmp/body;
  proxy_temp_path $STATE/tmp/proxy;
  fastcgi_temp_path $STATE/tmp/fastcgi;
  uwsgi_temp_path $STATE/tmp/uwsgi;
  scgi_temp_path $STATE/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "ok\n"; }
  }
}
CONF
}

start() {
  if running; then
    echo "http://127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || { say "nginx is missing: apt-get install nginx-light"; exit 1; }
  local nginx; nginx=$(command -v nginx || echo /usr/sbin/nginx)
  [[ -f "$STATE/nginx.conf" ]] || configure
  local port; port=$(cat "$STATE/port")
  say "starting nginx on 127.0.0.1:$port (state in $STATE)"
  # -e: its error log from the start (not /var/log/nginx before the config is read).
  setsid nohup "$nginx" -p "$STATE/" -e "$STATE/logs/error.log" -c "$STATE/nginx.conf" \
    > "$STATE/nginx.out" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  for _ in $(seq 1 100); do
    if ! running; then
      tail -20 "$STATE/nginx.out" "$STATE/logs/error.log" >&2 2>/dev/null || true
      say "nginx exited while starting (log above)"; exit 1
    fi
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/"; then
      echo "http://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  say "nginx did not answer on 127.0.0.1:$port within 10 s"; stop; exit 1
}

reopen() {
  running || { say "not running"; exit 1; }
  kill -USR1 "$(cat "$STATE/pid")"
}

if [[ "${1:-}" == "reopen" ]]; then reopen; else dispatch "$@"; fi
