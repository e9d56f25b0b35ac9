#include "common/kafka/statistics.h"

#include <simdjson.h>

#include <string>

namespace bifrost::common::kafka {

std::vector<core::Series> parse_statistics(std::string_view json) {
  std::vector<core::Series> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return out;
  auto number = [](simdjson::dom::element e, const char* key, double& v) {
    std::int64_t i = 0;
    if (e[key].get(i) == simdjson::SUCCESS) {
      v = static_cast<double>(i);
      return true;
    }
    return e[key].get(v) == simdjson::SUCCESS;
  };
  simdjson::dom::object brokers;
  if (doc["brokers"].get(brokers) == simdjson::SUCCESS) {
    for (auto [key, b] : brokers) {
      std::int64_t node = -1;
      std::string_view name;
      if (b["nodeid"].get(node) != simdjson::SUCCESS || node < 0) continue;
      if (b["nodename"].get(name) != simdjson::SUCCESS) name = key;
      std::string broker(name);
      double v = 0;
      simdjson::dom::element rtt;
      if (b["rtt"].get(rtt) == simdjson::SUCCESS && number(rtt, "avg", v)) {
        out.push_back({&kBrokerRtt, {broker}, v / 1e6});  // microseconds
      }
      if (number(b, "tx", v)) out.push_back({&kBrokerRequests, {broker}, v});
      if (number(b, "txbytes", v)) out.push_back({&kBrokerBytesSent, {broker}, v});
      if (number(b, "rxbytes", v)) out.push_back({&kBrokerBytesReceived, {broker}, v});
    }
  }
  std::string_view type;
  if (doc["type"].get(type) == simdjson::SUCCESS && type == "consumer") {
    double v = 0;
    if (number(doc, "rxmsgs", v)) out.push_back({&kFetchedMessages, {}, v});
    if (number(doc, "rxmsg_bytes", v)) out.push_back({&kFetchedBytes, {}, v});
  }
  return out;
}

}  // namespace bifrost::common::kafka
