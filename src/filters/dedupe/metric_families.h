// The dedupe stage's own metric families (registered in src/components.cc).
#pragma once

#include <vector>

#include "core/stats.h"
#include "filters/common/state_metrics.h"

namespace bifrost::filters::dedupe {

inline const core::MetricFamily kHits{"bifrost_dedupe_hits_total",
                                      core::MetricType::kCounter,
                                      "Events whose key was seen within the window: dropped (reason duplicate).",
                                      {}};
inline const core::MetricFamily kKeys{
    "bifrost_dedupe_keys", core::MetricType::kGauge, "Keys a dedupe stage remembers (bloom: keys in its slices).", {}};
inline const core::MetricFamily kUnchecked{
    "bifrost_dedupe_unchecked_total",
    core::MetricType::kCounter,
    "Events that went on without a check: no_key (a field of the key missing), replayed (bloom mode, read again "
    "after a restart from before the saved state).",
    {"reason"}};

inline std::vector<const core::MetricFamily*> metric_families() {
  return {&kHits, &kKeys, &kUnchecked, &kStateBytes, &kStateErrors};
}

}  // namespace bifrost::filters::dedupe
