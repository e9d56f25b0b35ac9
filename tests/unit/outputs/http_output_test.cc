// The http output's outcomes: which answers deliver, retry or reject the
// events of a request, and that nothing overtakes a request to retry.
#include <doctest.h>

#include <atomic>
#include <string>
#include <vector>

#include "support/components.h"
#include "support/fake_http_server.h"

using namespace bifrost;
using pipeline::Outcome;

namespace {

std::vector<std::string> events(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("event " + std::to_string(i));
  return v;
}

std::vector<Outcome> outcomes(const pipeline::DeliveryReport& r) {
  std::vector<Outcome> v;
  for (std::size_t i = 0; i < r.size(); ++i) v.push_back(r.outcome(i));
  return v;
}

}  // namespace

TEST_CASE("the http output delivers on 2xx, retries on 408, 429 and 5xx, and rejects on other statuses") {
  std::atomic<int> status{200};
  testing::FakeHttpServer server([&](const httplib::Request&, httplib::Response& res) {
    res.status = status.load();
    if (res.status != 204) res.set_content("answer " + std::to_string(res.status), "text/plain");  // 204: no body
  });
  auto built = testing::build_output("type: http\n    url: \"" + server.url() + "/in\"");
  const std::vector<std::pair<int, Outcome>> table = {
      {200, Outcome::kDelivered}, {201, Outcome::kDelivered}, {204, Outcome::kDelivered}, {408, Outcome::kRetry},
      {429, Outcome::kRetry},     {500, Outcome::kRetry},     {503, Outcome::kRetry},     {400, Outcome::kRejected},
      {401, Outcome::kRejected},  {404, Outcome::kRejected},  {413, Outcome::kRejected},  {422, Outcome::kRejected},
  };
  for (const auto& [code, want] : table) {
    CAPTURE(code);
    status = code;
    testing::TestBatch batch(events(2), *built.output);
    auto report = batch.write(*built.output);
    CHECK(outcomes(report) == std::vector<Outcome>{want, want});
    if (want != Outcome::kDelivered)
      CHECK(report.reason(1) == "HTTP " + std::to_string(code) + ": answer " + std::to_string(code));
  }
}

TEST_CASE("the http output goes on past a rejected request, and holds back what follows a request to retry") {
  std::atomic<int> request{0};
  // One request per two events: 200, then 400, then 503, then (never reached) 200.
  testing::FakeHttpServer server([&](const httplib::Request&, httplib::Response& res) {
    const int statuses[] = {200, 400, 503, 200};
    res.status = statuses[request++ % 4];
  });
  auto built = testing::build_output("type: http\n    url: \"" + server.url() +
                                     "/in\"\n    batch: {max_events: 2}\n    on_reject: park_all");
  testing::TestBatch batch(events(8), *built.output);
  auto report = batch.write(*built.output);
  CHECK(outcomes(report) == std::vector<Outcome>{Outcome::kDelivered, Outcome::kDelivered, Outcome::kRejected,
                                                 Outcome::kRejected, Outcome::kRetry, Outcome::kRetry, Outcome::kRetry,
                                                 Outcome::kRetry});
  CHECK(report.reason(2) == "HTTP 400");
  CHECK(report.reason(4) == "HTTP 503");
  CHECK(report.reason(6) == "waiting behind a failed request");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);                 // the last two events were not sent
  const std::string& second = requests[1].body;  // a JSON array of events 2 and 3
  CHECK(second.find("\"event 2\"") != std::string::npos);
  CHECK(second.find("\"event 3\"") != std::string::npos);
  CHECK(second.find("\"event 4\"") == std::string::npos);
}

TEST_CASE("the http output retries every event when the server cannot be reached") {
  // Nothing listens on port 1: the connection is refused, nothing was sent.
  auto built = testing::build_output("type: http\n    url: \"http://127.0.0.1:1/in\"");
  testing::TestBatch batch(events(3), *built.output);
  auto report = batch.write(*built.output);
  CHECK(report.count(Outcome::kRetry) == 3);
  CHECK_FALSE(report.reason(0).empty());
}

TEST_CASE("the http output bisects a rejected request: only the bad events are rejected, within 2*ceil(log2 n) more") {
  std::atomic<int> requests{0};
  // Rejects any request that holds a bad event, like a webhook validating each.
  testing::FakeHttpServer server([&](const httplib::Request& req, httplib::Response& res) {
    ++requests;
    res.status = req.body.find("bad") != std::string::npos ? 422 : 200;
    if (res.status == 422) res.set_content("invalid event", "text/plain");
  });
  std::vector<std::string> msgs = events(100);
  msgs[37] = "bad 37";
  SUBCASE("bisect (the default)") {
    auto built =
        testing::build_output("type: http\n    url: \"" + server.url() + "/in\"\n    batch: {max_events: 100}");
    testing::TestBatch batch(msgs, *built.output);
    auto report = batch.write(*built.output);
    CHECK(report.count(Outcome::kDelivered) == 99);
    CHECK(report.outcome(37) == Outcome::kRejected);
    CHECK(report.reason(37) == "HTTP 422: invalid event");
    CHECK(requests.load() <= 1 + 2 * 7);  // ceil(log2 100) = 7
    std::size_t delivered = 0;            // each good event in exactly one accepted request
    for (const auto& r : server.requests()) {
      if (r.body.find("bad") != std::string::npos) continue;
      for (int i = 0; i < 100; ++i)
        delivered += r.body.find("\"event " + std::to_string(i) + "\"") != std::string::npos;
    }
    CHECK(delivered == 99);
  }
  SUBCASE("park_all") {
    auto built = testing::build_output("type: http\n    url: \"" + server.url() +
                                       "/in\"\n    batch: {max_events: 100}\n    on_reject: park_all");
    testing::TestBatch batch(msgs, *built.output);
    auto report = batch.write(*built.output);
    CHECK(report.count(Outcome::kRejected) == 100);
    CHECK(requests.load() == 1);
  }
}

TEST_CASE("the http output does not split a request rejected for itself (401, 404)") {
  std::atomic<int> requests{0};
  testing::FakeHttpServer server([&](const httplib::Request&, httplib::Response& res) {
    ++requests;
    res.status = 404;
  });
  auto built = testing::build_output("type: http\n    url: \"" + server.url() + "/in\"");
  testing::TestBatch batch(events(50), *built.output);
  auto report = batch.write(*built.output);
  CHECK(report.count(Outcome::kRejected) == 50);
  CHECK(requests.load() == 1);
}
