// bifrost top's table: /metrics read back, rates, sorting, and columns that
// give way on a narrow terminal.
#include <doctest.h>

#include <cmath>

#include "api/metrics.h"
#include "app/prometheus_text.h"
#include "app/top_table.h"
#include "config/registry.h"

using namespace bifrost;
using app::top::Row;

namespace {

const char* kBefore = R"(# HELP bifrost_events_in_total Events that entered the component.
# TYPE bifrost_events_in_total counter
bifrost_component_info{pipeline="web",component="access",kind="input",type="file"} 1
bifrost_component_info{pipeline="web",component="es",kind="output",type="elasticsearch"} 1
bifrost_component_info{pipeline="kf",component="in",kind="input",type="kafka"} 1
bifrost_events_in_total{pipeline="web",component="access"} 1000
bifrost_events_out_total{pipeline="web",component="access"} 1000
bifrost_events_in_total{pipeline="web",component="es"} 900
bifrost_events_out_total{pipeline="web",component="es"} 800
bifrost_events_in_total{pipeline="kf",component="in"} 5000
bifrost_output_queue_full_seconds_total{pipeline="web",component="es"} 10
bifrost_file_lag_bytes{pipeline="web",component="access",path="/var/log/b.log"} 5000
)";

const char* kAfter = R"(bifrost_component_info{pipeline="web",component="access",kind="input",type="file"} 1
bifrost_component_info{pipeline="web",component="es",kind="output",type="elasticsearch"} 1
bifrost_component_info{pipeline="kf",component="in",kind="input",type="kafka"} 1
bifrost_events_in_total{pipeline="web",component="access"} 3000
bifrost_events_out_total{pipeline="web",component="access"} 3000
bifrost_events_in_total{pipeline="web",component="es"} 2900
bifrost_events_out_total{pipeline="web",component="es"} 2500
bifrost_events_failed_total{pipeline="web",component="es"} 7
bifrost_events_dropped_total{pipeline="web",component="es",reason="a"} 2
bifrost_events_dropped_total{pipeline="web",component="es",reason="b"} 3
bifrost_retries_total{pipeline="web",component="es"} 12
bifrost_queue_events{pipeline="web",component="es"} 400
bifrost_buffer_bytes{pipeline="web",component="es"} 2048
bifrost_failed_queue_bytes{pipeline="web",component="es"} 1536
bifrost_failed_queue_bytes{pipeline="web",component="access"} 0
bifrost_output_queue_full_seconds_total{pipeline="web",component="es"} 11
bifrost_events_in_total{pipeline="kf",component="in"} 100
bifrost_kafka_consumer_lag{pipeline="kf",component="in",topic="t",partition="0"} 40
bifrost_kafka_consumer_lag{pipeline="kf",component="in",topic="t",partition="1"} 2
bifrost_file_lag_bytes{pipeline="web",component="access",path="/var/log/a \"x\".log"} 100
bifrost_file_lag_bytes{pipeline="web",component="access",path="/var/log/b.log"} 28
process_cpu_seconds_total 1.5
)";

const Row& row(const std::vector<Row>& rows, const std::string& component) {
  for (const Row& r : rows) {
    if (r.component == component) return r;
  }
  FAIL("no row " << component);
  return rows.front();
}

}  // namespace

TEST_CASE("the Prometheus text is read back with labels, escapes and special values") {
  auto s = app::parse_prometheus_text(
      "# TYPE x gauge\nx{a=\"1\",b=\"q\\\"uo\\\\te\\nd\"} 2.5\ny 3 1700000000\nz{} +Inf\nbad line here\nw NaN\r\n");
  REQUIRE(s.size() == 4);
  CHECK(s[0].name == "x");
  CHECK(s[0].label("a") == "1");
  CHECK(s[0].label("b") == "q\"uo\\te\nd");
  CHECK(s[0].label("missing").empty());
  CHECK(s[0].value == 2.5);
  CHECK(s[1].value == 3);
  CHECK(std::isinf(s[2].value));
  CHECK(std::isnan(s[3].value));
}

TEST_CASE("the exposition bifrost serves reads back: every family's samples come through") {
  auto declared = config::declared_metric_families(config::components());
  api::Metrics metrics([] { return std::shared_ptr<pipeline::Runtime>(); }, {declared.begin(), declared.end()});
  std::string text = metrics.render();
  auto samples = app::parse_prometheus_text(text);
  REQUIRE_FALSE(samples.empty());
  bool build_info = false;
  for (const auto& s : samples) build_info = build_info || (s.name == "bifrost_build_info" && s.value == 1);
  CHECK(build_info);
}

TEST_CASE("top's rows: totals, rates over the interval, queue fill, bytes, and lag per input kind") {
  auto rows = app::top::rows(app::parse_prometheus_text(kAfter), app::parse_prometheus_text(kBefore), 2.0);
  REQUIRE(rows.size() == 3);
  const Row& access = row(rows, "access");
  CHECK(access.kind == "input");
  CHECK(access.type == "file");
  CHECK(access.in_rate == 1000);  // (3000 - 1000) / 2s
  CHECK(access.in == 3000);
  CHECK(access.lag == 128);
  CHECK(access.lag_in_bytes);
  CHECK(std::isnan(access.failed));  // an input has no failed queue
  CHECK(std::isnan(access.retries));
  const Row& es = row(rows, "es");
  CHECK(es.out_rate == 850);
  CHECK(es.errors == 7);
  CHECK(es.dropped == 5);
  CHECK(es.retries == 12);
  CHECK(es.queue == 400);
  CHECK(es.full_pct == doctest::Approx(50));  // 1 s full in 2 s
  CHECK(es.buffer == 2048);
  CHECK(es.failed == 1536);
  const Row& kf = row(rows, "in");
  CHECK(kf.in_rate == 50);  // the counter went back (a reload): counted from 0
  CHECK(kf.lag == 42);
  CHECK_FALSE(kf.lag_in_bytes);
  CHECK(kf.dropped == 0);

  auto first = app::top::rows(app::parse_prometheus_text(kBefore), {}, 0);
  CHECK(std::isnan(row(first, "es").out_rate));  // no rate before a second scrape
  CHECK(app::top::render(first, 200, -1)[2].find(" - ") != std::string::npos);
}

TEST_CASE("top sorts by a column, largest first, and keeps the pipelines' order otherwise") {
  auto rows = app::top::rows(app::parse_prometheus_text(kAfter), app::parse_prometheus_text(kBefore), 2.0);
  app::top::sort_rows(rows, app::top::column_named("in/s"), false);
  CHECK(rows[0].component == "access");
  CHECK(rows[2].component == "in");
  app::top::sort_rows(rows, app::top::column_named("LAG"), false);
  CHECK(rows[0].component == "access");  // 128 bytes before 42 records: numbers compare
  CHECK(rows[2].component == "es");      // no lag: last
  app::top::sort_rows(rows, -1, false);
  CHECK(rows[0].component == "access");
  CHECK(rows[1].component == "es");
  app::top::sort_rows(rows, -1, true);
  CHECK(rows[0].component == "in");
  CHECK(app::top::column_named("nope") == -1);
}

TEST_CASE("top's table fits the terminal: what matters least gives way first") {
  auto rows = app::top::rows(app::parse_prometheus_text(kAfter), app::parse_prometheus_text(kBefore), 2.0);
  auto wide = app::top::render(rows, 400, app::top::column_named("ERRORS"));
  REQUIRE(wide.size() == 4);
  CHECK(wide[0].find(">ERRORS") != std::string::npos);
  CHECK(wide[0].find("FAILED-Q") != std::string::npos);
  CHECK(wide[2].find("1.5KiB") != std::string::npos);  // the failed queue
  CHECK(wide[2].find("2.0KiB") != std::string::npos);  // the disk buffer
  auto narrow = app::top::render(rows, 80, -1);
  for (const auto& line : narrow) CHECK(line.size() <= 80);
  for (const char* kept : {"PIPELINE", "COMPONENT", "IN/S", "OUT/S", "ERRORS", "LAG"}) {
    CHECK_MESSAGE(narrow[0].find(kept) != std::string::npos, kept);
  }
  CHECK(narrow[0].find("DROPPED") == std::string::npos);
  CHECK(app::top::format_count(99999) == "99999");
  CHECK(app::top::format_count(123456) == "123.5k");
  CHECK(app::top::format_rate(2.25) == "2.2");
  CHECK(app::top::format_bytes(1023) == "1023B");
  CHECK(app::top::format_bytes(3 * 1024 * 1024) == "3.0MiB");
}
