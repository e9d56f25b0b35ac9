#include "outputs/http/http_output.h"

#include <httplib.h>

#include <algorithm>

#include "core/codec.h"
#include "core/log.h"
#include "outputs/common/http_answer.h"
#include "outputs/common/http_url.h"

namespace bifrost::outputs::http {

namespace {

class HttpOutput final : public pipeline::Output {
 public:
  HttpOutput(const Spec& spec, std::string id) : spec_(spec), id_(std::move(id)), client_(spec.scheme_host_port) {
    auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(spec.timeout_ns));
    client_.set_connection_timeout(usecs);
    client_.set_read_timeout(usecs);
    client_.set_write_timeout(usecs);
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);  // headers and body go in separate writes: no 40 ms delayed-ACK stall
    client_.set_compress(spec.gzip);
    if (!spec.user.empty()) client_.set_basic_auth(spec.user, spec.password);
    if (!spec.bearer.empty()) client_.set_bearer_token_auth(spec.bearer);
    for (const auto& [k, v] : spec.headers) headers_.emplace(k, v);
  }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    core::encode_slot(batch, slot, core::Codec::kJson);
  }

  void write(const core::Batch&, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    std::size_t i = 0;
    const std::size_t n = slot.selected.size();
    while (i < n) {
      // One request: as many events as max_events and max_bytes allow (at least one).
      std::size_t j = i;
      body_.clear();
      if (!spec_.ndjson) body_.push_back('[');
      while (j < n && j - i < static_cast<std::size_t>(spec_.max_events)) {
        std::size_t b = j == 0 ? 0 : slot.ends[j - 1];
        std::size_t len = slot.ends[j] - b;  // with its '\n'
        if (j > i && body_.size() + len > spec_.max_bytes) break;
        if (spec_.ndjson) {
          body_.append(slot.encoded, b, len);
        } else {
          if (j > i) body_.push_back(',');
          body_.append(slot.encoded, b, len - 1);
        }
        ++j;
      }
      if (!spec_.ndjson) body_.push_back(']');
      if (!send(i, j, report)) {
        // A later request must not overtake this one (order per source):
        // the rest of the batch waits for the retry too.
        for (std::size_t k = j; k < n; ++k) report.set(k, pipeline::Outcome::kRetry, "waiting behind a failed request");
        return;
      }
      i = j;
    }
  }

 private:
  // Sends one request; false when it is to be retried.
  bool send(std::size_t from, std::size_t to, pipeline::DeliveryReport& report) {
    const char* type = spec_.ndjson ? "application/x-ndjson" : "application/json";
    httplib::Result r =
        spec_.put ? client_.Put(spec_.path, headers_, body_, type) : client_.Post(spec_.path, headers_, body_, type);
    pipeline::Outcome outcome = pipeline::Outcome::kDelivered;
    std::string reason;
    if (!r) {
      outcome = pipeline::Outcome::kRetry;
      reason = "request failed: " + httplib::to_string(r.error());
    } else if (r->status >= 200 && r->status < 300) {
      outcome = pipeline::Outcome::kDelivered;
    } else {
      reason = http_failure(r->status, r->body);
      outcome = transient_status(r->status) ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected;
    }
    if (outcome == pipeline::Outcome::kDelivered) return true;
    for (std::size_t k = from; k < to; ++k) report.set(k, outcome, reason);
    return outcome != pipeline::Outcome::kRetry;
  }

  Spec spec_;
  std::string id_;
  httplib::Client client_;
  httplib::Headers headers_;
  std::string body_;
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
  s->gzip = r.boolean("gzip", s->gzip, "compress request bodies (Content-Encoding: gzip)");
  auto auth = r.get("auth", "map", "", "{user: U, password: P} (basic) or {bearer: TOKEN}");
  auto batch = r.get("batch", "map", "", "{max_events: 1000, max_bytes: 10MiB}: events per request at most");
  s->timeout_ns = r.duration_ns("timeout", s->timeout_ns, "connect, send and answer time limit of a request");
  if (r.describing()) return s;

  if (url) {
    if (auto u = parse_http_url(*url)) {
      s->url = u->text;
      s->scheme_host_port = u->scheme_host_port;
      s->path = u->path.empty() ? "/" : u->path;
    }
  }
  if (headers) {
    config::each_entry(*headers, "header: value", [&](const config::Node& k, const config::Node& v) {
      if (auto text = v.scalar("a header value")) s->headers[k.yaml().Scalar()] = *text;
    });
  }
  if (auth) {
    config::MapReader a(*auth);
    s->user = a.string("user", "", "basic auth user");
    s->password = a.string("password", "", "basic auth password");
    s->bearer = a.string("bearer", "", "bearer token");
    a.finish();
    if (!s->bearer.empty() && !s->user.empty()) auth->error("give user/password or bearer, not both");
    if (s->bearer.empty() && s->user.empty()) auth->error("auth needs user (and password) or bearer");
  }
  read_batch_limits(batch, "events", s->max_events, s->max_bytes);
  return s;
}

}  // namespace bifrost::outputs::http
