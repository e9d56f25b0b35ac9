// The metric families of line-protocol points, shared by what reads them
// (parse_influx, the Kafka input's `decoding: influx`) and the influxdb
// output's time guard, each listing them in its registration line.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/influx/reader.h"
#include "common/influx/time_guard.h"
#include "core/stats.h"

namespace bifrost::common::influx {

inline const core::MetricFamily kInvalidPoints{
    "bifrost_influx_points_invalid_total",
    core::MetricType::kCounter,
    "Lines of line protocol that are not points, by reason (each one kept, tagged, dropped or parked as configured).",
    {"reason"}};
inline const core::MetricFamily kOutOfRangePoints{
    "bifrost_influx_points_out_of_range_total",
    core::MetricType::kCounter,
    "Points whose time is further from now than max_past or max_future, by bound (past, future).",
    {"bound"}};

// The SeriesSet group these go to (the Kafka input's own are 0 and 1).
constexpr std::size_t kSeriesGroup = 2;

// A component's counts of both families, published in its SeriesSet (every
// series from the start, at zero, so rates work from the first point).
// Counted once per batch by any worker; publish() after a batch that
// counted something.
class PointCounters {
 public:
  // `stats` may be null (bifrost test, replay): then nothing is published.
  PointCounters(core::ComponentStats* stats, bool invalid, bool out_of_range)
      : stats_(stats), invalid_on_(invalid), range_on_(out_of_range) {
    publish();
  }
  void add_invalid(Errc e, std::uint64_t n) { invalid_[static_cast<std::size_t>(e)].add(n); }
  void add_out_of_range(Bound b, std::uint64_t n) { range_[b == Bound::kFuture ? 1 : 0].add(n); }
  std::uint64_t invalid(Errc e) const { return invalid_[static_cast<std::size_t>(e)].load(); }
  std::uint64_t out_of_range(Bound b) const { return range_[b == Bound::kFuture ? 1 : 0].load(); }

  void publish() {
    if (!stats_) return;
    std::vector<core::Series> series;
    std::lock_guard lock(mu_);  // a later snapshot never lands before an earlier one
    if (invalid_on_) {
      for (std::size_t i = 0; i < kErrcCount; ++i) {
        series.push_back({&kInvalidPoints, {reason(static_cast<Errc>(i))}, static_cast<double>(invalid_[i].load())});
      }
    }
    if (range_on_) {
      series.push_back({&kOutOfRangePoints, {"past"}, static_cast<double>(range_[0].load())});
      series.push_back({&kOutOfRangePoints, {"future"}, static_cast<double>(range_[1].load())});
    }
    stats_->series.replace(std::move(series), kSeriesGroup);
  }

 private:
  core::ComponentStats* stats_;
  bool invalid_on_, range_on_;
  std::array<core::Counter, kErrcCount> invalid_;
  std::array<core::Counter, 2> range_;
  std::mutex mu_;
};

}  // namespace bifrost::common::influx
