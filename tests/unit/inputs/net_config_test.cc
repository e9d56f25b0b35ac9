// The network inputs' options: defaults, and errors located at the key.
#include <doctest.h>

#include "config/model.h"
#include "inputs/http/http_input.h"
#include "inputs/journald/journald_input.h"
#include "inputs/syslog/syslog_input.h"
#include "inputs/tcp/tcp_input.h"

using namespace bifrost;

namespace {

struct Loaded {
  std::unique_ptr<config::Config> cfg;
  config::Diagnostics diag;
};

Loaded load_input(const std::string& input) {
  Loaded l;
  l.cfg = config::load_text("t.yaml", "inputs:\n  - id: in\n    " + input + "\noutputs: [{id: out, type: stdout}]\n",
                            l.diag);
  return l;
}

// An error at line `line` (the input's keys start at line 3) holding `fragment`.
bool error_at(const Loaded& l, int line, const std::string& fragment) {
  for (const auto& d : l.diag.items()) {
    if (d.loc.line == line && d.message.find(fragment) != std::string::npos) return true;
  }
  return false;
}

template <class Spec>
const Spec& spec_of(const Loaded& l) {
  INFO(l.diag.render());
  REQUIRE(l.cfg);
  return dynamic_cast<const Spec&>(*l.cfg->pipelines.at(0).inputs.at(0).spec);
}

}  // namespace

TEST_CASE("network inputs listen on loopback by default") {
  auto s = load_input("type: syslog");
  const auto& sy = spec_of<inputs::syslog::Spec>(s);
  CHECK(sy.net.listen.text == "127.0.0.1:5514");
  CHECK(sy.mode == inputs::syslog::Spec::Mode::kUdp);
  CHECK(sy.max_message_bytes == 64u << 10);
  auto t = load_input("type: tcp");
  CHECK(spec_of<inputs::tcp::Spec>(t).net.listen.text == "127.0.0.1:5170");
  CHECK(spec_of<inputs::tcp::Spec>(t).net.max_connections == 256);
  auto h = load_input("type: http");
  CHECK(spec_of<inputs::http::Spec>(h).net.listen.text == "127.0.0.1:8080");
  CHECK(spec_of<inputs::http::Spec>(h).acknowledgements);
}

TEST_CASE("syslog options: mode, framing, timezone and tls are checked together") {
  CHECK(error_at(load_input("type: syslog\n    listen: somewhere:514"), 4, "expected HOST:PORT"));
  CHECK(error_at(load_input("type: syslog\n    mode: tls"), 4, "mode: tls needs tls"));
  CHECK(error_at(load_input("type: syslog\n    framing: octet_counting"), 4, "framing applies to mode tcp and tls"));
  CHECK(error_at(load_input("type: syslog\n    mode: tcp\n    framing: octets"), 5, "is not one of"));
  CHECK(error_at(load_input("type: syslog\n    timezone: Mars/Olympus"), 4, "unknown time zone"));
  CHECK(error_at(load_input("type: syslog\n    mode: tcp\n    tls: {cert_file: a, key_file: b}"), 5,
                 "applies to mode: tls"));
  CHECK(error_at(load_input("type: syslog\n    mode: tls\n    tls: {cert_file: a}"), 5, "key_file"));
  auto ok = load_input(
      "type: syslog\n    mode: tls\n    framing: octet_counting\n    timezone: Europe/Berlin\n"
      "    tls: {cert_file: a, key_file: b, ca_file: c}");
  const auto& s = spec_of<inputs::syslog::Spec>(ok);
  CHECK(s.framing == inputs::Framing::kOctetCounting);
  CHECK_FALSE(s.timezone.utc);
  CHECK(s.net.tls.client_auth == inputs::TlsServerSettings::ClientAuth::kRequired);
}

TEST_CASE("tls: client_auth defaults by ca_file, and needs one to ask for certificates") {
  auto none = load_input("type: tcp\n    tls: {cert_file: a, key_file: b}");
  CHECK(spec_of<inputs::tcp::Spec>(none).net.tls.client_auth == inputs::TlsServerSettings::ClientAuth::kNone);
  auto opt = load_input("type: tcp\n    tls: {cert_file: a, key_file: b, ca_file: c, client_auth: optional}");
  CHECK(spec_of<inputs::tcp::Spec>(opt).net.tls.client_auth == inputs::TlsServerSettings::ClientAuth::kOptional);
  CHECK(error_at(load_input("type: tcp\n    tls: {cert_file: a, key_file: b, client_auth: required}"), 4,
                 "needs ca_file"));
}

TEST_CASE("http options: auth needs one kind, path starts with /, limits") {
  CHECK(error_at(load_input("type: http\n    auth: {user: u, bearer: t}"), 4, "auth needs one of"));
  CHECK(error_at(load_input("type: http\n    auth: {user: u}"), 4, "password"));
  CHECK(error_at(load_input("type: http\n    path: ingest"), 4, "must start with /"));
  CHECK(error_at(load_input("type: http\n    decoding: xml"), 4, "is not one of"));
  auto ok = load_input("type: http\n    auth: {bearer: t}\n    max_body_bytes: 1MiB\n    acknowledgements: false");
  const auto& h = spec_of<inputs::http::Spec>(ok);
  CHECK(h.auth.kind == inputs::http::Auth::Kind::kBearer);
  CHECK(h.max_body_bytes == 1u << 20);
  CHECK_FALSE(h.acknowledgements);
  CHECK(inputs::http::expected_authorization(h.auth) == "Bearer t");
  inputs::http::Auth basic{inputs::http::Auth::Kind::kBasic, "Aladdin", "open sesame", ""};
  CHECK(inputs::http::expected_authorization(basic) == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST_CASE("journald options: units get .service, priority by number or name") {
  auto j = load_input("type: journald\n    units: [nginx, foo.socket]\n    priority: warning");
  const auto& s = spec_of<inputs::journald::Spec>(j);
  CHECK(s.units == std::vector<std::string>{"nginx.service", "foo.socket"});
  CHECK(s.priority == 4);
  CHECK(spec_of<inputs::journald::Spec>(load_input("type: journald\n    priority: 2")).priority == 2);
  CHECK(error_at(load_input("type: journald\n    priority: loud"), 4, "is not one of"));
}
