// GET /metrics: the Prometheus text exposition, made by prometheus-cpp
// (Debian's prometheus-cpp-dev). At each scrape a collectable reads the
// running components' counters (the data path keeps its plain sharded
// atomics, core/stats.h), and a prometheus-cpp registry holds the process's
// metrics, set from /proc. The families are every component's (events in and out, drops,
// queue, retries, checkpoints, backpressure, ...: listed in metrics.cc)
// plus the ones component types declare when they register
// (config::declared_metric_families), whose samples the components publish
// in their SeriesSet: a new component's series need no edit here.
#pragma once

#include <span>
#include <string>

#include "core/stats.h"
#include "pipeline/runtime.h"

namespace bifrost::api {

// Every metric of the contract (DESIGN.md, "Metrics"), per component, with
// `pipeline` and `component` labels, plus process metrics. `runtime` may be
// null (nothing runs: the families are still shown).
std::string render_metrics(const pipeline::Runtime* runtime, std::span<const core::MetricFamily* const> declared);

}  // namespace bifrost::api
