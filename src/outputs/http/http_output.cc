#include "outputs/http/http_output.h"

#include <algorithm>

#include "core/log.h"
#include "outputs/common/codec.h"
#include "outputs/common/http_client.h"
#include "outputs/common/http_url.h"

namespace bifrost::outputs::http {

namespace {

std::vector<std::string> request_headers(const Spec& spec) {
  std::vector<std::string> h = {spec.ndjson ? "Content-Type: application/x-ndjson" : "Content-Type: application/json"};
  for (const auto& [k, v] : spec.headers) h.push_back(k + ": " + v);
  return h;
}

class HttpOutput final : public pipeline::Output {
 public:
  HttpOutput(const Spec& spec, std::string id)
      : spec_(spec), id_(std::move(id)), client_(spec.http, id_, 1, request_headers(spec), "ApiKey") {}

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    encode_slot(batch, slot, Codec::kJson);
  }

  void write(const core::Batch&, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    const std::size_t n = slot.selected.size();
    if (!client_.secret_error().empty()) {
      for (std::size_t k = 0; k < n; ++k) report.set(k, pipeline::Outcome::kRetry, client_.secret_error());
      return;
    }
    std::size_t i = 0;
    while (i < n) {
      // One request: as many events as max_events and max_bytes allow (at least one).
      const std::size_t r = client_.acquire();
      std::string& body = client_.body(r);
      std::size_t j = i;
      body.clear();
      if (!spec_.ndjson) body.push_back('[');
      while (j < n && j - i < static_cast<std::size_t>(spec_.http.max_events)) {
        const std::string_view event = encoded(slot, j);  // with its '\n'
        if (j > i && body.size() + event.size() > spec_.http.max_bytes) break;
        if (spec_.ndjson) {
          body.append(event);
        } else {
          if (j > i) body.push_back(',');
          body.append(event.substr(0, event.size() - 1));
        }
        ++j;
      }
      if (!spec_.ndjson) body.push_back(']');
      const bool go_on = judge(client_.send(r, spec_.url, spec_.put ? "PUT" : "POST"), i, j, report);
      client_.release(r);
      if (!go_on) {
        // A later request must not overtake this one (order per source):
        // the rest of the batch waits for the retry too.
        for (std::size_t k = j; k < n; ++k) report.set(k, pipeline::Outcome::kRetry, "waiting behind a failed request");
        return;
      }
      i = j;
    }
  }

 private:
  // The outcome of events [from, to) from the answer; false when they are
  // to be retried.
  static bool judge(const HttpAnswer& a, std::size_t from, std::size_t to, pipeline::DeliveryReport& report) {
    pipeline::Outcome outcome = pipeline::Outcome::kRetry;
    std::string reason;
    if (!a.sent) {
      reason = a.error;
    } else if (a.status >= 200 && a.status < 300) {
      return true;
    } else {
      reason = http_failure(a.status, a.body);
      if (!transient_status(a.status)) outcome = pipeline::Outcome::kRejected;
    }
    for (std::size_t k = from; k < to; ++k) report.set(k, outcome, reason);
    return outcome != pipeline::Outcome::kRetry;
  }

  Spec spec_;
  std::string id_;
  HttpClient client_;
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<HttpOutput>(*this, ctx.component);
}

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto url = r.get("url", "string", "", "http:// or https:// URL events are sent to", true);
  s->put = r.choice("method", "POST", {"POST", "PUT"}, "HTTP method") == "PUT";
  auto headers = r.get("headers", "map", "{}", "extra request headers");
  s->ndjson = r.choice("encoding", "ndjson", {"ndjson", "json"},
                       "ndjson: one event per line; json: a JSON array of the events") == "ndjson";
  s->http.max_events = 1000;
  s->http.max_bytes = 10u << 20;
  s->http.timeout_ns = 10'000'000'000;
  read_http_settings(r, s->http, "events");
  auto gzip = deprecated_key(r, "gzip", "bool", "compression: gzip");
  if (r.describing()) return s;

  if (url) {
    if (auto u = parse_http_url(*url)) s->url = u->scheme_host_port + (u->path.empty() ? "/" : u->path);
  }
  if (headers) {
    config::each_entry(*headers, "header: value", [&](const config::Node& k, const config::Node& v) {
      if (auto text = v.scalar("a header value")) s->headers[k.yaml().Scalar()] = *text;
    });
  }
  if (gzip) {
    if (auto g = config::parse_bool(*gzip)) s->http.gzip = s->http.gzip || *g;
  }
  return s;
}

}  // namespace bifrost::outputs::http
