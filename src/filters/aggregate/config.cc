// Reading the `aggregate` stage's options.
#include <algorithm>

#include "config/expr_reader.h"
#include "filters/aggregate/aggregate_stage.h"

namespace bifrost::filters::aggregate {

namespace {

struct KindName {
  const char* name;
  MetricKind kind;
};
constexpr KindName kKinds[] = {{"sum", MetricKind::kSum},
                               {"min", MetricKind::kMin},
                               {"max", MetricKind::kMax},
                               {"avg", MetricKind::kAvg},
                               {"percentile", MetricKind::kPercentile},
                               {"count_distinct", MetricKind::kCountDistinct}};

std::string kind_list() {
  std::string s = "count";
  for (const auto& k : kKinds) s += std::string(", ") + k.name;
  return s;
}

// One entry of `metrics:`: `name: count` or `name: {sum: field}` (one kind
// key, and `q` for a percentile).
std::optional<MetricSpec> read_metric(const config::Node& key, const config::Node& value) {
  MetricSpec m;
  m.name = key.scalar().value_or("");
  auto out = config::parse_field_path(key);
  if (!out) return std::nullopt;
  m.out = std::move(*out);
  if (m.out.root() != core::FieldPath::Root::kFields || m.out.segments().front() == "window" ||
      m.out.segments().front() == "late") {
    key.error("a metric cannot be named \"" + m.name + "\" (message, @timestamp, window and late are the window's)");
    return std::nullopt;
  }
  if (value.is_scalar()) {
    if (value.scalar() == "count") return m;
    value.error("expected `count` or a map such as {sum: field} (" + kind_list() + ")");
    return std::nullopt;
  }
  if (!value.is_map()) {
    value.error("expected `count` or a map such as {sum: field}, got " + value.kind_name());
    return std::nullopt;
  }
  config::MapReader r(value);
  int kinds = 0;
  for (const auto& k : kKinds) {
    auto f = r.get(k.name, "field", "", std::string("the field this metric reads"));
    if (!f) continue;
    ++kinds;
    m.kind = k.kind;
    m.field = config::parse_field_path(*f);
  }
  auto q = r.get("q", "number", "", "percentile: which one, 0 to 1 (0.99: the 99th)");
  r.finish();
  if (kinds != 1) {
    value.error("a metric takes exactly one of " + kind_list());
    return std::nullopt;
  }
  if (!m.field) return std::nullopt;
  if (q) {
    double v = -1;
    try {
      v = std::stod(q->scalar().value_or("x"));
    } catch (...) {
    }
    if (!(v >= 0 && v <= 1) || m.kind != MetricKind::kPercentile) {
      q->error(m.kind == MetricKind::kPercentile ? "q must be a number from 0 to 1" : "q is for a percentile only");
      return std::nullopt;
    }
    m.q = v;
  } else if (m.kind == MetricKind::kPercentile) {
    value.error("a percentile needs q (0 to 1, say 0.99)");
    return std::nullopt;
  }
  return m;
}

}  // namespace

std::unique_ptr<pipeline::StatefulStageSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->window_ns = r.duration_ns("window", s->window_ns, "length of the tumbling windows, by event time (@timestamp)");
  s->group_by = config::read_field_path_list(
      r, "group_by", "fields whose values make a group (one emitted event per group and window); missing: null");
  auto metrics = r.get("metrics", "map", "",
                       "name: count | {sum|min|max|avg|count_distinct: field} | {percentile: field, q: 0.99}", true);
  s->allowed_lateness_ns = r.duration_ns(
      "allowed_lateness", s->allowed_lateness_ns,
      "how long past its end a window waits for late events (by the event time every source has reached)");
  const std::string late =
      r.choice("late", "drop", {"drop", "tag", "separate"},
               "an event for a window already emitted: drop (reason late), tag (`late`, and it goes on), or "
               "separate (counted in events of its own, with late: true)");
  s->pass = r.boolean("pass", s->pass, "the raw events go on after the stage; false: only the windows' events do");
  s->max_groups = r.integer("max_groups", s->max_groups, 1, 100'000'000,
                            "groups per window at most; past it the window's groups are emitted early (counted, "
                            "not exact) and it starts again");
  s->idle_timeout_ns = r.duration_ns("idle_timeout", s->idle_timeout_ns,
                                     "a source not heard from for this long no longer holds windows open; when "
                                     "every source is idle, the windows close as time passes");
  s->late = late == "tag" ? Late::kTag : late == "separate" ? Late::kSeparate : Late::kDrop;
  if (r.describing()) return s;
  if (s->window_ns <= 0) r.node().error("window must be above 0");
  if (s->allowed_lateness_ns < 0) r.node().error("allowed_lateness cannot be negative");
  if (s->idle_timeout_ns <= 0) r.node().error("idle_timeout must be above 0");
  for (const auto& g : s->group_by) {
    if (g.root() == core::FieldPath::Root::kTimestamp)
      r.node().error("group_by cannot hold @timestamp (the window is the time)");
  }
  if (metrics) {
    config::each_entry(*metrics, "metric name: definition", [&](const config::Node& k, const config::Node& v) {
      auto m = read_metric(k, v);
      if (!m) return;
      for (const auto& g : s->group_by) {
        if (g.text() == m->name) k.error("metric \"" + m->name + "\" has the name of a group_by field");
      }
      s->metrics.push_back(std::move(*m));
    });
    if (metrics->is_map() && metrics->yaml().size() == 0) metrics->error("needs at least one metric");
  }
  return s;
}

}  // namespace bifrost::filters::aggregate
