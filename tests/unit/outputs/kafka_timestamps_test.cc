// The Kafka output's guard of record times (timestamp: event, max_past,
// max_future, on_bad_timestamp), on librdkafka's mock cluster and a fake
// clock; the real broker's test is tests/integration/test_kafka_timestamps.py.
#include <doctest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <climits>
#include <cstring>

#include "config/model.h"
#include "core/time.h"
#include "outputs/kafka/kafka_output.h"
#include "outputs/kafka/timestamps.h"
#include "support/components.h"
#include "support/fake_clock.h"
#include "support/kafka_mock.h"

using namespace bifrost;
using outputs::kafka::check_time;
using outputs::kafka::TimeCheck;
using outputs::kafka::TimestampBounds;
using pipeline::Outcome;

namespace {

constexpr std::int64_t kHour = 3'600'000'000'000;
constexpr std::int64_t kDay = 24 * kHour;

using testing::MockCluster;

struct Record {
  std::string value;
  std::int64_t timestamp_ms;
  std::string event_time;  // the bifrost_event_time header; empty when absent
};

// The first `n` records of topic t, partition 0.
std::vector<Record> consume(const MockCluster& c, std::size_t n) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  REQUIRE(rd_kafka_conf_set(conf, "bootstrap.servers", c.brokers().c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
  REQUIRE(rd_kafka_conf_set(conf, "group.id", "check", err, sizeof err) == RD_KAFKA_CONF_OK);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE(rk);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, "t", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  REQUIRE(rd_kafka_assign(rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<Record> out;
  for (int polls = 0; out.size() < n && polls < 100; ++polls) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      Record r{{static_cast<const char*>(m->payload), m->len}, rd_kafka_message_timestamp(m, nullptr), ""};
      rd_kafka_headers_t* h = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(h, "bifrost_event_time", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        r.event_time.assign(static_cast<const char*>(value), size);
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

std::string load_errors(const std::string& extra) {
  config::Diagnostics diag;
  config::load_text("t.yaml",
                    "inputs: [{id: i, type: stdin}]\noutputs:\n  - {id: o, type: kafka, brokers: [b:9092], "
                    "topic: t" +
                        extra + "}\n",
                    diag);
  return diag.render();
}

TimestampBounds bounds_of(const std::string& extra) {
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml",
                               "inputs: [{id: i, type: stdin}]\noutputs:\n  - {id: o, type: kafka, brokers: "
                               "[b:9092], topic: t" +
                                   extra + "}\n",
                               diag);
  INFO(diag.render());
  REQUIRE(cfg);
  return dynamic_cast<const outputs::kafka::Spec&>(*cfg->pipelines.at(0).outputs.at(0).spec).bounds;
}

std::string rfc3339(std::int64_t ns) {
  char buf[core::kRfc3339NsLen + 1] = {};
  core::format_rfc3339_ns(ns, buf);
  return buf;
}

}  // namespace

TEST_CASE("kafka max_past, max_future and on_bad_timestamp: defaults, values and located errors") {
  TimestampBounds d = bounds_of("");
  CHECK(d.max_past_ns == 7 * kDay);  // the broker's default retention.ms
  CHECK(d.max_future_ns == kHour);
  CHECK_FALSE(d.reject);
  TimestampBounds set = bounds_of(", max_past: 2d, max_future: 5m, on_bad_timestamp: reject");
  CHECK(set.max_past_ns == 2 * kDay);
  CHECK(set.max_future_ns == 5 * 60'000'000'000LL);
  CHECK(set.reject);
  CHECK(load_errors(", max_past: 0s").find("t.yaml:3:") == 0);
  CHECK(load_errors(", max_past: 0s").find("max_past: must be more than 0") != std::string::npos);
  CHECK(load_errors(", max_future: 0s").find("max_future: must be more than 0") != std::string::npos);
  CHECK(load_errors(", max_future: soon").find("max_future") != std::string::npos);
  CHECK(load_errors(", on_bad_timestamp: drop").find("on_bad_timestamp") != std::string::npos);
}

TEST_CASE("kafka check_time: the bounds themselves pass, a nanosecond beyond does not, any int64 is safe") {
  const TimestampBounds b{7 * kDay, kHour, false};
  const std::int64_t now = 1'780'000'000'000'000'000;  // 2026
  CHECK(check_time(now, now, b) == TimeCheck::kOk);
  CHECK(check_time(now - 7 * kDay, now, b) == TimeCheck::kOk);
  CHECK(check_time(now - 7 * kDay - 1, now, b) == TimeCheck::kPast);
  CHECK(check_time(now + kHour, now, b) == TimeCheck::kOk);
  CHECK(check_time(now + kHour + 1, now, b) == TimeCheck::kFuture);
  CHECK(check_time(0, now, b) == TimeCheck::kPast);
  CHECK(check_time(INT64_MIN, now, b) == TimeCheck::kPast);
  CHECK(check_time(INT64_MAX, now, b) == TimeCheck::kFuture);
  const TimestampBounds wide{INT64_MAX, INT64_MAX, false};
  CHECK(check_time(-7'000'000'000'000'000'000, now, wide) == TimeCheck::kOk);  // 1748
  CHECK(check_time(INT64_MIN, now, wide) == TimeCheck::kPast);                 // 1677: more than INT64_MAX ago
  CHECK(check_time(INT64_MAX, now, wide) == TimeCheck::kOk);
}

TEST_CASE("kafka on_bad_timestamp: reject sends a time beyond max_past or max_future to the failed queue, counted") {
  MockCluster cluster;
  testing::FakeClock clock;
  core::ComponentStats stats;
  config::Diagnostics diag;
  auto cfg = config::load_text("t.yaml",
                               "inputs: [{id: i, type: stdin}]\noutputs:\n  - {id: out, type: kafka, brokers: [\"" +
                                   cluster.brokers() +
                                   "\"], topic: t, encoding: text, max_past: 2d, on_bad_timestamp: reject}\n",
                               diag);
  REQUIRE(cfg);
  auto out = cfg->pipelines.at(0).outputs.at(0).spec->build(pipeline::BuildContext{"p", "out", "/tmp", &stats, &clock});
  auto count = [&](const char* bound) {
    for (const core::Series& s : stats.series.snapshot()) {
      if (std::string_view(s.family->name) == "bifrost_kafka_bad_timestamps_total" && s.labels.at(0) == bound) {
        CHECK(s.labels.at(1) == "reject");
        return s.value;
      }
    }
    FAIL("no series for ", bound);
    return -1.0;
  };
  CHECK(count("max_past") == 0);  // there from the start
  const std::int64_t wall = core::now_ns();
  testing::TestBatch batch({"day old", "three days old", "two hours ahead"}, *out,
                           {wall - kDay, wall - 3 * kDay, wall + 2 * kHour});
  auto report = batch.write(*out);
  CHECK(report.outcome(0) == Outcome::kDelivered);
  CHECK(report.outcome(1) == Outcome::kRejected);
  CHECK(report.reason(1).find("the event time " + rfc3339(wall - 3 * kDay) + " is older than max_past (48h)") == 0);
  CHECK(report.outcome(2) == Outcome::kRejected);
  CHECK(report.reason(2).find("is further ahead than max_future (1h)") != std::string_view::npos);
  CHECK(count("max_past") == 1);
  CHECK(count("max_future") == 1);

  // Two days later on the pipeline's clock, the same times: the day-old one
  // is now three days old, the one ahead is behind.
  clock.advance(std::chrono::hours(48));
  testing::TestBatch later({"day old", "two hours ahead"}, *out, {wall - kDay, wall + 2 * kHour});
  auto report2 = later.write(*out);
  CHECK(report2.outcome(0) == Outcome::kRejected);
  CHECK(report2.reason(0).find("older than max_past") != std::string_view::npos);
  CHECK(report2.outcome(1) == Outcome::kDelivered);
  CHECK(count("max_past") == 2);
  CHECK(count("max_future") == 1);
  out->close();
  auto records = consume(cluster, 2);
  REQUIRE(records.size() == 2);
  CHECK(records[0].value == "day old");
  CHECK(records[0].timestamp_ms == (wall - kDay) / 1'000'000);
  CHECK(records[1].value == "two hours ahead");
}

TEST_CASE("kafka on_bad_timestamp: now gives a bad time the produce time and keeps it in bifrost_event_time") {
  MockCluster cluster;
  auto built = testing::build_output("type: kafka\n    brokers: [\"" + cluster.brokers() +
                                     "\"]\n    topic: t\n    encoding: text\n    headers: {h: x}");
  const std::int64_t wall = core::now_ns();
  const std::int64_t year_ago = wall - 365 * kDay, ahead = wall + 2 * kHour, good = wall - 6 * kDay;
  testing::TestBatch batch({"year old", "ahead", "good"}, *built.output, {year_ago, ahead, good});
  const std::int64_t before_ms = core::now_ns() / 1'000'000;
  CHECK(batch.write(*built.output).count(Outcome::kDelivered) == 3);
  const std::int64_t after_ms = core::now_ns() / 1'000'000;
  built.output->close();
  auto records = consume(cluster, 3);
  REQUIRE(records.size() == 3);
  for (int i : {0, 1}) {
    INFO(records[i].value);
    CHECK(records[i].timestamp_ms >= before_ms);
    CHECK(records[i].timestamp_ms <= after_ms);
  }
  CHECK(records[0].event_time == rfc3339(year_ago));
  CHECK(records[1].event_time == rfc3339(ahead));
  CHECK(records[2].timestamp_ms == good / 1'000'000);
  CHECK(records[2].event_time.empty());
}
