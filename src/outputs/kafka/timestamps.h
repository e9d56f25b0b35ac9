// `timestamp: event`: the record times the broker is given. A record time
// older than the topic's retention.ms makes its segment deletable as soon as
// it rolls (or the broker refuses it: message.timestamp.before.max.ms); one
// far ahead keeps a whole segment from expiring until that time (or is
// refused: message.timestamp.after.max.ms). Event times past `max_past` or
// `max_future` are caught here, before the record is made, and counted:
// the record gets the produce time with the event time in the header
// bifrost_event_time (on_bad_timestamp: now), or the event is rejected to
// the failed queue (reject). The topics' own limits are read when a topic
// is first written (DescribeConfigs on the producer's handle, answered on
// the output's thread), and bounds above them are warned about.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "core/clock.h"
#include "core/stats.h"
#include "core/time.h"

namespace bifrost::outputs::kafka {

struct TimestampBounds {
  std::int64_t max_past_ns = 7 * 86'400'000'000'000;  // the broker's default retention.ms
  std::int64_t max_future_ns = 3'600'000'000'000;
  bool reject = false;  // on_bad_timestamp: reject (else now)
};

enum class TimeCheck : std::uint8_t { kOk, kPast, kFuture };

// Where `event_ns` falls against `now_ns` (both ns since the epoch); bounds
// > 0. No overflow for any event time: now_ns - max_past_ns stays above
// INT64_MIN for any now after 1970, and the distance ahead is taken only
// when the event is ahead.
inline TimeCheck check_time(std::int64_t event_ns, std::int64_t now_ns, const TimestampBounds& b) {
  if (event_ns < now_ns - b.max_past_ns) return TimeCheck::kPast;
  if (event_ns > now_ns && event_ns - now_ns > b.max_future_ns) return TimeCheck::kFuture;
  return TimeCheck::kOk;
}

// The header a bad event time goes in with on_bad_timestamp: now.
inline constexpr char kEventTimeHeader[] = "bifrost_event_time";

class TimestampGuard {
 public:
  TimestampGuard(const TimestampBounds& bounds, std::string id, core::Clock& clock, core::ComponentStats* stats);
  ~TimestampGuard() { detach(); }
  TimestampGuard(const TimestampGuard&) = delete;
  TimestampGuard& operator=(const TimestampGuard&) = delete;

  // The wall time now, read once per batch: the system's clock moved by
  // how far the pipeline's clock has moved beyond the steady clock since
  // the output was built (nothing, unless a test drives a fake clock).
  std::int64_t now_ns() const;

  // The event time against the bounds at `now_ns`, counted when bad.
  TimeCheck check(std::int64_t event_ns, std::int64_t now_ns) {
    const TimeCheck c = check_time(event_ns, now_ns, bounds_);
    if (c != TimeCheck::kOk) ++(c == TimeCheck::kPast ? past_ : future_);
    return c;
  }
  // RFC 3339 with nanoseconds, UTC: the header's value. Valid until the next call.
  const char* format(std::int64_t event_ns) { return time_cache_.format(event_ns); }
  // Why a bad event is rejected (on_bad_timestamp: reject).
  std::string reason(TimeCheck c, std::int64_t event_ns, std::int64_t now_ns);
  // Publishes the counters when they moved since last time (and once at first).
  void publish();

  // The topic configurations, on the producer `rk`: attach() after it is
  // made, detach() before it is destroyed.
  void attach(rd_kafka_t* rk);
  void detach();
  // Asks for the configuration of a topic written for the first time.
  void describe(const std::string& topic);
  // Reads the answers that came (warning about bounds above the topic's
  // limits) and asks again for topics that did not exist yet.
  void poll();

  std::uint64_t past() const { return past_; }
  std::uint64_t future() const { return future_; }

 private:
  void read(const rd_kafka_ConfigResource_t* res);

  TimestampBounds bounds_;
  std::string id_;
  core::Clock& clock_;
  core::ComponentStats* stats_;
  core::Clock::time_point clock_base_;
  std::chrono::steady_clock::time_point steady_base_;
  core::Rfc3339Cache time_cache_;
  std::uint64_t past_ = 0, future_ = 0;
  std::uint64_t published_past_ = 0, published_future_ = 0;
  bool published_ = false;

  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  std::set<std::string> asked_;         // asked (on this producer or before), or answered
  std::set<std::string> answered_;      // or given up on
  std::map<std::string, int> retries_;  // not there yet: asked again so far
  core::Clock::time_point retry_at_{};
};

}  // namespace bifrost::outputs::kafka
