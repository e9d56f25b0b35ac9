// The Kafka clients' own statistics (librdkafka's statistics callback, every
// `statistics.interval.ms`, 5 s unless the `librdkafka:` passthrough says
// otherwise), as metric families of the component that owns the client:
// per broker the average round-trip time, requests and bytes sent and
// received; for a consumer, the messages and bytes it fetched. Rates come
// from PromQL's rate() over the counters.
#pragma once

#include <string_view>
#include <vector>

#include "core/stats.h"

namespace bifrost::common::kafka {

inline const core::MetricFamily kBrokerRtt{"bifrost_kafka_broker_rtt_seconds",
                                           core::MetricType::kGauge,
                                           "Per broker: average request round-trip time over the last statistics "
                                           "interval (librdkafka).",
                                           {"broker"}};
inline const core::MetricFamily kBrokerRequests{"bifrost_kafka_broker_requests_total",
                                                core::MetricType::kCounter,
                                                "Per broker: requests sent (librdkafka).",
                                                {"broker"}};
inline const core::MetricFamily kBrokerBytesSent{"bifrost_kafka_broker_bytes_sent_total",
                                                 core::MetricType::kCounter,
                                                 "Per broker: bytes sent (librdkafka).",
                                                 {"broker"}};
inline const core::MetricFamily kBrokerBytesReceived{"bifrost_kafka_broker_bytes_received_total",
                                                     core::MetricType::kCounter,
                                                     "Per broker: bytes received (librdkafka).",
                                                     {"broker"}};
inline const core::MetricFamily kFetchedMessages{"bifrost_kafka_consumer_fetched_messages_total",
                                                 core::MetricType::kCounter,
                                                 "Messages the consumer fetched from the brokers (librdkafka).",
                                                 {}};
inline const core::MetricFamily kFetchedBytes{"bifrost_kafka_consumer_fetched_bytes_total",
                                              core::MetricType::kCounter,
                                              "Message bytes the consumer fetched from the brokers (librdkafka).",
                                              {}};

// The families every Kafka component has (the consumer's two are empty for
// a producer).
inline std::vector<const core::MetricFamily*> statistics_families() {
  return {&kBrokerRtt, &kBrokerRequests, &kBrokerBytesSent, &kBrokerBytesReceived, &kFetchedMessages, &kFetchedBytes};
}

// The SeriesSet group the statistics go to (apart from the component's own).
constexpr std::size_t kStatisticsGroup = 1;

// The default interval, set before the passthrough (which wins).
constexpr const char* kStatisticsIntervalMs = "5000";

// Series from one statistics document (librdkafka's JSON); empty when it
// cannot be read. Brokers known only by their bootstrap address, and the
// client's internal broker, are left out.
std::vector<core::Series> parse_statistics(std::string_view json);

}  // namespace bifrost::common::kafka
