#include "outputs/elasticsearch/elasticsearch_output.h"

#include <simdjson.h>

#include <array>
#include <cstdio>
#include <span>

#include "config/expr_reader.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "outputs/common/bisect.h"
#include "outputs/common/codec.h"
#include "outputs/common/http_client.h"
#include "outputs/common/http_url.h"
#include "outputs/elasticsearch/bulk_answer.h"

namespace bifrost::outputs::elasticsearch {

namespace {

constexpr std::size_t kMaxConcurrency = 16;

class ElasticsearchOutput final : public pipeline::Output {
 public:
  ElasticsearchOutput(const Spec& spec, std::string id)
      : spec_(spec),
        id_(std::move(id)),
        window_(static_cast<std::size_t>(spec.concurrency)),
        client_(spec.http, id_, window_ + 1, {"Content-Type: application/x-ndjson"}, "ApiKey") {
    for (std::size_t i = 0; i <= window_; ++i) flights_[i].request = client_.acquire();
  }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    thread_local core::Rfc3339Cache cache;
    thread_local std::string scratch;
    slot.encoded.clear();
    slot.ends.clear();
    // auto ids need a source identity; events read back from a disk buffer
    // or the failed queue have none: Elasticsearch makes their ids.
    const bool auto_id = spec_.id == Spec::Id::kAuto && (batch.source_id != 0 || !batch.source.empty());
    const std::uint64_t source_key = batch.source_id != 0 ? batch.source_id : fnv1a(batch.source);
    for (std::uint32_t i : slot.selected) {
      const core::Event& e = batch.events[i];
      slot.encoded.append(spec_.create ? "{\"create\":{\"_index\":" : "{\"index\":{\"_index\":");
      scratch.clear();
      spec_.index->render(e, scratch);
      core::append_json_string(slot.encoded, scratch);
      if (auto_id) {
        char id[48];
        int n = std::snprintf(id, sizeof id, "%016llx-%llx", static_cast<unsigned long long>(source_key),
                              static_cast<unsigned long long>(e.offset));
        slot.encoded.append(",\"_id\":\"").append(id, static_cast<std::size_t>(n)).append("\"");
      } else if (spec_.id == Spec::Id::kTemplate) {
        scratch.clear();
        spec_.id_template->render(e, scratch);
        if (!scratch.empty()) {
          slot.encoded.append(",\"_id\":");
          core::append_json_string(slot.encoded, scratch);
        }
      }
      slot.encoded.append("}}\n");
      core::append_event_json(slot.encoded, e, cache);
      slot.encoded.push_back('\n');
      slot.ends.push_back(static_cast<std::uint32_t>(slot.encoded.size()));
    }
  }

  std::size_t in_flight() const override { return window_; }

  std::uint64_t begin(const core::Batch&, const core::OutputSlot& slot) override {
    std::uint64_t r = 0;
    while (flights_[r].busy) ++r;  // never more than window_ + 1 begun
    Flight& f = flights_[r];
    f.busy = true;
    f.slot = &slot;
    f.next = 0;
    f.report.reset(slot.selected.size());
    if (!client_.secret_error().empty()) {
      for (std::size_t i = 0; i < slot.selected.size(); ++i) {
        f.report.set(i, pipeline::Outcome::kRetry, client_.secret_error());
      }
      f.next = slot.selected.size();
      return r;
    }
    take_next(f);
    if (!f.items.empty()) start(f, f.items);
    return r;
  }

  void end(std::uint64_t ticket, pipeline::DeliveryReport& report) override {
    Flight& f = flights_[ticket];
    while (!f.items.empty()) {
      if (!finish(f, f.items, client_.wait(f.request))) {
        hold_back(f);
        break;
      }
      take_next(f);
      if (!f.items.empty()) start(f, f.items);
    }
    std::swap(report, f.report);
    f.busy = false;
  }

  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    end(begin(batch, slot), report);
  }

 private:
  struct Flight {
    std::size_t request = 0;  // its slot in the client
    bool busy = false;
    std::size_t host = 0;
    std::size_t hosts_tried = 0;
    const core::OutputSlot* slot = nullptr;
    std::size_t next = 0;              // the next slot index not yet in a request
    std::vector<std::uint32_t> items;  // slot indexes of the request on its way
    pipeline::DeliveryReport report;
  };

  static std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
  }

  static std::string_view doc(const Flight& f, std::size_t i) { return encoded(*f.slot, i); }

  // The next request's items: up to max_events and max_bytes (at least one).
  void take_next(Flight& f) {
    f.items.clear();
    std::size_t bytes = 0;
    const std::size_t n = f.slot->selected.size();
    while (f.next < n && f.items.size() < static_cast<std::size_t>(spec_.http.max_events)) {
      std::size_t len = doc(f, f.next).size();
      if (!f.items.empty() && bytes + len > spec_.http.max_bytes) break;
      f.items.push_back(static_cast<std::uint32_t>(f.next++));
      bytes += len;
    }
    f.hosts_tried = 0;
  }

  // Starts a bulk request with these items, on the next host.
  void start(Flight& f, std::span<const std::uint32_t> items) {
    std::string& body = client_.body(f.request);
    body.clear();
    for (std::uint32_t i : items) body.append(doc(f, i));
    f.host = next_host_++ % spec_.hosts.size();
    url_ = spec_.hosts[f.host] + "/_bulk";
    if (!spec_.pipeline.empty()) url_ += "?pipeline=" + spec_.pipeline;
    client_.start(f.request, url_);
  }

  // Sends these items now and waits for them (a failover, a part of a
  // split). A split's part is a new request: it may fail over to every
  // host again.
  Verdict send_now(Flight& f, std::span<const std::uint32_t> items, bool new_request = false) {
    if (new_request) f.hosts_tried = 0;
    start(f, items);
    return judge(f, items, client_.wait(f.request));
  }

  // Judges the answer to the request of `items` (outcomes on the flight's
  // report); false when they are to be retried (then nothing after them
  // may go ahead). A 413 (too large) is split (on_reject: bisect).
  bool finish(Flight& f, std::span<const std::uint32_t> items, const HttpAnswer& a) {
    const Verdict v = judge(f, items, a);
    if (v == Verdict::kSplittable && spec_.http.bisect && items.size() > 1) {
      const std::string reason(f.report.reason(items[0]));
      return bisect_logged(
                 id_, reason, items,
                 [&](std::span<const std::uint32_t> part) { return send_now(f, part, /*new_request=*/true); },
                 [&](std::span<const std::uint32_t> part) {
                   for (std::uint32_t i : part)
                     f.report.set(i, pipeline::Outcome::kRetry, "waiting behind a failed request");
                 })
          .go_on;
    }
    return v != Verdict::kRetry;
  }

  Verdict judge(Flight& f, std::span<const std::uint32_t> items, const HttpAnswer& a) {
    if (!a.sent) {
      if (a.connect_failed && ++f.hosts_tried < spec_.hosts.size()) {
        core::log::warn(id_, a.error, "; trying the next host");
        std::vector<std::uint32_t> again(items.begin(), items.end());
        return send_now(f, again);
      }
      for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kRetry, a.error);
      return Verdict::kRetry;
    }
    const long status = a.status;
    if (status >= 200 && status < 300) {
      // The answer names the documents it did not take; a part of a split
      // request was marked rejected with the whole.
      for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kDelivered);
      auto judged = judge_bulk_answer(a.body, items, spec_.create && spec_.id == Spec::Id::kAuto, parser_, f.report);
      if (!judged) {
        core::log::warn(id_, spec_.hosts[f.host], ": HTTP ", status, " but ", judged.error().message, "; its ",
                        items.size(), " documents are retried");
      }
      return judged ? Verdict::kTaken : Verdict::kRetry;
    }
    std::string reason = http_failure(status, a.body);
    if (transient_status(status)) {
      for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kRetry, reason);
      return Verdict::kRetry;
    }
    for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kRejected, reason);
    // Elasticsearch says per document what it refuses, in a 200; a whole
    // request is refused for one reason about its documents: its size.
    return status == 413 ? Verdict::kSplittable : Verdict::kRejected;
  }

  // After a request to retry: what has not been sent waits behind it.
  void hold_back(Flight& f) {
    const std::size_t n = f.slot->selected.size();
    for (std::size_t i = f.next; i < n; ++i)
      f.report.set(i, pipeline::Outcome::kRetry, "waiting behind a failed request");
    f.next = n;
    f.items.clear();
  }

  const Spec& spec_;
  std::string id_;
  std::size_t window_;
  HttpClient client_;
  std::size_t next_host_ = 0;
  std::string url_;
  simdjson::dom::parser parser_;
  std::array<Flight, kMaxConcurrency + 1> flights_;
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ElasticsearchOutput>(*this, ctx.component);
}

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto hosts =
      r.get("hosts", "list of URLs", "", "Elasticsearch nodes, http(s)://host:port; round robin, failover", true);
  s->index = config::read_template(r, "index", "bifrost-%Y.%m.%d", "the index (a template; dates from the event time)");
  s->create =
      r.choice("action", "index", {"index", "create"}, "index (overwrite) or create (data streams)") == "create";
  // Not `id`: that key names the component itself.
  auto id =
      r.get("document_id", "string", "auto", "_id: auto (from the source identity and offset), none, or a template");
  s->pipeline = r.string("pipeline", "", "an ingest pipeline");
  s->http.max_events = 2048;
  s->http.max_bytes = 10u << 20;
  s->http.timeout_ns = 30'000'000'000;
  read_http_settings(r, s->http, "documents", "HTTP 413");
  s->concurrency = r.integer("concurrency", s->concurrency, 1, kMaxConcurrency, "bulk requests on their way at once");
  if (r.describing()) return s;

  if (hosts) {
    auto add = [&](const config::Node& n) {
      if (auto u = parse_http_url(n)) {
        std::string h = u->scheme_host_port + u->path;
        while (!h.empty() && h.back() == '/') h.pop_back();
        s->hosts.push_back(h);
      }
    };
    if (hosts->is_sequence()) {
      for (std::size_t i = 0; i < hosts->yaml().size(); ++i) add(hosts->element(i));
      if (hosts->yaml().size() == 0) hosts->error("needs at least one host");
    } else {
      add(*hosts);
    }
  }
  if (id) {
    if (auto text = id->scalar("auto, none or a template")) {
      if (*text == "auto") {
        s->id = Spec::Id::kAuto;
      } else if (*text == "none") {
        s->id = Spec::Id::kNone;
      } else if (auto t = config::parse_template(*id)) {
        s->id = Spec::Id::kTemplate;
        s->id_template = std::move(*t);
      }
    }
  }
  if (!s->index) s->index = std::get<expr::Template>(expr::Template::parse("bifrost"));
  return s;
}

}  // namespace bifrost::outputs::elasticsearch
