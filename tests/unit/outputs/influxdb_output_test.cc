#include <doctest.h>

#include <algorithm>

#include "support/components.h"
#include "support/fake_http_server.h"

#include "common/influx/reader.h"
#include "config/model.h"
#include "core/time.h"

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

TEST_CASE("influxdb: a request gathers the points of consecutive batches; each batch gets its own outcomes") {
  testing::FakeHttpServer influx([](const httplib::Request& req, httplib::Response& res) {
    res.status = req.body.find("m=\"bad\"") != std::string::npos ? 400 : 204;
  });
  std::string yaml = output_yaml(influx.url());
  yaml.replace(yaml.find("max_events: 100"), 15, "max_events: 5");
  auto built = testing::build_output(yaml);
  pipeline::Output& out = *built.output;
  REQUIRE(out.in_flight() > 2);
  testing::TestBatch a(messages(3), out), b(messages(3, {1}), out), c(messages(2), out);
  const auto ta = out.begin(a.batch(), a.slot());
  const auto tb = out.begin(b.batch(), b.slot());
  const auto tc = out.begin(c.batch(), c.slot());
  CHECK(influx.requests().empty());  // nothing is ended: the requests wait to be full or ended
  pipeline::DeliveryReport ra, rb, rc;
  out.end(ta, ra);
  out.end(tb, rb);
  out.end(tc, rc);
  CHECK(ra.count(Outcome::kDelivered) == 3);
  CHECK(rb.count(Outcome::kDelivered) == 2);
  CHECK(rb.outcome(1) == Outcome::kRejected);
  CHECK(rc.count(Outcome::kDelivered) == 2);
  // The first request: a's 3 points and b's first 2 (max_events), split
  // after the 400 until b's bad point was alone; the last: b's third and c's.
  auto requests = influx.requests();
  REQUIRE(requests.size() >= 2);
  auto lines = [](const std::string& body) { return std::count(body.begin(), body.end(), '\n'); };
  CHECK(lines(requests.front().body) == 5);
  CHECK(lines(requests.back().body) == 3);
  for (const auto& r : requests) CHECK(lines(r.body) <= 5);
}

TEST_CASE("influxdb: a failed request that gathered two batches is retried by each of them") {
  int calls = 0;
  testing::FakeHttpServer influx(
      [&](const httplib::Request&, httplib::Response& res) { res.status = ++calls == 1 ? 503 : 204; });
  auto built = testing::build_output(output_yaml(influx.url()));
  pipeline::Output& out = *built.output;
  testing::TestBatch a(messages(2), out), b(messages(2), out);
  const auto ta = out.begin(a.batch(), a.slot());
  const auto tb = out.begin(b.batch(), b.slot());
  pipeline::DeliveryReport ra, rb;
  out.end(ta, ra);
  out.end(tb, rb);
  REQUIRE(influx.requests().size() == 1);  // one request held both
  CHECK(ra.count(Outcome::kRetry) == 2);
  CHECK(rb.count(Outcome::kRetry) == 2);
  CHECK(rb.reason(0) == "HTTP 503");
  CHECK(a.write(out).count(Outcome::kDelivered) == 2);
  CHECK(b.write(out).count(Outcome::kDelivered) == 2);
  CHECK(influx.requests().size() == 3);
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

namespace {
// Events as parse_influx makes them (and one without a point), encoded by
// `out` into slot 0: the lines, or "!" and why.
std::vector<std::string> encoded(const pipeline::Output& out, const std::string& lines, std::int64_t time_ns = 5) {
  core::BatchPool pool(1);
  core::Batch* batch = pool.acquire();
  common::influx::Reader reader(lines, common::influx::Precision::kNs, batch->arena);
  while (auto line = reader.next()) {
    core::Event& e = batch->events.emplace_back();
    e.message = line->text;
    e.timestamp_ns = time_ns;
    core::set_field(e, *core::FieldPath::parse("host"), core::Value::string("mapped-host"), batch->arena);
    if (line->point) common::influx::set_point(e, *line->point, batch->arena);
  }
  batch->slots.resize(1);
  for (std::uint32_t i = 0; i < batch->events.size(); ++i) batch->slots[0].selected.push_back(i);
  out.encode(*batch, batch->slots[0]);
  std::vector<std::string> got;
  std::uint32_t start = 0;
  for (std::uint32_t end : batch->slots[0].ends) {
    std::string one = batch->slots[0].encoded.substr(start, end - start);
    if (!one.empty() && one[0] == '\0') one = "!" + one.substr(1);
    got.push_back(one);
    start = end;
  }
  batch->release();
  return got;
}
}  // namespace

TEST_CASE("influxdb passthrough: the points parse_influx made are written back as they came") {
  const std::string lines =
      "cpu,cpu=cpu-total,host=a usage_idle=98.5,n=12i,u=12u,big=18446744073709551615u,ok=true,s=\"x \\\"y\\\"\" "
      "1700000000000000000\n"
      "weird\\ name\\,1,tag\\ key=a\\=b f\\=k=1i 7\n"
      "no_time v=1.5\n"
      "not a point\n";
  auto built = testing::build_output("type: influxdb\n    url: http://127.0.0.1:1\n    database: db");
  CHECK(encoded(*built.output, lines) ==
        std::vector<std::string>{
            "cpu,cpu=cpu-total,host=a usage_idle=98.5,n=12i,u=12u,big=18446744073709551615u,ok=true,s=\"x \\\"y\\\"\" "
            "1700000000000000000\n",
            "weird\\ name\\,1,tag\\ key=a\\=b f\\=k=1i 7\n",
            "no_time v=1.5 5\n",  // the event's time
            "!the event holds no point to pass through (a string measurement and an object of fields, as "
            "parse_influx makes them)",
        });
  // auto with a mapping: the points pass through, the others are mapped.
  auto mixed = testing::build_output(
      "type: influxdb\n    url: http://127.0.0.1:1\n    database: db\n    measurement: logs\n    tags: [host]\n"
      "    fields: {line: message}\n    precision: s");
  auto got = encoded(*mixed.output, "no_time v=1.5\nnot a point\n", 3'000'000'000);
  CHECK(got == std::vector<std::string>{"no_time v=1.5 3\n", "logs,host=mapped-host line=\"not a point\" 3\n"});
  // mapped: always the mapping.
  auto mapped = testing::build_output(
      "type: influxdb\n    url: http://127.0.0.1:1\n    database: db\n    point: mapped\n    measurement: logs\n"
      "    fields: {line: message}");
  CHECK(encoded(*mapped.output, "cpu v=1i 9\n") == std::vector<std::string>{"logs line=\"cpu v=1i 9\" 9\n"});
}

TEST_CASE("influxdb guard: a point further from now than max_past or max_future is rejected, counted") {
  auto built = testing::build_output(
      "type: influxdb\n    url: http://127.0.0.1:1\n    database: db\n    max_past: 30d\n    max_future: 1h");
  const std::int64_t now = core::now_ns();
  const std::string lines =
      "m v=1 1\nm v=2 " + std::to_string(now) + "\nm v=3 " + std::to_string(now + 7 * 86'400'000'000'000LL) + "\n";
  auto got = encoded(*built.output, lines);
  REQUIRE(got.size() == 3);
  CHECK(got[0].starts_with("!the point's time is "));
  CHECK(got[0].find("before now (max_past: 30d 0h)") != std::string::npos);
  CHECK(got[1] == "m v=2 " + std::to_string(now) + "\n");
  CHECK(got[2].find("after now (max_future: 1h 0m)") != std::string::npos);
}

TEST_CASE("influxdb point: passthrough refuses a mapping, a mapping needs measurement and fields") {
  for (const char* bad :
       {"point: passthrough\n    measurement: m", "point: mapped", "measurement: m", "fields: [v]", "point: pass"}) {
    config::Diagnostics diag;
    auto cfg = config::load_text(
        "t.yaml",
        std::string("inputs: [{id: in, type: stdin}]\noutputs:\n  - id: out\n    type: influxdb\n    url: "
                    "http://127.0.0.1:1\n    database: db\n    ") +
            bad + "\n",
        diag);
    CAPTURE(bad);
    CHECK_FALSE(cfg);
  }
}
