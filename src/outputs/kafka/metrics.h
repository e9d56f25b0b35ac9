// The Kafka output's own metric families (registered in src/components.cc),
// beside the client statistics every Kafka component has.
#pragma once

#include <vector>

#include "common/kafka/statistics.h"
#include "core/stats.h"

namespace bifrost::outputs::kafka {

inline const core::MetricFamily kTransactions{
    "bifrost_kafka_transactions_total",
    core::MetricType::kCounter,
    "exactly_once: transactions by how they ended: committed; aborted (its events are read again from the committed "
    "positions); fenced (the producer was fenced or failed and was replaced).",
    {"result"}};
inline const core::MetricFamily kDiscardedEvents{
    "bifrost_kafka_transaction_discarded_events_total",
    core::MetricType::kCounter,
    "exactly_once: events left unsent (or sent in an aborted transaction) because the inputs went back to their "
    "committed positions; they are read and sent again.",
    {}};
inline const core::MetricFamily kBadTimestamps{
    "bifrost_kafka_bad_timestamps_total",
    core::MetricType::kCounter,
    "timestamp: event — events whose time was older than max_past or further ahead than max_future, by the bound "
    "and what was done (now: sent with the produce time, the event time in the header bifrost_event_time; reject: "
    "to the failed queue).",
    {"bound", "action"}};

inline std::vector<const core::MetricFamily*> metric_families() {
  auto all = common::kafka::statistics_families();
  all.insert(all.begin(), {&kTransactions, &kDiscardedEvents, &kBadTimestamps});
  return all;
}

}  // namespace bifrost::outputs::kafka
