// The metric families every stateful stage has (registered with each in
// src/components.cc); each stage publishes them in its SeriesSet.
#pragma once

#include "core/stats.h"

namespace bifrost::filters {

inline const core::MetricFamily kStateBytes{
    "bifrost_state_bytes",
    core::MetricType::kGauge,
    "Memory a stateful stage's state takes (an aggregate's open windows, dedupe keys, throttle buckets).",
    {}};
inline const core::MetricFamily kStateErrors{
    "bifrost_state_errors_total",
    core::MetricType::kCounter,
    "State files of a stateful stage that could not be read (corrupt: moved aside, the stage starts without) or "
    "written.",
    {}};

}  // namespace bifrost::filters
