# Shared by the service scripts: each sets STATE (its state directory, with
# `pid` and `port` files) before sourcing this.

running() { [[ -f "$STATE/pid" ]] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Two distinct free ports, "A B".
two_free_ports() {
  local a b
  a=$(free_port); b=$(free_port)
  while [[ "$a" == "$b" ]]; do b=$(free_port); done
  echo "$a $b"
}

# Stops the service: SIGTERM, up to 30 s, then SIGKILL.
stop() {
  running || return 0
  local pid; pid=$(cat "$STATE/pid")
  kill "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$STATE/pid"
}

# The command line every service script takes.
dispatch() {
  case "${1:-}" in
    start) start ;;
    stop) stop ;;
    reset) stop; rm -rf "$STATE" ;;
    *) echo "usage: $0 start|stop|reset" >&2; exit 2 ;;
  esac
}
