#!/usr/bin/env bash
# A real S3 API server for the tests: moto's server (PyPI `moto[server]`,
# pinned) in a virtual environment made under ~/.cache/bifrost (Debian's
# python3 with python3-venv), with boto3 beside it for the tests to read
# objects back. Path-style requests, any region; moto checks signatures only
# once its IAM authentication is switched on (POST /moto-api/reset-auth),
# which the credentials test does for itself.
#
#   tests/services/s3.sh start   start (or reuse the running one); prints http://127.0.0.1:PORT last
#   tests/services/s3.sh stop    stop it (moto keeps its buckets in memory: they go with it)
#   tests/services/s3.sh reset   stop it and remove its state directory
#   tests/services/s3.sh python  prints the venv's python (with boto3), installing it if needed
#   tests/services/s3.sh pause   SIGSTOP: the server takes connections but answers nothing (an outage
#   tests/services/s3.sh resume  that keeps its buckets: moto keeps them in memory, so `stop` loses them)
#
# State lives in $BIFROST_S3_DIR (/tmp/bifrost-s3 by default).
set -euo pipefail
STATE="${BIFROST_S3_DIR:-/tmp/bifrost-s3}"
MOTO_VERSION=5.2.6
VENV="${BIFROST_CACHE:-$HOME/.cache/bifrost}/moto-$MOTO_VERSION"

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { echo "s3.sh: $*" >&2; }

install_moto() {
  [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import moto.server, boto3' 2>/dev/null && return
  say "installing moto[server]==$MOTO_VERSION into $VENV"
  mkdir -p "$(dirname "$VENV")"
  rm -rf "$VENV.tmp"
  /usr/bin/python3 -m venv "$VENV.tmp" || { say "python3 -m venv failed: apt-get install python3-venv"; exit 1; }
  "$VENV.tmp/bin/pip" install -q "moto[server]==$MOTO_VERSION" >&2 || { say "pip install moto[server] failed"; exit 1; }
  rm -rf "$VENV"
  mv "$VENV.tmp" "$VENV"  # the scripts' shebangs break on a move: everything runs as python -m
}

start() {
  if running; then
    echo "http://127.0.0.1:$(cat "$STATE/port")"
    return
  fi
  install_moto
  mkdir -p "$STATE"
  local port; port=$(free_port)
  echo "$port" > "$STATE/port"
  say "starting moto's S3 server on 127.0.0.1:$port (state in $STATE)"
  setsid nohup "$VENV/bin/python" -m moto.server -H 127.0.0.1 -p "$port" > "$STATE/moto.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  for _ in $(seq 1 300); do
    if ! running; then
      tail -30 "$STATE/moto.log" >&2 || true
      say "moto exited while starting (log above)"; exit 1
    fi
    if curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
      echo "http://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  say "moto did not answer on 127.0.0.1:$port within 30 s"; exit 1
}

case "${1:-}" in
  python) install_moto; echo "$VENV/bin/python" ;;
  pause) running && kill -STOP "$(cat "$STATE/pid")" ;;
  resume) running && kill -CONT "$(cat "$STATE/pid")" ;;
  *) dispatch "$@" ;;
esac
