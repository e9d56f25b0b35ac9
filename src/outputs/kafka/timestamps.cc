#include "outputs/kafka/timestamps.h"

#include <climits>
#include <cstdlib>
#include <vector>

#include "config/reader.h"
#include "core/log.h"
#include "outputs/kafka/metrics.h"

namespace bifrost::outputs::kafka {

namespace {

// Asked again this many times, this far apart, while a topic does not exist
// yet (its first records create it).
constexpr int kRetries = 3;
constexpr auto kRetryAfter = std::chrono::seconds(2);

}  // namespace

TimestampGuard::TimestampGuard(const TimestampBounds& bounds, std::string id, core::Clock& clock,
                               core::ComponentStats* stats)
    : bounds_(bounds),
      id_(std::move(id)),
      clock_(clock),
      stats_(stats),
      clock_base_(clock.now()),
      steady_base_(std::chrono::steady_clock::now()) {}

std::int64_t TimestampGuard::now_ns() const {
  const auto skew = (clock_.now() - clock_base_) - (std::chrono::steady_clock::now() - steady_base_);
  return core::now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(skew).count();
}

std::string TimestampGuard::reason(TimeCheck c, std::int64_t event_ns, std::int64_t now_ns) {
  const bool past = c == TimeCheck::kPast;
  std::string r = "the event time ";
  r += time_cache_.format(event_ns);
  r += past ? " is older than max_past (" + config::format_duration(bounds_.max_past_ns)
            : " is further ahead than max_future (" + config::format_duration(bounds_.max_future_ns);
  r += ") at ";
  r += time_cache_.format(now_ns);
  r += " (on_bad_timestamp: reject)";
  return r;
}

void TimestampGuard::publish() {
  if (!stats_ || (published_ && past_ == published_past_ && future_ == published_future_)) return;
  const char* action = bounds_.reject ? "reject" : "now";
  std::vector<core::Series> series;
  series.push_back({&kBadTimestamps, {"max_past", action}, static_cast<double>(past_)});
  series.push_back({&kBadTimestamps, {"max_future", action}, static_cast<double>(future_)});
  stats_->series.replace(std::move(series));
  published_ = true;
  published_past_ = past_;
  published_future_ = future_;
}

void TimestampGuard::attach(rd_kafka_t* rk) {
  detach();
  rk_ = rk;
  queue_ = rd_kafka_queue_new(rk);
}

void TimestampGuard::detach() {
  if (queue_) rd_kafka_queue_destroy(queue_);
  queue_ = nullptr;
  rk_ = nullptr;
  // What was asked and not answered is asked again on the next producer.
  for (auto it = asked_.begin(); it != asked_.end();) {
    it = answered_.contains(*it) ? std::next(it) : asked_.erase(it);
  }
}

void TimestampGuard::describe(const std::string& topic) {
  if (!queue_ || !asked_.insert(topic).second) return;
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_DescribeConfigs(rk_, &res, 1, nullptr, queue_);
  rd_kafka_ConfigResource_destroy(res);
}

void TimestampGuard::poll() {
  if (!queue_) return;
  if (!retries_.empty() && clock_.now() >= retry_at_) {
    for (const auto& [topic, tries] : retries_) {
      if (!answered_.contains(topic)) describe(topic);
    }
  }
  while (rd_kafka_event_t* ev = rd_kafka_queue_poll(queue_, 0)) {
    const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(ev);
    if (!result || rd_kafka_event_error(ev)) {
      // The whole request failed (timed out, no broker): the bounds are
      // simply not compared with the topic's limits.
      core::log::debug(id_, "DescribeConfigs: ", rd_kafka_event_error_string(ev));
    } else {
      std::size_t n = 0;
      const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(result, &n);
      for (std::size_t i = 0; i < n; ++i) read(resources[i]);
    }
    rd_kafka_event_destroy(ev);
  }
}

void TimestampGuard::read(const rd_kafka_ConfigResource_t* res) {
  const std::string topic = rd_kafka_ConfigResource_name(res);
  if (const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(res)) {
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && ++retries_[topic] <= kRetries) {
      // Not there yet: created by the records just sent. Asked again later.
      asked_.erase(topic);
      retry_at_ = clock_.now() + kRetryAfter;
      return;
    }
    // Not allowed (DescribeConfigs needs DESCRIBE_CONFIGS on the topic), or
    // still not there: the bounds are not compared with the topic's limits.
    core::log::debug(id_, "topic ", topic, ": its configuration cannot be read (",
                     rd_kafka_ConfigResource_error_string(res), ")");
    answered_.insert(topic);
    retries_.erase(topic);
    return;
  }
  answered_.insert(topic);
  retries_.erase(topic);
  std::size_t m = 0;
  const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(res, &m);
  for (std::size_t k = 0; k < m; ++k) {
    const char* value = rd_kafka_ConfigEntry_value(entries[k]);
    if (!value) continue;
    const std::string name = rd_kafka_ConfigEntry_name(entries[k]);
    const std::int64_t ms = std::strtoll(value, nullptr, 10);
    if (ms <= 0) continue;  // -1: no limit
    const std::int64_t ns = ms > INT64_MAX / 1'000'000 ? INT64_MAX : ms * 1'000'000;
    if (name == "retention.ms" && ns < bounds_.max_past_ns) {
      core::log::warn(id_, "topic ", topic, " keeps records for ", config::format_duration(ns),
                      " (retention.ms), less than max_past (", config::format_duration(bounds_.max_past_ns),
                      "): a record with an event time older than the retention may be deleted as soon as it is "
                      "written. Set max_past to the retention or less");
    } else if (name == "message.timestamp.before.max.ms" && ns < bounds_.max_past_ns) {
      core::log::warn(id_, "topic ", topic, " refuses record times older than ", config::format_duration(ns),
                      " (message.timestamp.before.max.ms), less than max_past (",
                      config::format_duration(bounds_.max_past_ns),
                      "): the broker rejects such records to the failed queue. Set max_past to it or less");
    } else if (name == "message.timestamp.after.max.ms" && ns < bounds_.max_future_ns) {
      core::log::warn(id_, "topic ", topic, " refuses record times further ahead than ", config::format_duration(ns),
                      " (message.timestamp.after.max.ms), less than max_future (",
                      config::format_duration(bounds_.max_future_ns),
                      "): the broker rejects such records to the failed queue. Set max_future to it or less");
    }
  }
}

}  // namespace bifrost::outputs::kafka
