#include "common/influx/time_guard.h"

#include "core/strings.h"

namespace bifrost::common::influx {

namespace {
std::string span(std::int64_t ns) {
  if (ns < 0) ns = -ns;
  const std::int64_t s = ns / 1'000'000'000;
  if (s >= 86'400) return core::cat(s / 86'400, "d ", s % 86'400 / 3600, "h");
  if (s >= 3600) return core::cat(s / 3600, "h ", s % 3600 / 60, "m");
  return core::cat(s, "s");
}
}  // namespace

std::string TimeGuard::describe(std::int64_t t, std::int64_t now) const {
  if (check(t, now) == Bound::kPast) {
    return "the point's time is " + span(now - t) + " before now (max_past: " + span(max_past_ns) + ")";
  }
  return "the point's time is " + span(t - now) + " after now (max_future: " + span(max_future_ns) + ")";
}

TimeGuard read_time_guard(config::MapReader& r, const std::string& outcome) {
  TimeGuard g;
  g.max_past_ns =
      r.duration_ns("max_past", 0, "points whose time lies further back than this are " + outcome + " (0: no bound)");
  g.max_future_ns = r.duration_ns("max_future", 0,
                                  "points whose time lies further ahead than this are " + outcome + " (0: no bound)");
  return g;
}

}  // namespace bifrost::common::influx
