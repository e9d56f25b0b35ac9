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

# A test certificate authority: DIR/NAME.key and DIR/NAME.pem (EC P-256,
# self-signed, ten years), made once (openssl).
make_test_ca() {
  local dir="$1" name="$2"
  [[ -f "$dir/$name.pem" ]] && return
  mkdir -p "$dir"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout "$dir/$name.key" -out "$dir/$name.pem.part" -subj "/CN=bifrost test CA $name" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 600 "$dir/$name.key"
  mv "$dir/$name.pem.part" "$dir/$name.pem"
}

# A key and certificate signed by test CA CA_NAME (in DIR): DIR/NAME.key,
# DIR/NAME.pem, for the names in SAN ("IP:127.0.0.1,DNS:localhost"),
# usable by a server and a client; made once.
make_test_cert() {
  local dir="$1" ca="$2" name="$3" san="$4"
  [[ -f "$dir/$name.pem" ]] && return
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$name.key" \
    -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$san" \
    > "$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" -CAcreateserial -days 3650 \
    -extfile "$dir/$name.ext" -out "$dir/$name.pem.part" 2>/dev/null
  chmod 600 "$dir/$name.key"
  rm -f "$dir/$name.csr" "$dir/$name.ext"
  mv "$dir/$name.pem.part" "$dir/$name.pem"
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

# The command line every service script takes (a script may take more
# verbs: it lists them in EXTRA_VERBS and defines a function of each name).
dispatch() {
  case "${1:-}" in
    start) start ;;
    stop) stop ;;
    reset) stop; rm -rf "$STATE" ;;
    *)
      local v
      for v in ${EXTRA_VERBS:-}; do
        if [[ "${1:-}" == "$v" ]]; then "${v//-/_}"; return; fi
      done
      echo "usage: $0 start|stop|reset${EXTRA_VERBS:+|${EXTRA_VERBS// /|}}" >&2; exit 2 ;;
  esac
}
