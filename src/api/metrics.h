// The Prometheus text exposition format (version 0.0.4), written by bifrost
// itself: prometheus-cpp is not packaged for Debian 12.
#pragma once

#include <string>

#include "pipeline/runtime.h"

namespace bifrost::api {

// Every metric of the contract (DESIGN.md, "Metrics"), per component, with
// `pipeline` and `component` labels, plus process metrics.
std::string render_metrics(const pipeline::Runtime* runtime);

}  // namespace bifrost::api
