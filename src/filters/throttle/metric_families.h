// The throttle stage's own metric families (registered in src/components.cc).
#pragma once

#include <vector>

#include "core/stats.h"
#include "filters/common/state_metrics.h"

namespace bifrost::filters::throttle {

inline const core::MetricFamily kExcess{
    "bifrost_throttle_excess_total",
    core::MetricType::kCounter,
    "Events over the rate of their key: dropped (reason throttled) or tagged, as on_excess says.",
    {}};
inline const core::MetricFamily kBuckets{
    "bifrost_throttle_buckets", core::MetricType::kGauge, "Keys a throttle stage keeps a bucket for.", {}};

inline std::vector<const core::MetricFamily*> metric_families() {
  return {&kExcess, &kBuckets, &kStateBytes, &kStateErrors};
}

}  // namespace bifrost::filters::throttle
