#include <doctest.h>

#include "support/components.h"
#include "support/fake_http_server.h"

using namespace bifrost;
using pipeline::Outcome;

namespace {
// Points as the JSON the stdin input would carry: host h<i>, value <i>; an
// event whose message says "bad" gets a string value (a type conflict).
std::vector<std::string> messages(int n, std::set<int> bad = {}) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(bad.count(i) ? "bad" : "good");
  return v;
}

const char* kOutput =
    "type: influxdb\n    url: URL\n    database: db\n    measurement: cpu\n    tags: {host: \"h{{n}}\"}\n"
    "    fields: {value: n, m: message}\n    batch: {max_events: 100}";

std::string output_yaml(const std::string& url, const std::string& extra = "") {
  std::string y = kOutput;
  y.replace(y.find("URL"), 3, url);
  return y + extra;
}
}  // namespace

TEST_CASE("influxdb partial writes: the request is split until the bad points are alone; only they are rejected") {
  // Like InfluxDB 1.x: a request with a bad point writes the others and
  // answers 400 "partial write".
  testing::FakeHttpServer influx([](const httplib::Request& req, httplib::Response& res) {
    if (req.body.find("m=\"bad\"") != std::string::npos) {
      res.status = 400;
      res.set_content(
          R"({"error":"partial write: field type conflict: input field \"m\" on measurement \"cpu\" is type string, already exists as type float dropped=1"})",
          "application/json");
      return;
    }
    res.status = 204;
  });
  auto built = testing::build_output(output_yaml(influx.url()));
  testing::TestBatch batch(messages(16, {3, 12}), *built.output);
  auto report = batch.write(*built.output);
  CHECK(report.count(Outcome::kDelivered) == 14);
  CHECK(report.count(Outcome::kRejected) == 2);
  CHECK(report.outcome(3) == Outcome::kRejected);
  CHECK(report.outcome(12) == Outcome::kRejected);
  CHECK(report.reason(3).find("HTTP 400: {\"error\":\"partial write") == 0);
  for (const auto& r : influx.requests()) CHECK(r.target == "/write?db=db&precision=ns");
}

TEST_CASE("influxdb: a server error retries the batch; a point that cannot be written is rejected with why") {
  int calls = 0;
  testing::FakeHttpServer influx(
      [&](const httplib::Request&, httplib::Response& res) { res.status = ++calls == 1 ? 503 : 204; });
  auto built = testing::build_output(output_yaml(influx.url()) + "\n    auth: {user: u, password: p}");
  testing::TestBatch batch(messages(4), *built.output);
  auto first = batch.write(*built.output);
  CHECK(first.count(Outcome::kRetry) == 4);
  CHECK(first.reason(0) == "HTTP 503");
  auto second = batch.write(*built.output);
  CHECK(second.count(Outcome::kDelivered) == 4);
  REQUIRE(influx.requests().size() == 2);
  CHECK(influx.requests()[0].authorization == "Basic dTpw");
}

TEST_CASE("influxdb v2 sends the API token and the deprecated token key still works, with a warning") {
  testing::FakeHttpServer influx([](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  for (const char* auth : {"\n    auth: {api_key: T0K}", "\n    token: T0K"}) {
    std::string y = output_yaml(influx.url(), std::string("\n    api: v2\n    org: o\n    bucket: b") + auth);
    y.replace(y.find("    database: db\n"), 17, "");
    auto built = testing::build_output(y);
    testing::TestBatch batch(messages(2), *built.output);
    CHECK(batch.write(*built.output).count(Outcome::kDelivered) == 2);
  }
  REQUIRE(influx.requests().size() == 2);
  for (const auto& r : influx.requests()) {
    CHECK(r.authorization == "Token T0K");
    CHECK(r.target == "/api/v2/write?org=o&bucket=b&precision=ns");
  }
  config::Diagnostics diag;
  auto cfg = config::load_text(
      "t.yaml",
      "inputs: [{id: i, type: stdin}]\noutputs:\n  - {id: o, type: influxdb, url: "
      "\"http://h:1\", api: v2, org: o, bucket: b, token: T, measurement: m, fields: [x], gzip: true}\n",
      diag);
  INFO(diag.render());
  REQUIRE(cfg);
  const std::string warnings = diag.render_warnings();
  CHECK(warnings.find("\"token\" is deprecated and goes in the next release: use auth: {api_key: TOKEN}") !=
        std::string::npos);
  CHECK(warnings.find("\"gzip\" is deprecated and goes in the next release: use compression: gzip") !=
        std::string::npos);
}
