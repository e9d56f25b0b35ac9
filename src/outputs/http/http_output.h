// Output `http`: POSTs (or PUTs) events to a URL, as a JSON array or as
// NDJSON, in requests of at most batch.max_events / batch.max_bytes, gzip
// optional, basic or bearer authentication, extra headers. The generic
// webhook sink.
//
// Outcomes per request, for every event in it: 2xx delivered; 408, 429, 5xx,
// a refused connection or a timeout: retry; any other status: rejected
// (to the failed queue) with "HTTP <status>: <start of the body>".
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/reader.h"
#include "pipeline/component.h"

namespace bifrost::outputs::http {

struct Spec final : pipeline::OutputSpec {
  std::string url;
  std::string scheme_host_port;  // "http://127.0.0.1:8080"
  std::string path = "/";        // with the query, if any
  bool put = false;
  std::map<std::string, std::string> headers;
  bool ndjson = true;
  bool gzip = false;
  std::string user, password, bearer;
  std::int64_t max_events = 1000;
  std::uint64_t max_bytes = 10u << 20;
  std::int64_t timeout_ns = 10'000'000'000;
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

}  // namespace bifrost::outputs::http
