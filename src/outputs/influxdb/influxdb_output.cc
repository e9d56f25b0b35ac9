#include "outputs/influxdb/influxdb_output.h"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <future>
#include <span>

#include "config/expr_reader.h"
#include "core/log.h"
#include "outputs/common/http_answer.h"
#include "outputs/common/http_url.h"
#include "outputs/influxdb/line_protocol.h"

namespace bifrost::outputs::influxdb {

const char* encode_point(const Spec& spec, const core::Event& e, std::string& out, std::string& scratch) {
  const std::size_t start = out.size();
  // Line protocol cannot hold a name or tag ending in a backslash (it would
  // escape the delimiter after it; InfluxDB 1.x refuses even a doubled one).
  auto ends_in_backslash = [](std::string_view s) { return !s.empty() && s.back() == '\\'; };
  scratch.clear();
  spec.measurement->render(e, scratch);
  if (scratch.empty()) return "the measurement rendered empty";
  if (ends_in_backslash(scratch)) return "the measurement ends in a backslash, which line protocol cannot hold";
  append_measurement(out, scratch);
  for (const auto& [key, tmpl] : spec.tags) {
    scratch.clear();
    tmpl.render(e, scratch);
    if (scratch.empty()) continue;  // line protocol has no empty tag values
    if (ends_in_backslash(scratch)) {
      out.resize(start);
      return "a tag value ends in a backslash, which line protocol cannot hold";
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
    append_key(out, key);
    out.push_back('=');
    if (append_field_value(out, *v)) {
      any = true;
    } else {
      out.resize(before);
    }
  }
  if (!any) {
    out.resize(start);
    return "no field to write (line protocol needs one)";
  }
  std::int64_t ts = e.timestamp_ns;
  if (spec.precision == "us") ts /= 1'000;
  else if (spec.precision == "ms") ts /= 1'000'000;
  else if (spec.precision == "s") ts /= 1'000'000'000;
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, ts).ptr;  // no allocation per point
  out.push_back(' ');
  out.append(digits, end);
  out.push_back('\n');
  return nullptr;
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

// One connection and what a request on it needs: sends a slot's points in
// requests of batch.max_events / max_bytes, one after another.
class Sender {
 public:
  Sender(const Spec& spec, const std::string& id, const httplib::Headers& headers, const std::string& path,
         const std::string& password)
      : spec_(spec), id_(id), headers_(headers), path_(path), client_(spec.scheme_host_port) {
    auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(spec.timeout_ns));
    client_.set_connection_timeout(usecs);
    client_.set_read_timeout(usecs);
    client_.set_write_timeout(usecs);
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
    client_.set_compress(spec.gzip);
    if (!spec.v2 && !spec.username.empty()) client_.set_basic_auth(spec.username, password);
  }

  void write(const core::OutputSlot& slot, pipeline::DeliveryReport& report) {
    const std::size_t n = slot.selected.size();
    slot_ = &slot;
    report_ = &report;
    std::size_t i = 0;
    while (i < n) {
      // One request: up to max_events points and max_bytes (at least one).
      items_.clear();
      std::size_t bytes = 0;
      for (; i < n && items_.size() < static_cast<std::size_t>(spec_.max_events); ++i) {
        std::string_view point = line(i);
        if (point.starts_with('\0')) {  // encode() could not make it a point: why follows
          report.set(i, pipeline::Outcome::kRejected, point.substr(1));
          continue;
        }
        if (!items_.empty() && bytes + point.size() > spec_.max_bytes) break;
        items_.push_back(static_cast<std::uint32_t>(i));
        bytes += point.size();
      }
      if (items_.empty()) continue;
      if (!send(items_)) {
        // A later request must not overtake this one: the rest waits too.
        for (std::size_t k = i; k < n; ++k) report.set(k, pipeline::Outcome::kRetry, "waiting behind a failed request");
        break;
      }
    }
    slot_ = nullptr;
    report_ = nullptr;
  }

 private:
  std::string_view line(std::size_t i) const {
    std::size_t b = i == 0 ? 0 : slot_->ends[i - 1];
    return std::string_view(slot_->encoded).substr(b, slot_->ends[i] - b);
  }

  // Sends these points; false when they are to be retried (then the caller
  // holds back what follows). Splits on 400 and 413 to isolate bad points.
  bool send(std::span<const std::uint32_t> items) {
    body_.clear();
    for (std::uint32_t i : items) body_.append(line(i));
    httplib::Result r = client_.Post(path_, headers_, body_, "text/plain; charset=utf-8");
    std::string reason;
    if (!r) {
      reason = "request failed: " + httplib::to_string(r.error());
    } else if (r->status >= 200 && r->status < 300) {
      return true;
    } else {
      reason = http_failure(r->status, r->body);
    }
    const int status = r ? r->status : 0;
    const bool transient = !r || transient_status(status);
    if (transient) {
      for (std::uint32_t i : items) report_->set(i, pipeline::Outcome::kRetry, reason);
      return false;
    }
    if ((status == 400 || status == 413) && items.size() > 1) {
      if (status == 413) core::log::info(id_, "HTTP 413 for ", items.size(), " points: sending them in two halves");
      const std::size_t half = items.size() / 2;
      if (!send(items.first(half))) {
        for (std::uint32_t i : items.subspan(half))
          report_->set(i, pipeline::Outcome::kRetry, "waiting behind a failed request");
        return false;
      }
      return send(items.subspan(half));
    }
    for (std::uint32_t i : items) report_->set(i, pipeline::Outcome::kRejected, reason);
    return true;
  }

  const Spec& spec_;
  const std::string& id_;
  const httplib::Headers& headers_;
  const std::string& path_;
  httplib::Client client_;
  const core::OutputSlot* slot_ = nullptr;
  pipeline::DeliveryReport* report_ = nullptr;
  std::vector<std::uint32_t> items_;
  std::string body_;
};

// Two batches on their way at once, each on its own connection and thread:
// InfluxDB takes concurrent writes, and points are keyed by their time, so
// the order of requests does not change what is stored.
class InfluxOutput final : public pipeline::Output {
 public:
  InfluxOutput(const Spec& spec, std::string id) : spec_(spec), id_(std::move(id)) {
    std::string password;
    if (spec.v2) {
      std::string token = read_secret(spec.token, spec.token_file, secret_error_);
      headers_.emplace("Authorization", "Token " + token);
      path_ = spec.base_path + "/api/v2/write?org=" + url_encode(spec.org) + "&bucket=" + url_encode(spec.bucket) +
              "&precision=" + spec.precision;
    } else {
      password = read_secret(spec.password, spec.password_file, secret_error_);
      path_ = spec.base_path + "/write?db=" + url_encode(spec.database) +
              (spec.retention_policy.empty() ? "" : "&rp=" + url_encode(spec.retention_policy)) +
              "&precision=" + (spec.precision == "us" ? "u" : spec.precision);
    }
    if (!secret_error_.empty()) core::log::error(id_, secret_error_);
    for (auto& f : flights_) f.sender = std::make_unique<Sender>(spec_, id_, headers_, path_, password);
  }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    thread_local std::string scratch;
    slot.encoded.clear();
    slot.ends.clear();
    for (std::uint32_t i : slot.selected) {
      // A point that cannot be written is encoded as '\0' and the reason.
      if (const char* why = encode_point(spec_, batch.events[i], slot.encoded, scratch)) {
        slot.encoded.push_back('\0');
        slot.encoded.append(why);
      }
      slot.ends.push_back(static_cast<std::uint32_t>(slot.encoded.size()));
    }
  }

  std::size_t in_flight() const override { return kInFlight; }

  std::uint64_t begin(const core::Batch&, const core::OutputSlot& slot) override {
    std::uint64_t r = 0;
    while (flights_[r].busy) ++r;  // the pipeline never has more than kInFlight + 1 begun
    Flight& f = flights_[r];
    f.busy = true;
    f.report.reset(slot.selected.size());
    if (!secret_error_.empty()) {
      for (std::size_t i = 0; i < slot.selected.size(); ++i) f.report.set(i, pipeline::Outcome::kRetry, secret_error_);
      return r;
    }
    f.done = std::async(std::launch::async, [&f, &slot] { f.sender->write(slot, f.report); });
    return r;
  }

  void end(std::uint64_t ticket, pipeline::DeliveryReport& report) override {
    Flight& f = flights_[ticket];
    if (f.done.valid()) f.done.get();
    std::swap(report, f.report);
    f.busy = false;
  }

  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    end(begin(batch, slot), report);
  }

 private:
  struct Flight {
    std::unique_ptr<Sender> sender;
    pipeline::DeliveryReport report;
    std::future<void> done;
    bool busy = false;
  };
  static constexpr std::size_t kInFlight = 2;

  const Spec& spec_;
  std::string id_;
  httplib::Headers headers_;
  std::string path_;
  std::string secret_error_;
  std::array<Flight, kInFlight + 1> flights_;
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<InfluxOutput>(*this, ctx.component);
}

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto url = r.get("url", "string", "", "http:// or https:// URL of the InfluxDB server", true);
  s->v2 = r.choice("api", "v1", {"v1", "v2"}, "v1: /write (InfluxDB 1.x); v2: /api/v2/write (InfluxDB 2.x)") == "v2";
  s->database = r.string("database", "", "v1: the database (required with api: v1)");
  s->retention_policy =
      r.string("retention_policy", "", "v1: the retention policy (the database's default when empty)");
  s->username = r.string("username", "", "v1: basic auth user");
  s->password = r.string("password", "", "v1: basic auth password (or password_file)");
  s->password_file = r.string("password_file", "", "v1: a file holding the password");
  s->org = r.string("org", "", "v2: the organization (required with api: v2)");
  s->bucket = r.string("bucket", "", "v2: the bucket (required with api: v2)");
  s->token = r.string("token", "", "v2: the API token (or token_file)");
  s->token_file = r.string("token_file", "", "v2: a file holding the API token");
  s->measurement = config::read_template(r, "measurement", "", "the measurement (a template)", true);
  auto tags =
      r.get("tags", "list or map", "[]", "tags: a list of fields (tag key = field), or a map tag key -> template");
  auto fields = r.get("fields", "list or map", "", "fields: a list of fields, or a map field key -> event field", true);
  s->precision = r.choice("precision", s->precision, {"ns", "us", "ms", "s"}, "timestamp precision of the points");
  auto batch = r.get("batch", "map", "", "{max_events: 5000, max_bytes: 5MiB}: points per request at most");
  s->gzip = r.boolean("gzip", s->gzip, "compress request bodies (Content-Encoding: gzip)");
  s->timeout_ns = r.duration_ns("timeout", s->timeout_ns, "connect, send and answer time limit of a request");
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
  if (!s->password.empty() && !s->password_file.empty()) r.node().error("give password or password_file, not both");
  if (!s->token.empty() && !s->token_file.empty()) r.node().error("give token or token_file, not both");
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
  read_batch_limits(batch, "points", s->max_events, s->max_bytes);
  if (!s->measurement) s->measurement = std::get<expr::Template>(expr::Template::parse("-"));
  return s;
}

}  // namespace bifrost::outputs::influxdb
