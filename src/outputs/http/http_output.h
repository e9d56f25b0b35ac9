// Output `http`: POSTs (or PUTs) events to a URL, as a JSON array or as
// NDJSON, in requests of at most batch.max_events / batch.max_bytes, with
// the keys every HTTP output shares (compression, auth, tls, timeouts;
// outputs/common/http_settings.h) and extra headers. The generic webhook
// sink.
//
// Outcomes per request, for every event in it: 2xx delivered; 408, 429, 5xx,
// a refused connection or a timeout: retry; any other status: rejected
// (to the failed queue) with "HTTP <status>: <start of the body>". A request
// answered 400, 413 or 422 (something in it is wrong, not said what) is sent
// again in halves until the rejected events are alone (on_reject: bisect,
// the default; outputs/common/bisect.h).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/reader.h"
#include "outputs/common/http_settings.h"
#include "pipeline/component.h"

namespace bifrost::outputs::http {

struct Spec final : pipeline::OutputSpec {
  std::string url;
  bool put = false;
  std::map<std::string, std::string> headers;
  bool ndjson = true;
  HttpSettings http;
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

}  // namespace bifrost::outputs::http
