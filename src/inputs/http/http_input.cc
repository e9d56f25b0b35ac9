#include "inputs/http/http_input.h"

#include <stdexcept>

#include "core/secrets.h"
#include "inputs/common/influx_event.h"

namespace bifrost::inputs::http {

namespace {

void read_auth(const config::Node& n, Auth& auth) {
  config::MapReader a(n);
  auth.user = a.string("user", "", "basic auth: the user");
  std::string password = a.secret("password", "basic auth: the password (or password_file)");
  std::string password_file = a.file("password_file", "basic auth: a file holding the password", /*secret=*/true);
  std::string bearer = a.secret("bearer", "a bearer token (Authorization: Bearer T), or bearer_file");
  std::string bearer_file = a.file("bearer_file", "a file holding the bearer token", /*secret=*/true);
  a.finish();
  const bool basic = !auth.user.empty() || !password.empty() || !password_file.empty();
  const bool token = !bearer.empty() || !bearer_file.empty();
  if (basic == token) {
    n.error("auth needs one of: user (with password or password_file), bearer (or bearer_file)");
    return;
  }
  auto one_of = [&](const std::string& inline_value, const std::string& file, const char* what) {
    if (!inline_value.empty() && !file.empty())
      n.error(std::string("give ") + what + " or " + what + "_file, not both");
    if (inline_value.empty() && file.empty()) n.error(std::string("auth needs ") + what + " or " + what + "_file");
    auth.secret = inline_value;
    auth.secret_file = file;
  };
  if (basic) {
    if (auth.user.empty()) n.error("basic auth needs user");
    auth.kind = Auth::Kind::kBasic;
    one_of(password, password_file, "password");
  } else {
    auth.kind = Auth::Kind::kBearer;
    one_of(bearer, bearer_file, "bearer");
  }
}

}  // namespace

std::string expected_authorization(const Auth& auth) {
  if (auth.kind == Auth::Kind::kNone) return {};
  std::string secret = auth.secret;
  if (!auth.secret_file.empty()) {
    std::string error;
    if (!core::secrets::read_file(auth.secret_file, secret, error)) throw std::runtime_error("auth: " + error);
  }
  if (auth.kind == Auth::Kind::kBearer) return "Bearer " + secret;
  std::string basic = core::secrets::base64(auth.user + ":" + secret);
  core::secrets::add(basic);  // the wire form is as secret as the password
  return "Basic " + basic;
}

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->net.idle_timeout_ns = 60'000'000'000;
  read_listen(r, s->net, "127.0.0.1:8080");
  s->path = r.string("path", s->path, "the path events are POSTed to; other paths are answered 404");
  const std::string decoding =
      r.choice("decoding", "ndjson", {"ndjson", "json", "text", "influx"},
               "ndjson: a JSON object per line; json: an array of objects (or one); text: a message per line; "
               "influx: a point of InfluxDB line protocol per line (measurement, tags, fields, its time)");
  s->decoding = decoding == "json"     ? Decoding::kJson
                : decoding == "text"   ? Decoding::kText
                : decoding == "influx" ? Decoding::kInflux
                                       : Decoding::kNdjson;
  s->precision = read_influx_precision(r);
  s->acknowledgements =
      r.boolean("acknowledgements", s->acknowledgements,
                "answer only once every event of the request is delivered or parked (else: once accepted)");
  s->max_body_bytes = r.bytes("max_body_bytes", s->max_body_bytes, "larger request bodies are answered 413");
  s->max_events =
      r.integer("max_events", s->max_events, 1, 1 << 24, "events in one request at most; more are answered 413");
  s->retry_after_s =
      r.duration_ns("retry_after", 1'000'000'000, "the Retry-After of a 429 (the pipeline is full), whole seconds") /
      1'000'000'000;
  if (s->retry_after_s < 1) s->retry_after_s = 1;
  auto auth = r.get("auth", "map", "", "{user: U, password: P | password_file: F} or {bearer: T | bearer_file: F}");
  read_connection_limits(r, s->net);
  read_tls_server(r, s->net.tls, "HTTPS, with optional client certificates");
  if (r.describing()) return s;
  if (auth) read_auth(*auth, s->auth);
  if (s->path.empty() || s->path[0] != '/') {
    if (auto n = r.node().yaml()["path"]; n.IsDefined()) r.node().child("path", n).error("must start with /");
  }
  return s;
}

}  // namespace bifrost::inputs::http
