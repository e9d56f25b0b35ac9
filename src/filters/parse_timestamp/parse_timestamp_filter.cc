#include "filters/parse_timestamp/parse_timestamp_filter.h"

#include <charconv>

#include "config/expr_reader.h"
#include "core/time.h"

namespace bifrost::filters::parse_timestamp {

namespace {

// "1700000000" or "1700000000.25" in units of `scale_ns`; the fraction is
// read as decimal digits (a double cannot hold nanoseconds of today).
std::optional<std::int64_t> parse_unix(std::string_view s, std::int64_t scale_ns) {
  std::size_t dot = s.find('.');
  std::string_view whole_text = s.substr(0, dot);
  std::int64_t whole = 0;
  auto r = std::from_chars(whole_text.data(), whole_text.data() + whole_text.size(), whole);
  if (whole_text.empty() || r.ec != std::errc() || r.ptr != whole_text.data() + whole_text.size()) return std::nullopt;
  if (whole > INT64_MAX / scale_ns || whole < INT64_MIN / scale_ns) return std::nullopt;
  std::int64_t ns = whole * scale_ns;
  if (dot == std::string_view::npos) return ns;
  std::string_view frac = s.substr(dot + 1);
  if (frac.empty()) return std::nullopt;
  std::int64_t unit = scale_ns;  // what the next digit is worth, times 10
  std::int64_t add = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    if (unit >= 10) {  // digits below a nanosecond are dropped
      unit /= 10;
      add += (c - '0') * unit;
    }
  }
  return whole < 0 || whole_text.front() == '-' ? ns - add : ns + add;
}

std::int64_t to_ns(absl::Time t) { return absl::ToUnixNanos(t); }

class ParseTimestampFilter final : public pipeline::Filter {
 public:
  ParseTimestampFilter(const Spec& spec, const std::string& id)
      : spec_(spec), failure_tag_(id + "_failure"), range_tag_(id + "_out_of_range") {}

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    const std::int64_t now = core::now_ns();
    thread_local std::string text;
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      auto v = core::get_field(e, *spec_.field);
      std::optional<std::int64_t> ns;
      if (v && (v->is_string() || v->is_number())) {
        text.clear();
        if (v->is_string()) text.assign(v->as_string());
        else text = v->kind() == core::Value::Kind::kInt ? std::to_string(v->as_int()) : std::to_string(v->as_double());
        for (const Format& f : spec_.formats) {
          if ((ns = parse_time(f, text, spec_.zone, now))) break;
        }
      }
      if (!ns) {
        apply_failure(spec_.on_failure, batch, e, failure_tag_, "timestamp_failure");
        continue;
      }
      if (!guard(batch, e, *ns, now)) continue;
      if (spec_.target->root() == core::FieldPath::Root::kTimestamp) {
        e.timestamp_ns = *ns;
      } else {
        char buf[core::kRfc3339NsLen];
        core::format_rfc3339_ns(*ns, buf);
        core::set_field(e, *spec_.target, core::Value::string(batch.arena.copy({buf, sizeof buf})), batch.arena);
      }
    }
  }

 private:
  // Applies max_past / max_future. Returns whether to go on setting `ns`.
  bool guard(core::Batch& batch, core::Event& e, std::int64_t& ns, std::int64_t now) const {
    std::optional<std::int64_t> bound;
    if (spec_.max_past_ns && ns < now - spec_.max_past_ns) bound = now - spec_.max_past_ns;
    if (spec_.max_future_ns && ns > now + spec_.max_future_ns) bound = now + spec_.max_future_ns;
    if (!bound) return true;
    switch (spec_.guard) {
      case GuardAction::kClamp: ns = *bound; return true;
      case GuardAction::kTag: core::add_tag(e, range_tag_, batch.arena); return true;
      case GuardAction::kDrop: e.drop_reason = "timestamp_out_of_range"; return false;
    }
    return true;
  }

  const Spec& spec_;
  std::string failure_tag_;
  std::string range_tag_;
};

}  // namespace

core::Result<Format, Error> compile_format(const std::string& text) {
  Format f;
  if (text == "unix") return Format{Format::Kind::kUnix, "", true};
  if (text == "unix_ms") return Format{Format::Kind::kUnixMs, "", true};
  if (text == "unix_us") return Format{Format::Kind::kUnixUs, "", true};
  if (text == "unix_ns") return Format{Format::Kind::kUnixNs, "", true};
  if (text == "rfc3339") return Format{Format::Kind::kStrftime, absl::RFC3339_full, true};
  bool has_year = false, has_directive = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      f.absl_format.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size()) return core::fail(Errc::kBadFormat, "\"%\" at the end of the format");
    char d = text[++i];
    has_directive = true;
    if (d == 'f') {
      f.absl_format += "%E*f";  // 1 to 9 (or more) digits of fraction
      continue;
    }
    if (std::string_view("YyCGgs").find(d) != std::string_view::npos) has_year = true;
    if (std::string_view("aAbBhcdDeFHIjmMnpRrStTuUVwWxXyYzZ%sE").find(d) == std::string_view::npos && d != 'G' &&
        d != 'g' && d != 'C') {
      return core::fail(Errc::kBadFormat, std::string("unknown directive \"%") + d + "\"");
    }
    f.absl_format.push_back('%');
    f.absl_format.push_back(d);
  }
  if (!has_directive) {
    return core::fail(Errc::kBadFormat,
                      "\"" + text + "\" has no % directive and is not one of rfc3339, unix, unix_ms, unix_us, unix_ns");
  }
  f.has_year = has_year;
  return f;
}

std::optional<std::int64_t> parse_time(const Format& f, std::string_view text, const absl::TimeZone& zone,
                                       std::int64_t now_ns) {
  switch (f.kind) {
    case Format::Kind::kUnix: return parse_unix(text, 1'000'000'000);
    case Format::Kind::kUnixMs: return parse_unix(text, 1'000'000);
    case Format::Kind::kUnixUs: return parse_unix(text, 1'000);
    case Format::Kind::kUnixNs: return parse_unix(text, 1);
    case Format::Kind::kStrftime: break;
  }
  absl::Time t;
  if (f.has_year) {
    if (!absl::ParseTime(f.absl_format, absl::string_view(text.data(), text.size()), zone, &t, nullptr)) {
      return std::nullopt;
    }
    return to_ns(t);
  }
  // No year: try this year in the zone; a result more than a day ahead of
  // now belongs to last year (a December line read in January).
  thread_local std::string fmt, input;
  int year = static_cast<int>(absl::ToCivilYear(absl::FromUnixNanos(now_ns), zone).year());
  fmt.assign("%Y ").append(f.absl_format);
  for (int y : {year, year - 1}) {
    input.assign(std::to_string(y)).append(" ").append(text);
    if (!absl::ParseTime(fmt, input, zone, &t, nullptr)) return std::nullopt;
    std::int64_t ns = to_ns(t);
    if (ns <= now_ns + 86'400'000'000'000) return ns;
  }
  return to_ns(t);
}

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ParseTimestampFilter>(*this, ctx.component);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->field = config::read_field_path(r, "field", "", "the field holding the time");
  auto formats = r.get("formats", "list of formats", "",
                       "strftime formats (+ %f) or rfc3339 | unix | unix_ms | unix_us | unix_ns, tried in order", true);
  auto zone = r.get("timezone", "IANA time zone", "UTC", "the zone of formats without one (such as Europe/Berlin)");
  s->target = config::read_field_path(r, "target", "@timestamp", "where the time goes (@timestamp: the event time)");
  s->on_failure = read_on_failure(
      r, "on_failure",
      "no format fits: keep | tag (<id>_failure) | drop (reason timestamp_failure) | reject (to the failed queue)");
  s->max_past_ns = r.duration_ns("max_past", 0, "times further back than this are out of range (0: no bound)");
  s->max_future_ns = r.duration_ns("max_future", 0, "times further ahead than this are out of range (0: no bound)");
  std::string action = r.choice("action", "clamp", {"clamp", "tag", "drop"},
                                "out of range: clamp to the bound | tag (<id>_out_of_range) | drop");
  s->guard = action == "tag" ? GuardAction::kTag : action == "drop" ? GuardAction::kDrop : GuardAction::kClamp;
  if (r.describing()) return s;
  if (formats) {
    std::vector<config::Node> nodes;
    if (formats->is_scalar()) nodes.push_back(*formats);
    else if (formats->is_sequence() && formats->yaml().size() > 0) {
      for (std::size_t i = 0; i < formats->yaml().size(); ++i) nodes.push_back(formats->element(i));
    } else {
      formats->error("expected a non-empty list of formats");
    }
    for (const config::Node& n : nodes) {
      auto text = n.scalar("a time format");
      if (!text) continue;
      auto f = compile_format(*text);
      if (!f) n.error("invalid time format: " + f.error().message);
      else s->formats.push_back(std::move(*f));
    }
  }
  if (zone) {
    // Reads the system's time-zone database (read-only), so that a misspelt
    // zone is a located config error rather than a surprise at run time.
    if (auto name = zone->scalar("an IANA time zone"); name && !absl::LoadTimeZone(*name, &s->zone)) {
      zone->error("unknown time zone \"" + *name + "\" (an IANA name such as Europe/Berlin or America/New_York)");
    }
  }
  return s;
}

}  // namespace bifrost::filters::parse_timestamp
