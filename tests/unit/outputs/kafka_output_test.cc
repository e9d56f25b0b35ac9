// The Kafka output's delivery reports, against librdkafka's mock cluster
// (in-process brokers: fast and fault-injectable; the real broker's tests
// are in tests/integration/test_kafka.py).
#include <doctest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "support/components.h"
#include "support/kafka_mock.h"

using namespace bifrost;
using pipeline::Outcome;

namespace {

using testing::MockCluster;

std::string output_yaml(const MockCluster& c, const std::string& extra = "") {
  return "type: kafka\n    brokers: [\"" + c.brokers() + "\"]\n    topic: t\n    encoding: text" + extra;
}

}  // namespace

TEST_CASE("kafka delivery reports: every record the broker stored is delivered") {
  MockCluster cluster;
  auto built = testing::build_output(output_yaml(cluster));
  testing::TestBatch batch({"a", "b", "c", "d", "e"}, *built.output);
  auto report = batch.write(*built.output);
  CHECK(report.count(Outcome::kDelivered) == 5);
  built.output->close();
}

TEST_CASE("kafka delivery reports: a record too large is rejected with librdkafka's reason, the rest delivered") {
  MockCluster cluster;
  auto built = testing::build_output(output_yaml(cluster, "\n    librdkafka: {message.max.bytes: 1000}"));
  testing::TestBatch batch({"small", std::string(5000, 'x'), "small too"}, *built.output);
  auto report = batch.write(*built.output);
  CHECK(report.outcome(0) == Outcome::kDelivered);
  CHECK(report.outcome(1) == Outcome::kRejected);
  CHECK(report.reason(1).find("too large") != std::string_view::npos);
  CHECK(report.outcome(2) == Outcome::kDelivered);
  built.output->close();
}

TEST_CASE("kafka delivery reports: a broker that refuses the topic rejects its records") {
  MockCluster cluster;
  auto built = testing::build_output(output_yaml(cluster, "\n    message_timeout: 1s"));
  // The broker answers the next produce requests with a permanent error.
  rd_kafka_mock_push_request_errors(cluster.get(), /*Produce=*/0, 3, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  testing::TestBatch refused({"r1", "r2"}, *built.output);
  auto report = refused.write(*built.output);
  CHECK(report.count(Outcome::kRejected) == 2);
  CHECK(report.reason(0).find("uthoriz") != std::string_view::npos);
  built.output->close();
}

TEST_CASE("kafka delivery reports: records for a broker that is down are retried, never lost") {
  MockCluster cluster;
  auto built = testing::build_output(output_yaml(cluster, "\n    message_timeout: 1s"));
  testing::TestBatch up({"u1"}, *built.output);
  CHECK(up.write(*built.output).count(Outcome::kDelivered) == 1);
  rd_kafka_mock_broker_set_down(cluster.get(), 1);
  testing::TestBatch down({"d1", "d2"}, *built.output);
  auto later = down.write(*built.output);
  CHECK(later.count(Outcome::kRetry) == 2);  // timed out in librdkafka's queue: tried again, never lost
  CHECK(later.reason(0).find("timed out") != std::string_view::npos);
  built.output->close();
}
