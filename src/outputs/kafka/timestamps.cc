// `timestamp: event`: the record times the broker is given. An event time
// far in the past makes the broker delete the record at once (its segment
// is past retention.ms) or refuse it (message.timestamp.before.max.ms); one
// far ahead keeps a whole segment from ever expiring, or is refused
// (message.timestamp.after.max.ms). Both are caught here, counted, and the
// record gets the produce time (the event time in a header) or is rejected.
// The topics' real limits are read when a topic is first written.
#include <cinttypes>
#include <cstdlib>

#include "config/reader.h"
#include "core/log.h"
#include "outputs/kafka/producer.h"

namespace bifrost::outputs::kafka {

bool KafkaOutput::record_time(const core::Event& e, std::int64_t now_ns, std::int64_t& ts_ms, bool& original,
                              std::string& reason) {
  const std::int64_t t = e.timestamp_ns;
  const bool past = t < now_ns - spec_.max_past_ns;
  const bool future = !past && t > now_ns + spec_.max_future_ns;
  if (!past && !future) {
    ts_ms = t / 1'000'000;
    return true;
  }
  ++(past ? past_ : future_);
  if (spec_.reject_bad_timestamp) {
    reason = std::string("the event time ") + time_cache_.format(t) +
             (past ? " is older than max_past (" + config::format_duration(spec_.max_past_ns)
                   : " is further ahead than max_future (" + config::format_duration(spec_.max_future_ns)) +
             "); on_bad_timestamp: reject";
    return false;
  }
  ts_ms = 0;  // the produce time
  original = true;
  return true;
}

void KafkaOutput::describe_topic(const std::string& topic) {
  if (!admin_queue_ || !described_.insert(topic).second) return;
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_DescribeConfigs(rk_, &res, 1, nullptr, admin_queue_);
  rd_kafka_ConfigResource_destroy(res);
}

// The answers to describe_topic(), on the output's thread (flush()).
void KafkaOutput::read_topic_configs() {
  if (!admin_queue_) return;
  if (!describe_again_.empty() && clock_.now() >= describe_at_) {
    for (const auto& [topic, tries] : describe_again_) describe_topic(topic);
  }
  while (rd_kafka_event_t* ev = rd_kafka_queue_poll(admin_queue_, 0)) {
    const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(ev);
    if (!result || rd_kafka_event_error(ev)) {
      core::log::debug(id_, "DescribeConfigs: ", rd_kafka_event_error_string(ev));
      rd_kafka_event_destroy(ev);
      continue;
    }
    std::size_t n = 0;
    const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(result, &n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string topic = rd_kafka_ConfigResource_name(resources[i]);
      if (rd_kafka_ConfigResource_error(resources[i])) {
        // Not allowed, or not there yet (created by this first write):
        // asked again a few times, 2 s apart.
        core::log::debug(id_, "topic ", topic, ": its configuration cannot be read (",
                         rd_kafka_ConfigResource_error_string(resources[i]), ")");
        if (++describe_again_[topic] <= 3) {
          described_.erase(topic);
          describe_at_ = clock_.now() + std::chrono::seconds(2);
        }
        continue;
      }
      describe_again_.erase(topic);
      std::size_t m = 0;
      const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[i], &m);
      for (std::size_t k = 0; k < m; ++k) {
        const std::string name = rd_kafka_ConfigEntry_name(entries[k]);
        const char* value = rd_kafka_ConfigEntry_value(entries[k]);
        if (!value) continue;
        const std::int64_t ms = std::strtoll(value, nullptr, 10);
        if (ms <= 0) continue;  // -1: no limit
        const std::int64_t ns = ms > INT64_MAX / 1'000'000 ? INT64_MAX : ms * 1'000'000;
        if (name == "retention.ms" && ns < spec_.max_past_ns) {
          core::log::warn(id_, "topic ", topic, " keeps records ", config::format_duration(ns),
                          " (retention.ms); max_past (", config::format_duration(spec_.max_past_ns),
                          ") is above it: a record with an event time older than the retention is deleted soon "
                          "after it is written. Lower max_past to the retention");
        } else if (name == "message.timestamp.before.max.ms" && ns < spec_.max_past_ns) {
          core::log::warn(id_, "topic ", topic, " refuses record times older than ", config::format_duration(ns),
                          " (message.timestamp.before.max.ms), less than max_past (",
                          config::format_duration(spec_.max_past_ns), "): such events go to the failed queue");
        } else if (name == "message.timestamp.after.max.ms" && ns < spec_.max_future_ns) {
          core::log::warn(id_, "topic ", topic, " refuses record times further ahead than ",
                          config::format_duration(ns), " (message.timestamp.after.max.ms), less than max_future (",
                          config::format_duration(spec_.max_future_ns), "): such events go to the failed queue");
        }
      }
    }
    rd_kafka_event_destroy(ev);
  }
}

}  // namespace bifrost::outputs::kafka
