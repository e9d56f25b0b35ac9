// The Kafka input's own metric families (registered in src/components.cc),
// beside the client statistics every Kafka component has.
#pragma once

#include <vector>

#include "common/influx/metrics.h"
#include "common/kafka/statistics.h"
#include "core/stats.h"

namespace bifrost::inputs::kafka {

inline const core::MetricFamily kConsumerLag{"bifrost_kafka_consumer_lag",
                                             core::MetricType::kGauge,
                                             "Per partition: high watermark minus the committed offset.",
                                             {"topic", "partition"}};

inline std::vector<const core::MetricFamily*> metric_families() {
  auto all = common::kafka::statistics_families();
  all.insert(all.begin(), &kConsumerLag);
  all.push_back(&common::influx::kInvalidPoints);  // decoding: influx
  return all;
}

}  // namespace bifrost::inputs::kafka
