#include <doctest.h>

#include "common/kafka/statistics.h"

using namespace bifrost;
namespace kafka = common::kafka;

TEST_CASE("librdkafka's statistics become per-broker series and, for a consumer, its fetch counts") {
  // Abridged from a real librdkafka 2.0 consumer's statistics document.
  const std::string doc = R"({"name":"bifrost#consumer-1","type":"consumer","ts":1,"rxmsgs":1200,"rxmsg_bytes":98000,
    "brokers":{
      "127.0.0.1:9092/bootstrap":{"name":"127.0.0.1:9092/bootstrap","nodeid":-1,"nodename":"127.0.0.1:9092",
                                  "tx":3,"txbytes":300,"rx":3,"rxbytes":900,"rtt":{"avg":0}},
      "127.0.0.1:9092/1":{"name":"127.0.0.1:9092/1","nodeid":1,"nodename":"127.0.0.1:9092","tx":40,"txbytes":5000,
                          "rx":40,"rxbytes":120000,"rtt":{"min":100,"max":9000,"avg":2500,"p99":8000}},
      "GroupCoordinator":{"name":"GroupCoordinator","nodeid":-1,"nodename":"127.0.0.1:9092","tx":1}}})";
  auto series = kafka::parse_statistics(doc);
  auto value = [&](const core::MetricFamily& f) {
    for (const auto& s : series) {
      if (s.family == &f) return s.value;
    }
    FAIL("no series of " << f.name);
    return 0.0;
  };
  CHECK(value(kafka::kBrokerRtt) == doctest::Approx(0.0025));
  CHECK(value(kafka::kBrokerRequests) == 40);
  CHECK(value(kafka::kBrokerBytesSent) == 5000);
  CHECK(value(kafka::kBrokerBytesReceived) == 120000);
  CHECK(value(kafka::kFetchedMessages) == 1200);
  CHECK(value(kafka::kFetchedBytes) == 98000);
  CHECK(series.size() == 6);  // the bootstrap and coordinator entries are left out
  for (const auto& s : series) {
    if (s.family->labels.empty()) continue;
    CHECK(s.labels == std::vector<std::string>{"127.0.0.1:9092"});
  }
}

TEST_CASE("a producer's statistics have no fetch counts, and a bad document gives nothing") {
  auto producer = kafka::parse_statistics(R"({"type":"producer","rxmsgs":5,"brokers":{}})");
  CHECK(producer.empty());
  CHECK(kafka::parse_statistics("not json").empty());
  CHECK(kafka::parse_statistics(R"({"brokers":[1,2]})").empty());
}
