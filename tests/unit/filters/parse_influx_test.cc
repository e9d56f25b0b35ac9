#include <doctest.h>

#include <map>
#include <string>
#include <vector>

#include "common/influx/metrics.h"
#include "config/model.h"
#include "config/registry.h"
#include "core/json.h"
#include "core/time.h"

using namespace bifrost;

namespace {

struct Built {
  std::unique_ptr<config::Config> cfg;
  core::ComponentStats stats;
  std::unique_ptr<pipeline::Filter> filter;
};

std::unique_ptr<Built> build(const std::string& options) {
  config::Diagnostics diag;
  auto b = std::make_unique<Built>();
  b->cfg = config::load_text("t.yaml",
                             "inputs: [{id: in, type: stdin}]\nfilters:\n  - id: lp\n    type: parse_influx\n" +
                                 options + "outputs: [{id: out, type: stdout}]\n",
                             diag);
  INFO(diag.render());
  REQUIRE(b->cfg);
  b->filter = b->cfg->pipelines[0].filters[0].spec->build({"main", "lp", "/tmp", &b->stats});
  return b;
}

std::string json(const core::Event& e) {
  std::string out = std::string(e.message) + " | ";
  core::append_json_value(out, e.fields);
  if (e.drop_reason) out += std::string(" | ") + e.drop_reason;
  return out;
}

// The samples of a family in the component's series, by label.
std::map<std::string, double> series(const core::ComponentStats& s, const core::MetricFamily& f) {
  std::map<std::string, double> out;
  for (const core::Series& x : s.series.snapshot()) {
    if (x.family == &f) out[x.labels.at(0)] = x.value;
  }
  return out;
}

core::Event& add(core::Batch& b, std::string_view message) {
  core::Event& e = b.events.emplace_back();
  e.message = message;
  e.timestamp_ns = 42;
  return e;
}

}  // namespace

TEST_CASE("parse_influx: each line one event in its record's place, sharing its fields; the rest untouched") {
  auto b = build("    on_failure: tag\n");
  core::BatchPool pool(1);
  core::Batch* batch = pool.acquire();
  add(*batch, "not selected 0");
  core::Event& rec = add(*batch, "cpu,host=a v=1i 100\ncpu,host=b v=oops 200\nmem,host=a used=5u,ok=T");
  core::set_field(rec, *core::FieldPath::parse("kafka.offset"), core::Value::integer(7), batch->arena);
  add(*batch, "not selected 2");
  add(*batch, "disk free=1.5 300\n\n# comment\nnet,if=eth0 rx=\"a \\\"b\\\"\" 400\n");
  std::vector<std::uint32_t> sel{1, 3};
  b->filter->expand(*batch, sel);
  std::vector<std::string> got;
  for (const core::Event& e : batch->events) got.push_back(json(e) + " @" + std::to_string(e.timestamp_ns));
  CHECK(
      got ==
      std::vector<std::string>{
          "not selected 0 | null @42",
          R"(cpu,host=a v=1i 100 | {"kafka":{"offset":7},"measurement":"cpu","tags":{"host":"a"},"fields":{"v":1}} @100)",
          R"(cpu,host=b v=oops 200 | {"kafka":{"offset":7},"tags":["lp_failure"]} @42)",
          R"(mem,host=a used=5u,ok=T | {"kafka":{"offset":7},"measurement":"mem","tags":{"host":"a"},"fields":{"used":5,"ok":true}} @42)",
          "not selected 2 | null @42",
          R"(disk free=1.5 300 | {"measurement":"disk","tags":{},"fields":{"free":1.5}} @300)",
          R"(net,if=eth0 rx="a \"b\"" 400 | {"measurement":"net","tags":{"if":"eth0"},"fields":{"rx":"a \"b\""}} @400)",
      });
  CHECK(sel == std::vector<std::uint32_t>{1, 2, 3, 5, 6});
  // The record's fields are shared: changing one event's leaves the others'.
  core::set_field(batch->events[1], *core::FieldPath::parse("kafka.offset"), core::Value::integer(9), batch->arena);
  CHECK(core::get_field(batch->events[3], *core::FieldPath::parse("kafka.offset"))->as_int() == 7);
  CHECK(batch->events[3].fields.find("fields")->find("used")->is_unsigned());
  auto invalid = series(b->stats, common::influx::kInvalidPoints);
  CHECK(invalid["bad_value"] == 1);
  CHECK(invalid["no_fields"] == 0);  // every reason is there from the start
  CHECK(invalid.size() == common::influx::kErrcCount);
  batch->release();
}

TEST_CASE("parse_influx: on_failure drop and reject name the reason; an empty record is dropped, counted") {
  for (const char* mode : {"drop", "reject"}) {
    CAPTURE(mode);
    auto b = build(std::string("    on_failure: ") + mode + "\n");
    core::BatchPool pool(1);
    core::Batch* batch = pool.acquire();
    add(*batch, "cpu v=1 1\ncpu s=\"open 2\ncpu v=3 3");
    add(*batch, "# only a comment\n");
    core::Event& no_text = add(*batch, "");
    no_text.message = {};
    core::set_field(no_text, *core::FieldPath::parse("x"), core::Value::integer(1), batch->arena);
    std::vector<std::uint32_t> sel{0, 1};
    b->filter->expand(*batch, sel);
    REQUIRE(batch->events.size() == 5);
    const bool reject = std::string(mode) == "reject";
    CHECK(batch->events[0].drop_reason == nullptr);
    CHECK(std::string(batch->events[1].drop_reason) ==
          (reject ? "!influx_unterminated_string" : "influx_unterminated_string"));
    CHECK(batch->events[1].message == "cpu s=\"open 2");
    CHECK(batch->events[2].drop_reason == nullptr);
    CHECK(std::string(batch->events[3].drop_reason) == "influx_no_points");
    CHECK(series(b->stats, common::influx::kInvalidPoints)["unterminated_string"] == 1);
    batch->release();
  }
}

TEST_CASE("parse_influx: another field, another precision; a field that is not text goes to on_failure") {
  auto b = build("    field: payload\n    precision: s\n    on_failure: drop\n");
  core::BatchPool pool(1);
  core::Batch* batch = pool.acquire();
  core::Event& e = add(*batch, "raw");
  core::set_field(e, *core::FieldPath::parse("payload"), core::Value::string("m v=1i 1700000000\nm v=2i"),
                  batch->arena);
  core::Event& n = add(*batch, "raw");
  core::set_field(n, *core::FieldPath::parse("payload"), core::Value::integer(5), batch->arena);
  std::vector<std::uint32_t> sel{0, 1};
  b->filter->expand(*batch, sel);
  REQUIRE(batch->events.size() == 3);
  CHECK(batch->events[0].timestamp_ns == 1'700'000'000'000'000'000);
  CHECK(batch->events[0].message == "raw");
  CHECK(batch->events[0].fields.find("payload")->as_string() == "m v=1i 1700000000");
  CHECK(batch->events[1].fields.find("payload")->as_string() == "m v=2i");
  CHECK(batch->events[1].timestamp_ns == 42);  // no time: the event keeps its own
  CHECK(std::string(batch->events[2].drop_reason) == "influx_no_text");
  batch->release();
}

TEST_CASE("parse_influx: the guard counts points far from now and clamps, tags, drops or rejects them") {
  const std::int64_t now = core::now_ns();
  const std::string lines =
      "m v=1 1\nm v=2 " + std::to_string(now) + "\nm v=3 " + std::to_string(now + 86'400'000'000'000LL) + "\n";
  for (const char* action : {"clamp", "tag", "drop", "reject"}) {
    CAPTURE(action);
    auto b = build(std::string("    max_past: 30d\n    max_future: 1h\n    action: ") + action + "\n");
    core::BatchPool pool(1);
    core::Batch* batch = pool.acquire();
    add(*batch, lines);
    std::vector<std::uint32_t> sel{0};
    b->filter->expand(*batch, sel);
    REQUIRE(batch->events.size() == 3);
    const core::Event& past = batch->events[0];
    const core::Event& ok = batch->events[1];
    const core::Event& future = batch->events[2];
    CHECK(ok.drop_reason == nullptr);
    CHECK(ok.timestamp_ns == now);
    const std::string a = action;
    if (a == "clamp") {
      CHECK(past.timestamp_ns >= now - 30 * 86'400'000'000'000LL);
      CHECK(past.timestamp_ns < now - 29 * 86'400'000'000'000LL);
      CHECK(future.timestamp_ns <= core::now_ns() + 3'600'000'000'000LL);
    } else if (a == "tag") {
      // The point's tags stay; bifrost's tag goes beside them.
      CHECK(json(past).find(R"("tags":{},"fields":{"v":1.0},"_tags":["lp_out_of_range"])") != std::string::npos);
      CHECK(past.drop_reason == nullptr);
    } else {
      CHECK(std::string(past.drop_reason) == (a == "drop" ? "influx_out_of_range" : "!influx_out_of_range"));
      CHECK(std::string(future.drop_reason) == (a == "drop" ? "influx_out_of_range" : "!influx_out_of_range"));
    }
    auto range = series(b->stats, common::influx::kOutOfRangePoints);
    CHECK(range["past"] == 1);
    CHECK(range["future"] == 1);
    batch->release();
  }
}

TEST_CASE("parse_influx config errors are located") {
  for (const char* bad :
       {"    precision: m\n", "    action: clip\n", "    on_failure: fail\n", "    max_past: soon\n"}) {
    config::Diagnostics diag;
    auto cfg = config::load_text(
        "t.yaml",
        std::string("inputs: [{id: in, type: stdin}]\nfilters:\n  - id: lp\n    type: parse_influx\n") + bad +
            "outputs: [{id: out, type: stdout}]\n",
        diag);
    CAPTURE(bad);
    CHECK_FALSE(cfg);
    CHECK(diag.render().find("t.yaml:5:") != std::string::npos);
  }
}
