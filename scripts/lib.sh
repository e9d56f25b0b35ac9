# Shared by scripts/run, scripts/test, scripts/bench: install what is
# missing (Debian packages only), then build. Quick when all is present.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Packages to build bifrost and its unit tests.
BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libyaml-cpp-dev libre2-dev libpcre2-dev doctest-dev libcpp-httplib-dev libsystemd-dev libsimdjson-dev libabsl-dev zlib1g-dev librdkafka-dev libcurl4-openssl-dev libssl-dev libzstd-dev prometheus-cpp-dev tzdata)
# Packages the tests need beyond the build: promtool checks /metrics;
# lintian, dpkg-dev and systemd check the Debian package and its unit.
# clang and its runtime build the libFuzzer targets. A JDK and Maven fetch
# and run the real Kafka broker (tests/services/kafka.sh); kcat is the
# outside Kafka client. influxdb is the real InfluxDB, influx its client.
# unzip unpacks Elasticsearch (tests/services/elasticsearch.sh). python3-venv makes
# the virtual environment of moto's S3 server (tests/services/s3.sh); zstd reads its objects back.
# clang-format checks the C++ style (.clang-format) before the builds.
# python3-jsonschema validates configs against `bifrost schema` (python3-yaml
# reads them); tmux is the terminal `bifrost top` is tested in. nginx-light
# is the TLS-terminating proxy in front of the real servers
# (tests/services/nginx_tls.sh); openssl makes the test CAs (and Kafka's).
# The network inputs' clients: logger (bsdutils), rsyslog with its TLS
# driver, openssl s_client, curl; the journald input reads files
# systemd-journal-remote writes. wrk loads the real nginx whose access log
# the kill -9 test tails (tests/services/nginx.sh).
TEST_PACKAGES=(logrotate prometheus lintian dpkg-dev systemd clang libclang-rt-14-dev clang-format
  openjdk-17-jre-headless maven kcat influxdb influxdb-client unzip curl python3-jsonschema python3-yaml tmux
  nginx-light openssl bsdutils rsyslog rsyslog-gnutls systemd-journal-remote python3-venv zstd wrk)

# Each step with the time since the script started: the suite's time is watched.
log() { printf '==> %s  [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)) >&2; }

# ensure_packages PKG...: apt-get installs the ones not installed yet.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build DIR [CMAKE_ARGS...] [-- TARGETS...]: configure once, then ninja.
build() {
  local dir="$1"; shift
  local args=() targets=()
  while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; targets=("$@"); break; fi
    args+=("$1"); shift
  done
  if [ ! -f "$ROOT/$dir/build.ninja" ]; then
    log "configuring $dir"
    cmake -S "$ROOT" -B "$ROOT/$dir" -G Ninja "${args[@]}" >/dev/null
  fi
  log "building $dir ${targets[*]}"
  ninja -C "$ROOT/$dir" "${targets[@]}"
}

# Prints a python3 that can import pytest and the modules the tests use
# (jsonschema, yaml), installing Debian's if the first python3 lacks one.
python_with_pytest() {
  if command -v python3 >/dev/null && python3 -c 'import pytest, jsonschema, yaml' 2>/dev/null; then
    command -v python3
    return
  fi
  ensure_packages python3 python3-pytest python3-jsonschema python3-yaml
  echo /usr/bin/python3
}
