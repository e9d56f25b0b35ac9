// The http input's own metric family, beside every network input's
// (inputs/common/net_metrics.h); registered in src/components.cc.
#pragma once

#include <vector>

#include "common/influx/metrics.h"
#include "core/stats.h"
#include "inputs/common/net_metrics.h"

namespace bifrost::inputs::http {

inline const core::MetricFamily kRequests{"bifrost_http_requests_total",
                                          core::MetricType::kCounter,
                                          "Requests the http input answered, by status code.",
                                          {"code"}};

inline std::vector<const core::MetricFamily*> metric_families() {
  auto all = net_metric_families();
  all.push_back(&kRequests);
  all.push_back(&common::influx::kInvalidPoints);  // decoding: influx
  return all;
}

}  // namespace bifrost::inputs::http
