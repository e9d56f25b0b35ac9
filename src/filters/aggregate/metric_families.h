// The aggregate stage's own metric families (registered in src/components.cc).
#pragma once

#include <vector>

#include "core/stats.h"
#include "filters/common/state_metrics.h"

namespace bifrost::filters::aggregate {

inline const core::MetricFamily kOpenWindows{
    "bifrost_aggregate_open_windows", core::MetricType::kGauge, "Windows an aggregate holds open.", {}};
inline const core::MetricFamily kGroups{
    "bifrost_aggregate_groups", core::MetricType::kGauge, "Groups in an aggregate's open windows.", {}};
inline const core::MetricFamily kLate{"bifrost_aggregate_late_total",
                                      core::MetricType::kCounter,
                                      "Events for a window already emitted (handled as `late:` says).",
                                      {}};
inline const core::MetricFamily kReplayed{
    "bifrost_aggregate_replayed_total",
    core::MetricType::kCounter,
    "Events read again after a restart that were counted in a window already emitted and delivered: not counted "
    "again.",
    {}};
inline const core::MetricFamily kSkipped{"bifrost_aggregate_skipped_total",
                                         core::MetricType::kCounter,
                                         "Events a metric did not count: its field missing, or not a number.",
                                         {"metric", "reason"}};
inline const core::MetricFamily kEarly{
    "bifrost_aggregate_early_emits_total",
    core::MetricType::kCounter,
    "Windows whose groups were emitted before the window closed because they reached max_groups (not exact).",
    {}};
inline const core::MetricFamily kEmitted{"bifrost_aggregate_emitted_total",
                                         core::MetricType::kCounter,
                                         "Events an aggregate emitted (one per window and group).",
                                         {}};

inline std::vector<const core::MetricFamily*> metric_families() {
  return {&kOpenWindows, &kGroups, &kLate, &kReplayed, &kSkipped, &kEarly, &kEmitted, &kStateBytes, &kStateErrors};
}

}  // namespace bifrost::filters::aggregate
