// The guard of the monitoring path: a point whose time is far from now (a
// host whose clock is a year off) is caught before InfluxDB stores it in the
// wrong place. `max_past` and `max_future` as parse_timestamp names them;
// what happens to such a point is the component's (parse_influx: clamp,
// tag, drop or reject; the influxdb output: rejected, to its failed queue).
#pragma once

#include <cstdint>
#include <string>

#include "config/reader.h"

namespace bifrost::common::influx {

enum class Bound : std::uint8_t { kNone, kPast, kFuture };

struct TimeGuard {
  std::int64_t max_past_ns = 0;    // 0: no bound
  std::int64_t max_future_ns = 0;  // 0: no bound

  bool enabled() const { return max_past_ns > 0 || max_future_ns > 0; }
  // Which bound `t` is beyond, `now` being now (both ns since the epoch).
  Bound check(std::int64_t t, std::int64_t now) const {
    if (max_past_ns > 0 && t < now - max_past_ns) return Bound::kPast;
    if (max_future_ns > 0 && t > now + max_future_ns) return Bound::kFuture;
    return Bound::kNone;
  }
  // The bound itself (clamping), for a time beyond it.
  std::int64_t bound(Bound b, std::int64_t now) const {
    return b == Bound::kPast ? now - max_past_ns : now + max_future_ns;
  }
  // "the point's time is 400d 3h before now (max_past: 30d)"
  std::string describe(std::int64_t t, std::int64_t now) const;
};

// Reads max_past and max_future (durations; 0, the default, is no bound);
// `outcome` says what happens to a point beyond them, for describe.
TimeGuard read_time_guard(config::MapReader& r, const std::string& outcome);

}  // namespace bifrost::common::influx
