#include "outputs/influxdb/influxdb_output.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

#include "common/influx/writer.h"
#include "config/expr_reader.h"
#include "core/log.h"
#include "core/time.h"
#include "outputs/common/bisect.h"
#include "outputs/common/codec.h"
#include "outputs/common/http_client.h"
#include "outputs/common/http_url.h"

namespace bifrost::outputs::influxdb {

using common::influx::append_field_key;
using common::influx::append_field_value;
using common::influx::append_key;
using common::influx::append_measurement;

namespace {

// The point made with measurement, tags and fields (point: mapped).
core::Result<void, Error> encode_mapped(const Spec& spec, const core::Event& e, std::string& out,
                                        std::string& scratch) {
  const std::size_t start = out.size();
  // Line protocol cannot hold a name or tag ending in a backslash (it would
  // escape the delimiter after it; InfluxDB 1.x refuses even a doubled one).
  auto ends_in_backslash = [](std::string_view s) { return !s.empty() && s.back() == '\\'; };
  scratch.clear();
  spec.measurement->render(e, scratch);
  if (scratch.empty()) return core::fail(Errc::kNotAPoint, "the measurement rendered empty");
  if (ends_in_backslash(scratch)) {
    return core::fail(Errc::kNotAPoint, "the measurement ends in a backslash, which line protocol cannot hold");
  }
  if (scratch.front() == '#' || scratch.front() == '\t' || scratch.front() == '\r') {
    return core::fail(Errc::kNotAPoint,
                      "the measurement starts with '#', a tab or a CR, which line protocol cannot hold");
  }
  append_measurement(out, scratch);
  for (const auto& [key, tmpl] : spec.tags) {
    scratch.clear();
    tmpl.render(e, scratch);
    if (scratch.empty()) continue;  // line protocol has no empty tag values
    if (ends_in_backslash(scratch)) {
      out.resize(start);
      return core::fail(Errc::kNotAPoint, "a tag value ends in a backslash, which line protocol cannot hold");
    }
    out.push_back(',');
    append_key(out, key);
    out.push_back('=');
    append_key(out, scratch);
  }
  bool any = false;
  for (const auto& [key, path] : spec.fields) {
    auto v = core::get_field(e, path);
    if (!v) continue;
    const std::size_t before = out.size();
    out.push_back(any ? ',' : ' ');
    append_field_key(out, key);
    out.push_back('=');
    if (append_field_value(out, *v)) {
      any = true;
    } else {
      out.resize(before);
    }
  }
  if (!any) {
    out.resize(start);
    return core::fail(Errc::kNotAPoint, "no field to write (line protocol needs one)");
  }
  std::int64_t ts = e.timestamp_ns / common::influx::unit_ns(spec.unit);
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, ts).ptr;  // no allocation per point
  out.push_back(' ');
  out.append(digits, end);
  out.push_back('\n');
  return {};
}

core::Result<void, Error> encode_passthrough(const Spec& spec, const common::influx::Point& p, std::string& out,
                                             std::string& scratch) {
  if (auto r = common::influx::append_point(out, p, spec.unit, scratch); !r) {
    return core::fail(Errc::kNotAPoint, r.error().message);
  }
  return {};
}

}  // namespace

core::Result<void, Error> encode_point(const Spec& spec, const core::Event& e, std::string& out, std::string& scratch) {
  if (spec.point != PointMode::kMapped) {
    if (auto p = common::influx::point_of(e)) return encode_passthrough(spec, *p, out, scratch);
    if (spec.point == PointMode::kPassthrough || !spec.measurement) {
      return core::fail(Errc::kNotAPoint,
                        "the event holds no point to pass through (a string measurement and an object of fields, "
                        "as parse_influx makes them)");
    }
  }
  return encode_mapped(spec, e, out, scratch);
}

namespace {

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// Requests gather the points of consecutive batches: a batch's points go
// into the request being filled, which is sent once it holds
// batch.max_events / max_bytes, or when a batch in it is ended (the runner
// ends one when no more are queued, so nothing waits for a full request).
// The file and Kafka inputs' batches are 2048 events: requests of one batch
// each cost InfluxDB 1.6 more CPU per point than 5000-point ones (9.3-10.1 s
// against 6.3-9.0 s of its CPU for 500 000 points, measured). Up to
// kBatches batches are begun and kRequests requests on their way at once
// (points are keyed by series and time, so the order of requests does not
// change what is stored).
class InfluxOutput final : public pipeline::Output {
 public:
  InfluxOutput(const Spec& spec, std::string id, core::ComponentStats* stats)
      : spec_(spec),
        id_(std::move(id)),
        counters_(spec.guard.enabled() ? stats : nullptr, false, true),
        client_(spec.http, id_, requests_.size(), {"Content-Type: text/plain; charset=utf-8"}, "Token") {
    if (spec.v2) {
      path_ = spec.base_path + "/api/v2/write?org=" + url_encode(spec.org) + "&bucket=" + url_encode(spec.bucket) +
              "&precision=" + spec.precision;
    } else {
      path_ = spec.base_path + "/write?db=" + url_encode(spec.database) +
              (spec.retention_policy.empty() ? "" : "&rp=" + url_encode(spec.retention_policy)) +
              "&precision=" + (spec.precision == "us" ? "u" : spec.precision);
    }
    url_ = spec.scheme_host_port + path_;
    for (auto& r : requests_) r.client = client_.acquire();
  }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    thread_local std::string scratch;
    slot.encoded.clear();
    slot.ends.clear();
    const std::int64_t now = spec_.guard.enabled() ? core::now_ns() : 0;
    std::uint64_t past = 0, future = 0;
    for (std::uint32_t i : slot.selected) {
      const core::Event& e = batch.events[i];
      // A point that cannot be written is encoded as '\0' and the reason.
      if (const auto bound = spec_.guard.check(e.timestamp_ns, now); bound != common::influx::Bound::kNone) {
        (bound == common::influx::Bound::kPast ? past : future) += 1;
        slot.encoded.push_back('\0');
        slot.encoded.append(spec_.guard.describe(e.timestamp_ns, now));
      } else if (auto point = encode_point(spec_, e, slot.encoded, scratch); !point) {
        slot.encoded.push_back('\0');
        slot.encoded.append(point.error().message);
      }
      slot.ends.push_back(static_cast<std::uint32_t>(slot.encoded.size()));
    }
    if (past + future > 0) {
      counters_.add_out_of_range(common::influx::Bound::kPast, past);
      counters_.add_out_of_range(common::influx::Bound::kFuture, future);
      counters_.publish();
    }
  }

  std::size_t in_flight() const override { return kBatches; }

  std::uint64_t begin(const core::Batch&, const core::OutputSlot& slot) override {
    std::uint32_t b = 0;
    while (flights_[b].busy) ++b;  // the pipeline never has more than kBatches + 1 begun
    Flight& f = flights_[b];
    f.busy = true;
    f.slot = &slot;
    f.requests = 0;
    f.report.reset(slot.selected.size());
    if (!client_.secret_error().empty()) {
      for (std::size_t i = 0; i < slot.selected.size(); ++i)
        f.report.set(i, pipeline::Outcome::kRetry, client_.secret_error());
      return b;
    }
    for (std::uint32_t i = 0; i < slot.selected.size(); ++i) {
      std::string_view point = encoded(slot, i);
      if (point.starts_with('\0')) {  // why follows
        f.report.set(i, pipeline::Outcome::kRejected, point.substr(1));
        continue;
      }
      Request* r = &filling();
      if (!r->items.empty() && (r->items.size() >= static_cast<std::size_t>(spec_.http.max_events) ||
                                r->bytes + point.size() > spec_.http.max_bytes)) {
        send_filling();
        r = &filling();
      }
      if (!(r->flights & (1u << b))) {
        r->flights |= 1u << b;
        ++f.requests;
      }
      r->items.push_back({b, i});
      r->bytes += point.size();
    }
    return b;
  }

  void end(std::uint64_t ticket, pipeline::DeliveryReport& report) override {
    Flight& f = flights_[ticket];
    while (f.requests > 0) {
      if (filling_ && (filling_->flights & (1u << ticket))) {
        send_filling();
      } else {
        judge_oldest();
      }
    }
    std::swap(report, f.report);
    f.busy = false;
  }

  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    end(begin(batch, slot), report);
  }

 private:
  static constexpr std::size_t kBatches = 6, kRequests = 2;
  struct Flight {
    bool busy = false;
    const core::OutputSlot* slot = nullptr;
    std::size_t requests = 0;  // requests holding its points, not yet answered (or being filled)
    pipeline::DeliveryReport report;
  };
  struct Item {
    std::uint32_t flight, index;  // a point: index in the flight's slot
  };
  struct Request {
    std::size_t client = 0;     // its slot in the client
    std::vector<Item> items;    // its points
    std::size_t bytes = 0;      // theirs
    std::uint32_t flights = 0;  // bit b: it holds points of flights_[b]
  };

  std::string_view line(Item it) const { return encoded(*flights_[it.flight].slot, it.index); }

  // The request being filled (a free one when none is).
  Request& filling() {
    if (!filling_) {
      for (Request& r : requests_) {
        if (std::find(sent_.begin(), sent_.begin() + sent_count_, &r) == sent_.begin() + sent_count_) {
          filling_ = &r;
          break;
        }
      }
      filling_->items.clear();
      filling_->bytes = 0;
      filling_->flights = 0;
    }
    return *filling_;
  }

  // Sends the request being filled; first waits for the oldest on its way
  // when kRequests are.
  void send_filling() {
    if (sent_count_ == kRequests) judge_oldest();
    Request& r = *filling_;
    filling_ = nullptr;
    start(r, r.items);
    sent_[sent_count_++] = &r;
  }

  // Waits for the oldest request on its way and judges its answer.
  void judge_oldest() {
    Request& r = *sent_[0];
    std::move(sent_.begin() + 1, sent_.begin() + sent_count_, sent_.begin());
    --sent_count_;
    finish(r, r.items, client_.wait(r.client));
    for (std::uint32_t b = 0; b < flights_.size(); ++b) {
      if (r.flights & (1u << b)) --flights_[b].requests;
    }
  }

  void report(Item it, pipeline::Outcome o, std::string_view reason) {
    flights_[it.flight].report.set(it.index, o, reason);
  }

  void start(Request& r, std::span<const Item> items) {
    std::string& body = client_.body(r.client);
    body.clear();
    for (Item it : items) body.append(line(it));
    client_.start(r.client, url_);
  }

  // Judges the answer to the request of `items`, each point's outcome on
  // its batch's report. A request rejected for a bad point, or too large, is
  // split (on_reject: bisect) over the positions of its points.
  void finish(Request& r, std::span<const Item> items, const HttpAnswer& a) {
    const Verdict v = judge(items, a);
    if (v != Verdict::kSplittable || !spec_.http.bisect || items.size() < 2) return;
    const std::string reason(flights_[items[0].flight].report.reason(items[0].index));
    std::vector<std::uint32_t> positions(items.size());  // only on this path: a rejected request
    for (std::uint32_t k = 0; k < positions.size(); ++k) positions[k] = k;
    std::vector<Item> part_items;
    auto pick = [&](std::span<const std::uint32_t> part) {
      part_items.clear();
      for (std::uint32_t k : part) part_items.push_back(items[k]);  // items (r.items) stay as they are meanwhile
    };
    bisect_logged(
        id_, reason, positions,
        [&](std::span<const std::uint32_t> part) {
          pick(part);
          start(r, part_items);
          return judge(part_items, client_.wait(r.client));
        },
        [&](std::span<const std::uint32_t> part) {
          pick(part);
          for (Item it : part_items) report(it, pipeline::Outcome::kRetry, "waiting behind a failed request");
        });
  }

  // 400 (a point it cannot parse or write; InfluxDB 1.x writes the others,
  // and writing them again is harmless: a point is keyed by series and
  // time), 413 (too large), 422 (v2: points outside the retention): the
  // request may be split.
  Verdict judge(std::span<const Item> items, const HttpAnswer& a) {
    if (a.sent && a.status >= 200 && a.status < 300) {
      for (Item it : items) report(it, pipeline::Outcome::kDelivered, {});  // a part of a rejected request
      return Verdict::kTaken;
    }
    const std::string reason = a.sent ? http_failure(a.status, a.body) : a.error;
    if (!a.sent || transient_status(a.status)) {
      for (Item it : items) report(it, pipeline::Outcome::kRetry, reason);
      return Verdict::kRetry;
    }
    for (Item it : items) report(it, pipeline::Outcome::kRejected, reason);
    return a.status == 400 || a.status == 413 || a.status == 422 ? Verdict::kSplittable : Verdict::kRejected;
  }

  const Spec& spec_;
  std::string id_;
  mutable common::influx::PointCounters counters_;  // the guard's; encode() runs on every worker
  std::array<Request, kRequests + 1> requests_;     // kRequests on their way, one being filled
  HttpClient client_;
  std::string path_, url_;
  std::array<Flight, kBatches + 1> flights_;
  Request* filling_ = nullptr;
  std::array<Request*, kRequests> sent_{};  // on their way, oldest first
  std::size_t sent_count_ = 0;
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<InfluxOutput>(*this, ctx.component, ctx.stats);
}

namespace {
// The keys of the release before `auth:` (v1 username/password, v2 token),
// into the shared auth: still read, with a warning (deprecated_key).
void read_deprecated_auth(config::MapReader& r, Spec& s, const std::optional<config::Node>& username,
                          const std::optional<config::Node>& password, const std::optional<config::Node>& password_file,
                          const std::optional<config::Node>& token, const std::optional<config::Node>& token_file) {
  auto text = [](const std::optional<config::Node>& n) { return n ? n->scalar().value_or("") : std::string(); };
  const bool basic = username || password || password_file, key = token || token_file;
  if (!basic && !key) return;
  if (s.http.auth.kind != HttpAuth::Kind::kNone || (basic && key)) {
    r.node().error("give auth: once (the deprecated username/password and token keys are another spelling of it)");
    return;
  }
  if ((password && password_file) || (token && token_file))
    r.node().error("give the secret inline or in a file, not both");
  if (basic) {
    s.http.auth = {HttpAuth::Kind::kBasic, text(username), text(password), text(password_file)};
  } else {
    s.http.auth = {HttpAuth::Kind::kApiKey, "", text(token), text(token_file)};
  }
}
}  // namespace

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto url = r.get("url", "string", "", "http:// or https:// URL of the InfluxDB server", true);
  s->v2 = r.choice("api", "v1", {"v1", "v2"}, "v1: /write (InfluxDB 1.x); v2: /api/v2/write (InfluxDB 2.x)") == "v2";
  s->database = r.string("database", "", "v1: the database (required with api: v1)");
  s->retention_policy =
      r.string("retention_policy", "", "v1: the retention policy (the database's default when empty)");
  s->org = r.string("org", "", "v2: the organization (required with api: v2)");
  s->bucket = r.string("bucket", "", "v2: the bucket (required with api: v2)");
  const std::string point =
      r.choice("point", "auto", {"auto", "passthrough", "mapped"},
               "passthrough: the point the event holds (measurement, tags, fields from parse_influx or decoding: "
               "influx); mapped: made with measurement, tags and fields; auto: passthrough for an event that holds "
               "a point, mapped for the others");
  s->point = point == "passthrough" ? PointMode::kPassthrough
             : point == "mapped"    ? PointMode::kMapped
                                    : PointMode::kAuto;
  s->measurement = config::read_template(r, "measurement", "", "mapped: the measurement (a template)");
  auto tags =
      r.get("tags", "list or map", "[]", "mapped: a list of fields (tag key = field), or a map tag key -> template");
  auto fields = r.get("fields", "list or map", "", "mapped: a list of fields, or a map field key -> event field");
  s->precision = r.choice("precision", s->precision, {"ns", "us", "ms", "s"}, "timestamp precision of the points");
  s->unit = *common::influx::parse_precision(s->precision);
  s->guard = common::influx::read_time_guard(r, "rejected, to the failed queue");
  s->http.max_events = 5000;
  s->http.max_bytes = 5u << 20;
  s->http.timeout_ns = 10'000'000'000;
  read_http_settings(r, s->http, "points");
  auto gzip = deprecated_key(r, "gzip", "bool", "compression: gzip");
  auto username = deprecated_key(r, "username", "string", "auth: {user: U, password: P}");
  auto password = deprecated_key(r, "password", "string", "auth: {user: U, password: P}");
  auto password_file = deprecated_key(r, "password_file", "string", "auth: {user: U, password_file: F}");
  auto token = deprecated_key(r, "token", "string", "auth: {api_key: TOKEN}");
  auto token_file = deprecated_key(r, "token_file", "string", "auth: {api_key_file: F}");
  if (r.describing()) return s;

  if (url) {
    if (auto u = parse_http_url(*url)) {
      s->url = u->text;
      s->scheme_host_port = u->scheme_host_port;
      s->base_path = u->path;
      while (!s->base_path.empty() && s->base_path.back() == '/') s->base_path.pop_back();
    }
  }
  if (!s->v2 && s->database.empty()) r.node().error("api: v1 needs database");
  if (s->v2 && (s->org.empty() || s->bucket.empty())) r.node().error("api: v2 needs org and bucket");
  read_deprecated_auth(r, *s, username, password, password_file, token, token_file);
  if (gzip) {
    if (auto g = config::parse_bool(*gzip)) s->http.gzip = s->http.gzip || *g;
  }
  if (tags) {
    if (tags->is_sequence()) {
      for (std::size_t i = 0; i < tags->yaml().size(); ++i) {
        config::Node item = tags->element(i);
        if (auto p = config::parse_field_path(item)) {
          if (auto t = expr::Template::parse("{{" + p->text() + "}}"); std::holds_alternative<expr::Template>(t)) {
            s->tags.emplace_back(p->text(), std::get<expr::Template>(std::move(t)));
          }
        }
      }
    } else {
      config::each_entry(*tags, "tag key: template", [&](const config::Node& k, const config::Node& v) {
        if (auto t = config::parse_template(v)) s->tags.emplace_back(k.yaml().Scalar(), std::move(*t));
      });
    }
    // Sorted by key, as InfluxDB stores them (it need not sort each point).
    std::stable_sort(s->tags.begin(), s->tags.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  if (fields) {
    if (fields->is_sequence()) {
      for (std::size_t i = 0; i < fields->yaml().size(); ++i) {
        if (auto p = config::parse_field_path(fields->element(i))) s->fields.emplace_back(p->text(), *p);
      }
    } else {
      config::each_entry(*fields, "field key: event field", [&](const config::Node& k, const config::Node& v) {
        if (auto p = config::parse_field_path(v)) s->fields.emplace_back(k.yaml().Scalar(), *p);
      });
    }
    if (s->fields.empty() && (fields->is_sequence() || fields->is_map())) fields->error("needs at least one field");
  }
  const bool mapping = s->measurement || tags || fields;
  if (s->point == PointMode::kPassthrough && mapping) {
    r.node().error(
        "point: passthrough writes the measurement, tags and fields the event holds: leave out "
        "measurement, tags and fields (or use point: auto)");
  } else if (mapping || s->point == PointMode::kMapped) {
    if (!s->measurement || !fields) {
      r.node().error(std::string(s->point == PointMode::kMapped ? "point: mapped" : "a mapping") +
                     " needs measurement and fields (leave out all three to pass through the points parse_influx "
                     "makes)");
    }
  }
  return s;
}

}  // namespace bifrost::outputs::influxdb
