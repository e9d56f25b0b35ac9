#include <doctest.h>

#include "outputs/elasticsearch/bulk_answer.h"
#include "support/components.h"
#include "support/fake_http_server.h"

using namespace bifrost;
using pipeline::Outcome;

namespace {
pipeline::DeliveryReport judge(const std::string& answer, std::size_t n, bool create_auto, bool* go_on = nullptr) {
  simdjson::dom::parser parser;
  pipeline::DeliveryReport report;
  report.reset(n);
  std::vector<std::uint32_t> items;
  for (std::uint32_t i = 0; i < n; ++i) items.push_back(i);
  auto judged = outputs::elasticsearch::judge_bulk_answer(answer, items, create_auto, parser, report);
  if (go_on) *go_on = judged.has_value();
  return report;
}

std::vector<Outcome> outcomes(const pipeline::DeliveryReport& r) {
  std::vector<Outcome> v;
  for (std::size_t i = 0; i < r.size(); ++i) v.push_back(r.outcome(i));
  return v;
}

std::vector<std::string> docs(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("doc " + std::to_string(i));
  return v;
}
}  // namespace

TEST_CASE("elasticsearch bulk items: each document gets its own outcome") {
  const std::string answer = R"({"took":3,"errors":true,"items":[
    {"index":{"status":201}},
    {"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [n]"}}},
    {"index":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},
    {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
    {"index":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"primary not active"}}},
    {"index":{}},
    {"index":{"status":200}}]})";
  bool go_on = false;
  auto r = judge(answer, 7, /*create_auto=*/false, &go_on);
  CHECK(go_on);  // what is to retry is retried alone; the batch goes on
  CHECK(outcomes(r) == std::vector<Outcome>{Outcome::kDelivered, Outcome::kRejected, Outcome::kRetry,
                                            Outcome::kRejected, Outcome::kRetry, Outcome::kRetry, Outcome::kDelivered});
  CHECK(r.reason(1) == "Elasticsearch 400 mapper_parsing_exception: failed to parse field [n]");
  CHECK(r.reason(2).find("429") != std::string_view::npos);
  // With `action: create` and automatic ids, a 409 is a document already there.
  auto c = judge(answer, 7, /*create_auto=*/true);
  CHECK(c.outcome(3) == Outcome::kDelivered);
}

TEST_CASE("elasticsearch bulk answers that cannot be read retry every document, and errors:false delivers all") {
  bool go_on = true;
  auto garbage = judge("<html>502 Bad Gateway</html>", 3, false, &go_on);
  CHECK_FALSE(go_on);
  CHECK(garbage.count(Outcome::kRetry) == 3);
  CHECK(garbage.reason(0) == "the bulk answer is not JSON");
  auto short_answer = judge(R"({"errors":true,"items":[{"index":{"status":201}}]})", 3, false, &go_on);
  CHECK_FALSE(go_on);
  CHECK(short_answer.count(Outcome::kRetry) == 3);
  auto fine = judge(R"({"errors":false,"items":[]})", 3, false, &go_on);
  CHECK(go_on);
  CHECK(fine.count(Outcome::kDelivered) == 3);
}

TEST_CASE("an elasticsearch bulk answer that is not one says why") {
  simdjson::dom::parser parser;
  pipeline::DeliveryReport report;
  report.reset(2);
  const std::uint32_t items[] = {0, 1};
  auto judged = outputs::elasticsearch::judge_bulk_answer(R"({"errors":true})", items, false, parser, report);
  REQUIRE_FALSE(judged);
  CHECK(judged.error().code == outputs::elasticsearch::Errc::kNotAnAnswer);
  CHECK(judged.error().message == "the bulk answer has no item per document");
  CHECK(report.reason(1) == judged.error().message);
}

TEST_CASE("the elasticsearch output splits a request the server finds too large, and fails over to the next host") {
  std::atomic<int> too_large{0};
  testing::FakeHttpServer es([&](const httplib::Request& req, httplib::Response& res) {
    const auto lines = std::count(req.body.begin(), req.body.end(), '\n');
    if (lines > 4) {  // over two documents (two lines each)
      ++too_large;
      res.status = 413;
      return;
    }
    std::string items;
    for (long i = 0; i < lines / 2; ++i) items += std::string(i ? "," : "") + R"({"index":{"status":201}})";
    res.set_content(R"({"errors":false,"items":[)" + items + "]}", "application/json");
  });
  // The first host refuses connections (nothing listens on port 1).
  auto built = testing::build_output("type: elasticsearch\n    hosts: [\"http://127.0.0.1:1\", \"" + es.url() +
                                     "\"]\n    index: logs\n    concurrency: 1");
  testing::TestBatch batch(docs(8), *built.output);
  auto report = batch.write(*built.output);
  CHECK(report.count(Outcome::kDelivered) == 8);
  CHECK(too_large.load() >= 2);  // 8 -> 4 -> 2 documents a request
  for (const auto& r : es.requests()) CHECK(r.target == "/_bulk");
}

TEST_CASE("the elasticsearch output sends its auth and retries a request the server cannot take now") {
  testing::FakeHttpServer es([&](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("overloaded", "text/plain");
  });
  auto built = testing::build_output("type: elasticsearch\n    hosts: [\"" + es.url() +
                                     "\"]\n    auth: {api_key: c2VjcmV0}\n    compression: gzip");
  testing::TestBatch batch(docs(3), *built.output);
  auto report = batch.write(*built.output);
  CHECK(report.count(Outcome::kRetry) == 3);
  CHECK(report.reason(0) == "HTTP 503: overloaded");
  REQUIRE(es.requests().size() == 1);
  CHECK(es.requests()[0].authorization == "ApiKey c2VjcmV0");
  CHECK(es.requests()[0].body.find("doc 2") != std::string::npos);  // the server decompressed it
}
