#include <doctest.h>

#include "config/model.h"
#include "config/registry.h"

using namespace bifrost;

namespace {
// Builds the first filter of a one-filter config.
struct Built {
  std::unique_ptr<config::Config> cfg;
  std::unique_ptr<pipeline::Filter> filter;
};

Built build(const std::string& filter_yaml) {
  config::Diagnostics diag;
  Built b;
  b.cfg = config::load_text(
      "t.yaml", "inputs: [{id: in, type: stdin}]\nfilters:\n" + filter_yaml + "outputs: [{id: out, type: stdout}]\n",
      diag);
  INFO(diag.render());
  REQUIRE(b.cfg);
  b.filter = b.cfg->pipelines[0].filters[0].spec->build({"main", "f", "/tmp"});
  return b;
}

std::optional<core::Value> field(const core::Event& e, const char* p) {
  return core::get_field(e, *core::FieldPath::parse(p));
}
}  // namespace

TEST_CASE("modify renames, copies, adds (typed and templated) and removes, in that order") {
  auto b = build(R"(  - id: m
    type: modify
    rename: { user: user.name }
    copy: { status: http.status }
    add: { env: prod, count: 3, ratio: 0.5, on: true, quoted: "7", label: "{{env}}-{{http.status}}-%Y", st: "{{status}}" }
    remove: [ tmp ]
)");
  core::BatchPool pool(1);
  core::Batch* batch = pool.acquire();
  core::Event& e = batch->events.emplace_back();
  e.message = "m";
  e.timestamp_ns = 1'704'067'200LL * 1'000'000'000;
  core::set_field(e, *core::FieldPath::parse("user"), core::Value::string("ann"), batch->arena);
  core::set_field(e, *core::FieldPath::parse("status"), core::Value::integer(404), batch->arena);
  core::set_field(e, *core::FieldPath::parse("tmp"), core::Value::integer(1), batch->arena);
  std::vector<std::uint32_t> all{0};
  b.filter->process(*batch, all);
  CHECK(field(e, "user.name")->as_string() == "ann");
  CHECK(field(e, "http.status")->as_int() == 404);
  CHECK(field(e, "env")->as_string() == "prod");
  CHECK(field(e, "count")->as_int() == 3);
  CHECK(field(e, "ratio")->as_double() == 0.5);
  CHECK(field(e, "on")->as_bool());
  CHECK(field(e, "quoted")->as_string() == "7");
  CHECK(field(e, "label")->as_string() == "prod-404-2024");  // add sees earlier adds and copies
  CHECK(field(e, "st")->kind() == core::Value::Kind::kInt);  // exactly {{field}} keeps the type
  CHECK_FALSE(field(e, "tmp"));
  batch->release();
}

TEST_CASE("drop marks the events it is given with reason condition") {
  auto b = build("  - id: d\n    type: drop\n    when: 'x == 1'\n");
  core::BatchPool pool(1);
  core::Batch* batch = pool.acquire();
  batch->events.resize(3);
  std::vector<std::uint32_t> some{0, 2};
  b.filter->process(*batch, some);
  CHECK(batch->events[0].dropped());
  CHECK_FALSE(batch->events[1].dropped());
  CHECK(std::string(batch->events[2].drop_reason) == "condition");
  batch->release();
}
