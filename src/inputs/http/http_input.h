// Input `http`: events pushed with POST (NDJSON, a JSON array, or plain
// lines: `decoding`), over HTTP/1.1 or HTTPS, with optional basic or
// bearer auth.
//
// With `acknowledgements: true` (the default) the answer waits until every
// event of the request is delivered or parked in a failed queue: 200 with
// {"events": N, "parked": P} (and the headers Bifrost-Events,
// Bifrost-Parked), so a client that retries whatever was not answered 200
// loses nothing. A request is one batch: when the pipeline has no free
// batch the answer is 429 with Retry-After, at once (nothing is buffered
// beyond the pipeline's batches). Over max_body_bytes: 413; a body that
// is not what `decoding` says: 400 with the reason; wrong or missing
// credentials: 401. See server.cc for the connection handling.
#pragma once

#include <memory>
#include <string>

#include "common/influx/point.h"
#include "config/reader.h"
#include "inputs/common/net_settings.h"
#include "inputs/http/body.h"
#include "pipeline/component.h"

namespace bifrost::inputs::http {

struct Auth {
  enum class Kind : std::uint8_t { kNone, kBasic, kBearer } kind = Kind::kNone;
  std::string user;
  std::string secret;       // password or token, inline
  std::string secret_file;  // or read from this file when the input starts
};

struct Spec final : pipeline::InputSpec {
  NetSettings net;
  std::string path = "/";
  Decoding decoding = Decoding::kNdjson;
  common::influx::Precision precision = common::influx::Precision::kNs;  // decoding: influx
  bool acknowledgements = true;
  std::uint64_t max_body_bytes = 4u << 20;
  std::int64_t max_events = 65536;
  std::int64_t retry_after_s = 1;
  Auth auth;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

// The Authorization header value a request must carry (empty: none asked):
// "Basic base64(user:password)" or "Bearer token". Reads secret files:
// called when the input is built; throws when one cannot be read.
std::string expected_authorization(const Auth& auth);

}  // namespace bifrost::inputs::http
