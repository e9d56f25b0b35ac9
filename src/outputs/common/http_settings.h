// The keys every output that speaks HTTP shares (http, elasticsearch,
// influxdb), read by one function so that they are spelt, defaulted and
// checked the same everywhere:
//
//   compression: none | gzip
//   auth: {user: U, password: P | password_file: F}   basic
//         {bearer: T | bearer_file: F}                 Authorization: Bearer T
//         {api_key: K | api_key_file: F}               Authorization: <scheme> K (scheme per output)
//   tls: {ca_file: F, verify: true, cert_file: F, key_file: F}
//   batch: {max_events: N, max_bytes: SIZE}
//   timeout: DURATION, connect_timeout: DURATION
//   on_reject: bisect | park_all    a request rejected whole (bisect.h)
//
// Pure: no file is opened while reading (secrets are read when the output
// is built, see http_client.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/reader.h"
#include "config/tls_reader.h"
#include "core/result.h"

namespace bifrost::outputs {

struct HttpAuth {
  // kAwsSigV4: AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4), user
  // the access key id, secret the secret access key (HttpSettings::sigv4).
  enum class Kind : std::uint8_t { kNone, kBasic, kBearer, kApiKey, kAwsSigV4 } kind = Kind::kNone;
  std::string user;
  std::string secret;       // the password, bearer token or API key given inline
  std::string secret_file;  // or the file that holds it
};

struct HttpSettings {
  bool gzip = false;
  HttpAuth auth;
  config::TlsSettings tls;  // the keys every client shares (config/tls_reader.h)
  std::int64_t max_events = 1000;
  std::uint64_t max_bytes = 10u << 20;
  std::int64_t timeout_ns = 10'000'000'000;
  std::int64_t connect_timeout_ns = 5'000'000'000;
  std::string sigv4;   // with HttpAuth::Kind::kAwsSigV4: "aws:amz:REGION:SERVICE"
  bool bisect = true;  // on_reject: bisect (split a rejected request, bisect.h) or park_all
};

// Reads the shared keys into `s`, whose values are the output's defaults.
// `unit` names what a request holds ("documents", "points", "events");
// `rejected_whole`, the answers that reject a request for something in it
// (what on_reject applies to).
void read_http_settings(config::MapReader& r, HttpSettings& s, const char* unit,
                        const char* rejected_whole = "HTTP 400, 413 or 422");

// Only `tls`, `timeout` and `connect_timeout`, for an output whose other
// keys differ (s3: its own auth, compression and batching).
void read_tls_and_timeouts(config::MapReader& r, HttpSettings& s);

// A key kept for one release under its old name: reads it (so that it is
// known), and when given warns, naming the key that replaces it.
std::optional<config::Node> deprecated_key(config::MapReader& r, const std::string& key, const std::string& type,
                                           const std::string& instead);

enum class Errc : std::uint8_t {
  kSecret,  // a secret file cannot be read
};
using Error = core::Error<Errc>;

// A secret given inline, or read from `file` (a trailing newline removed,
// registered to be masked: core/secrets.h); kSecret, naming the file, when
// it cannot be read.
core::Result<std::string, Error> read_secret(const std::string& inline_value, const std::string& file);

}  // namespace bifrost::outputs
