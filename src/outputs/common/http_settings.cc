#include "outputs/common/http_settings.h"

#include "core/secrets.h"

namespace bifrost::outputs {

namespace {

void read_auth(config::MapReader& a, HttpAuth& auth) {
  const config::Node& n = a.node();
  auth.user = a.string("user", "", "basic auth: the user");
  std::string password = a.secret("password", "basic auth: the password (or password_file)");
  std::string password_file = a.file("password_file", "basic auth: a file holding the password", true);
  std::string bearer = a.secret("bearer", "a bearer token (Authorization: Bearer), or bearer_file");
  std::string bearer_file = a.file("bearer_file", "a file holding the bearer token", true);
  std::string key = a.secret("api_key", "an API key (or api_key_file), sent as the output's scheme says");
  std::string key_file = a.file("api_key_file", "a file holding the API key", true);
  if (a.describing()) return;
  const bool basic = !auth.user.empty() || !password.empty() || !password_file.empty();
  const bool token = !bearer.empty() || !bearer_file.empty();
  const bool api_key = !key.empty() || !key_file.empty();
  if (basic + token + api_key != 1) {
    n.error(
        "auth needs one of: user (with password or password_file), bearer (or bearer_file), api_key (or "
        "api_key_file)");
    return;
  }
  auto one_of = [&](std::string& inline_value, std::string& file, const char* what) {
    if (!inline_value.empty() && !file.empty())
      n.error(std::string("give ") + what + " or " + what + "_file, not both");
    auth.secret = inline_value;
    auth.secret_file = file;
  };
  if (basic) {
    if (auth.user.empty()) n.error("basic auth needs user");
    auth.kind = HttpAuth::Kind::kBasic;
    one_of(password, password_file, "password");
  } else if (token) {
    auth.kind = HttpAuth::Kind::kBearer;
    one_of(bearer, bearer_file, "bearer");
  } else {
    auth.kind = HttpAuth::Kind::kApiKey;
    one_of(key, key_file, "api_key");
  }
}

}  // namespace

void read_tls_and_timeouts(config::MapReader& r, HttpSettings& s) {
  config::read_tls_section(r, s.tls, "tls", "TLS settings for https:// URLs");
  s.timeout_ns = r.duration_ns("timeout", s.timeout_ns, "time limit of a request (connect, send, answer)");
  s.connect_timeout_ns = r.duration_ns("connect_timeout", s.connect_timeout_ns, "time limit to connect");
}

void read_http_settings(config::MapReader& r, HttpSettings& s, const char* unit, const char* rejected_whole) {
  s.gzip = r.choice("compression", "none", {"none", "gzip"}, "compression of request bodies") == "gzip";
  r.section("auth", "one of: user with password (or password_file), bearer (or bearer_file), api_key (or api_key_file)",
            [&](config::MapReader& a) { read_auth(a, s.auth); });
  read_tls_and_timeouts(r, s);
  r.section("batch", std::string(unit) + " per request at most", [&](config::MapReader& b) {
    s.max_events = b.integer("max_events", s.max_events, 1, 1 << 20, std::string(unit) + " per request at most");
    s.max_bytes = b.bytes("max_bytes", s.max_bytes, "bytes per request at most (a larger one is sent alone)");
  });
  s.bisect = r.choice("on_reject", "bisect", {"bisect", "park_all"},
                      std::string("a request rejected whole (") + rejected_whole + ", which does not say which " +
                          unit + " is wrong): bisect: sent again in halves until the rejected " + unit +
                          " are alone (at most 2*ceil(log2 n) more requests per bad one), only they go to the failed "
                          "queue; park_all: all its " +
                          unit + " go to the failed queue") == "bisect";
}

std::optional<config::Node> deprecated_key(config::MapReader& r, const std::string& key, const std::string& type,
                                           const std::string& instead) {
  auto n = r.get(key, type, "", "deprecated: use " + instead);
  if (n) n->warning("\"" + key + "\" is deprecated and goes in the next release: use " + instead);
  return n;
}

core::Result<std::string, Error> read_secret(const std::string& inline_value, const std::string& file) {
  if (file.empty()) return inline_value;
  std::string secret, error;
  if (!core::secrets::read_file(file, secret, error)) return core::fail(Errc::kSecret, error);
  return secret;
}

}  // namespace bifrost::outputs
