#include "outputs/http/http_output.h"

#include <algorithm>
#include <span>
#include <vector>

#include "core/log.h"
#include "outputs/common/bisect.h"
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
    auto hold = [&](std::span<const std::uint32_t> part) {
      for (std::uint32_t k : part) report.set(k, pipeline::Outcome::kRetry, "waiting behind a failed request");
    };
    std::size_t i = 0;
    while (i < n) {
      // One request: as many events as max_events and max_bytes allow (at least one).
      std::size_t j = i, bytes = 0;
      items_.clear();
      while (j < n && j - i < static_cast<std::size_t>(spec_.http.max_events)) {
        const std::size_t size = encoded(slot, j).size() + 1;  // with its separator
        if (j > i && bytes + size > spec_.http.max_bytes) break;
        bytes += size;
        items_.push_back(static_cast<std::uint32_t>(j++));
      }
      Verdict v = send(slot, items_, report);
      if (v == Verdict::kSplittable && spec_.http.bisect && items_.size() > 1) {
        const std::string reason(report.reason(i));
        v = bisect_logged(
                id_, reason, items_, [&](std::span<const std::uint32_t> part) { return send(slot, part, report); },
                hold)
                    .go_on
                ? Verdict::kTaken
                : Verdict::kRetry;
      }
      if (v == Verdict::kRetry) {
        // A later request must not overtake this one (order per source):
        // the rest of the batch waits for the retry too.
        for (std::size_t k = j; k < n; ++k) report.set(k, pipeline::Outcome::kRetry, "waiting behind a failed request");
        return;
      }
      i = j;
    }
  }

 private:
  // Sends the events `items` (indexes into the slot) as one request and
  // judges the answer: their outcomes on `report`.
  Verdict send(const core::OutputSlot& slot, std::span<const std::uint32_t> items, pipeline::DeliveryReport& report) {
    const std::size_t r = client_.acquire();
    std::string& body = client_.body(r);
    body.clear();
    if (!spec_.ndjson) body.push_back('[');
    for (std::size_t k = 0; k < items.size(); ++k) {
      const std::string_view event = encoded(slot, items[k]);  // with its '\n'
      if (spec_.ndjson) {
        body.append(event);
      } else {
        if (k > 0) body.push_back(',');
        body.append(event.substr(0, event.size() - 1));
      }
    }
    if (!spec_.ndjson) body.push_back(']');
    const Verdict v = judge(client_.send(r, spec_.url, spec_.put ? "PUT" : "POST"), items, report);
    client_.release(r);
    return v;
  }

  // 400, 413, 422: something in the request is wrong (a bad event, one too
  // large), the answer does not say which: the request may be split.
  static Verdict judge(const HttpAnswer& a, std::span<const std::uint32_t> items, pipeline::DeliveryReport& report) {
    pipeline::Outcome outcome = pipeline::Outcome::kRetry;
    Verdict v = Verdict::kRetry;
    std::string reason;
    if (!a.sent) {
      reason = a.error;
    } else if (a.status >= 200 && a.status < 300) {
      for (std::uint32_t k : items) report.set(k, pipeline::Outcome::kDelivered);  // a part of a rejected request
      return Verdict::kTaken;
    } else {
      reason = http_failure(a.status, a.body);
      if (!transient_status(a.status)) {
        outcome = pipeline::Outcome::kRejected;
        v = a.status == 400 || a.status == 413 || a.status == 422 ? Verdict::kSplittable : Verdict::kRejected;
      }
    }
    for (std::uint32_t k : items) report.set(k, outcome, reason);
    return v;
  }

  Spec spec_;
  std::string id_;
  HttpClient client_;
  std::vector<std::uint32_t> items_;  // of the request being made (reused)
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
