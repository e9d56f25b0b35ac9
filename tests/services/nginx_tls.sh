#!/usr/bin/env bash
# nginx (Debian's nginx-light) as a TLS-terminating proxy for the tests: it
# puts HTTPS, with a certificate from a test CA, in front of the real
# servers (Elasticsearch, InfluxDB, an HTTP sink), on 127.0.0.1. Its own
# config, pid, logs and temporary files live in its state dir; no system
# service is touched.
#
#   tests/services/nginx_tls.sh start   start (or reuse the running one); prints its state dir last
#   tests/services/nginx_tls.sh pki     prints the test PKI as one JSON line, last:
#       {"ca_file", "other_ca_file", "client_cert", "client_key", "other_client_cert", "other_client_key"}
#   tests/services/nginx_tls.sh proxy NAME UPSTREAM [--mtls] [--authorization VALUE]
#       an HTTPS server on a free port that passes requests to UPSTREAM (HOST:PORT);
#       --mtls: only with a client certificate from the test CA; --authorization:
#       only with this exact Authorization header (else 401, quoting the header it got). Prints PORT last.
#       It listens on 127.0.0.1 (named in the certificate, with localhost) and on
#       127.0.0.2 (not named: for host name checks).
#   tests/services/nginx_tls.sh stop    stop it
#   tests/services/nginx_tls.sh reset   stop it and remove its state (the PKI too)
#
# State lives in $BIFROST_NGINX_DIR (/tmp/bifrost-nginx by default).
set -euo pipefail
STATE="${BIFROST_NGINX_DIR:-/tmp/bifrost-nginx}"
PKI="$STATE/pki"
EXTRA_VERBS="pki proxy"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "nginx_tls.sh: $*" >&2; }

NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

make_pki() {
  make_test_ca "$PKI" ca
  make_test_ca "$PKI" other-ca
  make_test_cert "$PKI" ca server "IP:127.0.0.1,DNS:localhost"
  make_test_cert "$PKI" ca client "DNS:bifrost-client"
  make_test_cert "$PKI" other-ca other-client "DNS:bifrost-client"
}

configure() {
  mkdir -p "$STATE/sites" "$STATE/tmp"
  make_pki
  cat > "$STATE/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $STATE/nginx.pid;
error_log $STATE/error.log warn;
events { worker_connections 512; }
http {
  access_log $STATE/access.log;
  client_body_temp_path $STATE/tmp/body;
  proxy_temp_path $STATE/tmp/proxy;
  fastcgi_temp_path $STATE/tmp/fastcgi;
  uwsgi_temp_path $STATE/tmp/uwsgi;
  scgi_temp_path $STATE/tmp/scgi;
  client_max_body_size 0;
  ssl_certificate $PKI/server.pem;
  ssl_certificate_key $PKI/server.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  include $STATE/sites/*.conf;
}
CONF
}

listening() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null; }

start() {
  if running; then
    echo "$STATE"
    return
  fi
  [[ -x "$NGINX" ]] || { say "nginx is needed (Debian: nginx-light)"; exit 1; }
  command -v openssl >/dev/null || { say "openssl is needed to make the test CA"; exit 1; }
  configure
  "$NGINX" -t -p "$STATE" -c "$STATE/nginx.conf" -e "$STATE/error.log" >/dev/null 2>"$STATE/check.log" ||
    { cat "$STATE/check.log" >&2; say "nginx refuses its config (above)"; exit 1; }
  nohup "$NGINX" -p "$STATE" -c "$STATE/nginx.conf" -e "$STATE/error.log" > "$STATE/stdout.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  for _ in $(seq 1 100); do
    [[ -f "$STATE/nginx.pid" ]] && { echo "$STATE"; return; }
    running || { tail -20 "$STATE/error.log" "$STATE/stdout.log" >&2 || true; say "nginx exited while starting"; exit 1; }
    sleep 0.05
  done
  say "nginx did not start within 5 s"; exit 1
}

pki() {
  start >/dev/null
  printf '{"ca_file": "%s", "other_ca_file": "%s", "client_cert": "%s", "client_key": "%s", ' \
    "$PKI/ca.pem" "$PKI/other-ca.pem" "$PKI/client.pem" "$PKI/client.key"
  printf '"other_client_cert": "%s", "other_client_key": "%s"}\n' "$PKI/other-client.pem" "$PKI/other-client.key"
}

# The server block of a proxy on PORT (uses upstream, mtls, authorization).
site() {
  local port="$1"
  echo "server {"
  echo "  listen 127.0.0.1:$port ssl;"
  echo "  listen 127.0.0.2:$port ssl;"
  if [[ -n "$mtls" ]]; then
    echo "  ssl_client_certificate $PKI/ca.pem;"
    echo "  ssl_verify_client on;"
  fi
  if [[ -n "$authorization" ]]; then
    # The answer quotes what was sent, as some servers do: the tests check
    # that bifrost never writes a secret a server echoes back.
    printf '  if ($http_authorization != "%s") { return 401 "unauthorized (got: $http_authorization)\\n"; }\n' \
      "$authorization"
  fi
  echo "  location / {"
  echo "    proxy_pass http://$upstream;"
  echo "    proxy_http_version 1.1;"
  echo "    proxy_set_header Connection \"\";"
  echo "    proxy_request_buffering off;"
  echo "    proxy_buffering off;"
  echo "  }"
  echo "}"
}

proxy() {
  local name="${ARGS[0]:-}" upstream="${ARGS[1]:-}" mtls="" authorization=""
  [[ "$name" =~ ^[A-Za-z0-9_-]+$ && -n "$upstream" ]] ||
    { echo "usage: $0 proxy NAME HOST:PORT [--mtls] [--authorization VALUE]" >&2; exit 2; }
  local i=2
  while (( i < ${#ARGS[@]} )); do
    case "${ARGS[$i]}" in
      --mtls) mtls=1 ;;
      --authorization) i=$((i + 1)); authorization="${ARGS[$i]}" ;;
      *) echo "nginx_tls.sh proxy: unknown option ${ARGS[$i]}" >&2; exit 2 ;;
    esac
    i=$((i + 1))
  done
  start >/dev/null
  local port conf="$STATE/sites/$name.conf"
  if [[ -f "$STATE/sites/$name.port" ]]; then port=$(cat "$STATE/sites/$name.port"); else port=$(free_port); fi
  site "$port" > "$conf.part"
  if [[ -f "$conf" ]] && cmp -s "$conf.part" "$conf" && listening "$port"; then
    rm "$conf.part"
    echo "$port"  # the same proxy, already serving
    return
  fi
  if [[ -f "$conf" ]]; then  # changed: a new port, so that "listening" below means the new server
    port=$(free_port)
    site "$port" > "$conf.part"
  fi
  mv "$conf.part" "$conf"
  echo "$port" > "$STATE/sites/$name.port"
  if ! "$NGINX" -t -p "$STATE" -c "$STATE/nginx.conf" -e "$STATE/error.log" >/dev/null 2>"$STATE/check.log"; then
    cat "$STATE/check.log" >&2
    rm -f "$conf" "$STATE/sites/$name.port"
    say "nginx refuses the proxy $name (above)"; exit 1
  fi
  kill -HUP "$(cat "$STATE/pid")"
  for _ in $(seq 1 100); do
    listening "$port" && { echo "$port"; return; }
    sleep 0.05
  done
  say "the proxy $name does not listen on 127.0.0.1:$port after 5 s"; tail -5 "$STATE/error.log" >&2; exit 1
}

ARGS=("${@:2}")
dispatch "$@"
