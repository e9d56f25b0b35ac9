#include <doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "filters/aggregate/distinct.h"
#include "filters/aggregate/sketch.h"
#include "filters/common/hash.h"
#include "support/stages.h"
#include "support/temp_dir.h"

using namespace bifrost;
using namespace std::chrono_literals;
using filters::aggregate::DistinctCounter;
using filters::aggregate::QuantileSketch;
using testing::FakeStageContext;
using testing::InputBatch;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'700'000'040 * kSec;  // a minute boundary

const core::Value* field(const core::Event& e, const char* path) {
  const core::Value* cur = &e.fields;
  std::string p = path;
  std::size_t start = 0;
  while (cur) {
    auto dot = p.find('.', start);
    cur = cur->find(std::string_view(p).substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

std::int64_t int_of(const core::Event& e, const char* path) {
  const core::Value* v = field(e, path);
  REQUIRE(v);
  REQUIRE(v->kind() == core::Value::Kind::kInt);
  return v->as_int();
}

const char* kMinute = R"(type: aggregate
    window: 1m
    group_by: [status]
    metrics:
      requests: count
      bytes: {sum: bytes}
      users: {count_distinct: user})";

// One batch of `n` events of `status` from source `src`, starting at time t
// (1 s apart) and offset `offset`.
void feed(pipeline::StatefulStage& stage, FakeStageContext& ctx, core::BatchPool& pool,
          const std::shared_ptr<core::AckTracker>& tracker, std::int64_t t, int n, std::int64_t status,
          std::uint64_t offset, std::uint64_t src = 7) {
  InputBatch b(pool, tracker, src);
  for (int i = 0; i < n; ++i) {
    core::Event& e = b.add(t + i * kSec, offset + static_cast<std::uint64_t>(i));
    b.set(e, "status", core::Value::integer(status));
    b.set(e, "bytes", core::Value::integer(100));
    b.set(e, "user", b.str("u" + std::to_string(i % 3)));
  }
  if (tracker) b.track(offset + static_cast<std::uint64_t>(n));
  auto sel = b.all();
  stage.process(*b, sel, ctx);
}

}  // namespace

TEST_CASE("count_distinct is exact up to 1024 values and within 3 standard errors (2.4%) at a million") {
  DistinctCounter small;
  for (int i = 0; i < 1000; ++i) small.add(filters::hash64(std::to_string(i % 700)));
  CHECK(small.exact());
  CHECK(small.estimate() == 700);
  CHECK(small.bytes() <= 16 * 1024 + 64);

  DistinctCounter big;
  for (int i = 0; i < 1'000'000; ++i) big.add(filters::hash64("client-" + std::to_string(i)));
  CHECK_FALSE(big.exact());
  CHECK(big.bytes() <= 16 * 1024 + 64);
  const double err = std::fabs(static_cast<double>(big.estimate()) - 1e6) / 1e6;
  MESSAGE("count_distinct at 1M: error ", err * 100, "%");
  CHECK(err <= 3 * DistinctCounter::kStandardError);

  // Over many sets the error averages near the documented standard error.
  double sum_abs = 0;
  const int sets = 40;
  for (int s = 0; s < sets; ++s) {
    DistinctCounter c;
    const int n = 5000 + s * 2500;
    for (int i = 0; i < n; ++i) c.add(filters::hash64("set" + std::to_string(s) + "-" + std::to_string(i)));
    sum_abs += std::fabs(static_cast<double>(c.estimate()) - n) / n;
  }
  MESSAGE("count_distinct mean |error| over ", sets, " sets: ", sum_abs / sets * 100, "%");
  CHECK(sum_abs / sets <= DistinctCounter::kStandardError);  // the mean |error| is about 0.8 of it
}

TEST_CASE("a percentile is within 1% of the value of its rank") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(3.0, 1.2);
  std::vector<double> values;
  QuantileSketch s;
  for (int i = 0; i < 100'000; ++i) {
    double v = latency(rng);
    if (i % 100 == 0) v = -v;  // some negatives
    if (i % 250 == 0) v = 0;   // and zeros
    values.push_back(v);
    s.add(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
    const double got = s.quantile(q);
    INFO("q=", q, " exact=", exact, " got=", got);
    CHECK(std::fabs(got - exact) <= QuantileSketch::kRelativeError * std::fabs(exact) + 1e-9);
  }
  CHECK(s.bytes() < 64 * 1024);
}

TEST_CASE("aggregate: a window closes when every source's event time has passed its end plus the lateness") {
  auto built = testing::build_stage(std::string(kMinute) + "\n    allowed_lateness: 10s");
  auto& stage = *built.stage;
  FakeStageContext ctx;
  core::BatchPool pool(4);
  stage.start(ctx);
  feed(stage, ctx, pool, nullptr, kT0, 30, 200, 0);               // 0:00..0:29
  feed(stage, ctx, pool, nullptr, kT0 + 30 * kSec, 40, 200, 30);  // 0:30..1:09
  CHECK(ctx.emitted.empty());                                     // the watermark (1:09) has not passed 1:00 + 10 s
  feed(stage, ctx, pool, nullptr, kT0 + 70 * kSec, 1, 404, 70);   // 1:10
  REQUIRE(ctx.events().size() == 1);
  const core::Event& e = *ctx.events()[0];
  CHECK(e.timestamp_ns == kT0);
  CHECK(int_of(e, "status") == 200);
  CHECK(int_of(e, "requests") == 60);
  CHECK(int_of(e, "bytes") == 6000);
  CHECK(int_of(e, "users") == 3);
  CHECK(field(e, "window.start")->as_string() == "2023-11-14T22:14:00Z");
  CHECK(field(e, "window.end")->as_string() == "2023-11-14T22:15:00Z");
  // An event for the emitted window is late: dropped, counted.
  InputBatch late(pool, nullptr);
  late.set(late.add(kT0 + 5 * kSec, 71), "status", core::Value::integer(200));
  auto sel = late.all();
  stage.process(*late, sel, ctx);
  CHECK(late->events[0].drop_reason == std::string_view("late"));
}

TEST_CASE("aggregate: a silent source stops holding windows, and with all silent time moves on") {
  auto built = testing::build_stage(std::string(kMinute) + "\n    idle_timeout: 30s");
  auto& stage = *built.stage;
  FakeStageContext ctx;
  core::BatchPool pool(4);
  stage.start(ctx);
  feed(stage, ctx, pool, nullptr, kT0, 10, 200, 0, /*src=*/1);
  feed(stage, ctx, pool, nullptr, kT0 + 50 * kSec, 30, 200, 0, /*src=*/2);  // source 2 reaches 1:19
  CHECK(ctx.emitted.empty());                                               // source 1 is at 0:09
  ctx.clock_.advance(31s);                                                  // source 1 (and 2) silent past idle_timeout
  stage.tick(ctx);
  // Every source silent: the time moves on from 1:19 by the 31 s passed.
  CHECK(ctx.events().size() == 1);
  CHECK(int_of(*ctx.events()[0], "requests") == 20);  // 0:00..0:09 and 0:50..0:59
  ctx.clock_.advance(60s);
  stage.tick(ctx);
  REQUIRE(ctx.events().size() == 2);
  CHECK(int_of(*ctx.events()[1], "requests") == 20);  // 1:00..1:19
}

TEST_CASE("aggregate: the windows' holds keep the input's checkpoint until the emitted events are delivered") {
  testing::TempDir dir;
  auto built = testing::build_stage(kMinute, dir.path());
  auto& stage = *built.stage;
  FakeStageContext ctx;
  core::BatchPool pool(4);
  auto tracker = std::make_shared<core::AckTracker>(0);
  stage.start(ctx);
  feed(stage, ctx, pool, tracker, kT0, 30, 200, 0);               // batch 0: window 0
  feed(stage, ctx, pool, tracker, kT0 + 30 * kSec, 40, 200, 30);  // batch 1: windows 0 and 1
  CHECK(tracker->acknowledged() == 0);  // batch 0 holds window 0 (the batches went back to their pool)
  feed(stage, ctx, pool, tracker, kT0 + 130 * kSec, 1, 500, 70);  // closes 0 and 1
  REQUIRE(ctx.events().size() == 2);
  stage.tick(ctx);
  CHECK(tracker->acknowledged() == 0);  // emitted, not yet delivered
  CHECK_FALSE(std::filesystem::exists(dir / "state/p/s.state"));
  ctx.release_all();  // delivered
  stage.tick(ctx);
  CHECK(std::filesystem::exists(dir / "state/p/s.state"));  // the state first, then the holds go
  CHECK(tracker->acknowledged() == 70);                     // up to the open window 2's batch
  pipeline::StageContext& c = ctx;
  stage.stop(c);
  CHECK(tracker->acknowledged() == 70);  // open windows are not emitted at stop
}

TEST_CASE("aggregate: after a restart, events of windows emitted and delivered count once; later ones are late") {
  testing::TempDir dir;
  {
    auto built = testing::build_stage(kMinute, dir.path());
    FakeStageContext ctx;
    core::BatchPool pool(4);
    auto tracker = std::make_shared<core::AckTracker>(0);
    built.stage->start(ctx);
    feed(*built.stage, ctx, pool, tracker, kT0, 60, 200, 0);
    feed(*built.stage, ctx, pool, tracker, kT0 + 60 * kSec, 30, 200, 60);  // closes window 0
    REQUIRE(ctx.events().size() == 1);
    ctx.release_all();
    built.stage->tick(ctx);
    CHECK(tracker->acknowledged() == 60);
  }  // crash: window 1 (60..89) never emitted
  auto built = testing::build_stage(kMinute, dir.path());
  FakeStageContext ctx;
  core::BatchPool pool(4);
  auto tracker = std::make_shared<core::AckTracker>(0);
  built.stage->start(ctx);
  // The input reads again from offset 0 (its checkpoint could be anywhere
  // up to 60): window 0's events are not counted again.
  feed(*built.stage, ctx, pool, tracker, kT0, 60, 200, 0);
  feed(*built.stage, ctx, pool, tracker, kT0 + 60 * kSec, 30, 200, 60);
  // A late event of window 0 that was never seen before.
  InputBatch late(pool, tracker);
  late.set(late.add(kT0 + 1 * kSec, 90), "status", core::Value::integer(200));
  late.track(91);
  auto sel = late.all();
  built.stage->process(*late, sel, ctx);
  CHECK(late->events[0].drop_reason == std::string_view("late"));
  feed(*built.stage, ctx, pool, tracker, kT0 + 120 * kSec, 1, 200, 91);  // closes window 1
  REQUIRE(ctx.events().size() == 1);
  CHECK(ctx.events()[0]->timestamp_ns == kT0 + 60 * kSec);
  CHECK(int_of(*ctx.events()[0], "requests") == 30);  // window 1, rebuilt whole
  built.stage->stop(ctx);
  std::string text;
  for (const auto& s : ctx.stats_.series.snapshot()) {
    text += std::string(s.family->name) + "=" + std::to_string(s.value) + " ";
  }
  CHECK(text.find("bifrost_aggregate_replayed_total=60.0") != std::string::npos);
  CHECK(text.find("bifrost_aggregate_late_total=1.0") != std::string::npos);
}

TEST_CASE("aggregate: after a restart, every source known before holds the open windows until heard from again") {
  testing::TempDir dir;
  const std::string spec = std::string(kMinute) + "\n    idle_timeout: 30s";
  {
    auto built = testing::build_stage(spec, dir.path());
    FakeStageContext ctx;
    core::BatchPool pool(4);
    built.stage->start(ctx);
    feed(*built.stage, ctx, pool, nullptr, kT0, 60, 200, 0, /*src=*/1);
    feed(*built.stage, ctx, pool, nullptr, kT0, 60, 200, 0, /*src=*/2);
    feed(*built.stage, ctx, pool, nullptr, kT0 + 60 * kSec, 10, 200, 60, /*src=*/1);
    feed(*built.stage, ctx, pool, nullptr, kT0 + 60 * kSec, 10, 200, 60, /*src=*/2);  // closes window 0
    REQUIRE(ctx.events().size() == 1);
    ctx.release_all();
    built.stage->tick(ctx);
  }  // crash: window 1 open, both sources at 1:09
  auto built = testing::build_stage(spec, dir.path());
  FakeStageContext ctx;
  core::BatchPool pool(4);
  built.stage->start(ctx);
  // Source 1's backlog comes first, far past window 1: source 2, known from
  // the state and not heard from yet, keeps it open.
  feed(*built.stage, ctx, pool, nullptr, kT0 + 60 * kSec, 50, 200, 60, /*src=*/1);
  feed(*built.stage, ctx, pool, nullptr, kT0 + 300 * kSec, 1, 200, 110, /*src=*/1);
  CHECK(ctx.events().empty());
  feed(*built.stage, ctx, pool, nullptr, kT0 + 60 * kSec, 50, 200, 60, /*src=*/2);  // not late
  CHECK(ctx.events().empty());                                                      // source 2 is at 1:49 now
  feed(*built.stage, ctx, pool, nullptr, kT0 + 300 * kSec, 1, 200, 110, /*src=*/2);
  REQUIRE(ctx.events().size() == 1);
  CHECK(int_of(*ctx.events()[0], "requests") == 100);  // window 1: 50 of each source
  // A source known from the state that is never heard from again holds for idle_timeout only.
  testing::TempDir dir2;
  {
    auto first = testing::build_stage(spec, dir2.path());
    FakeStageContext c1;
    core::BatchPool p1(4);
    first.stage->start(c1);
    feed(*first.stage, c1, p1, nullptr, kT0, 60, 200, 0, /*src=*/1);
    feed(*first.stage, c1, p1, nullptr, kT0, 60, 200, 0, /*src=*/3);
    feed(*first.stage, c1, p1, nullptr, kT0 + 80 * kSec, 1, 200, 60, /*src=*/1);
    feed(*first.stage, c1, p1, nullptr, kT0 + 80 * kSec, 1, 200, 60, /*src=*/3);
    REQUIRE(c1.events().size() == 1);
    c1.release_all();
    first.stage->tick(c1);
  }
  auto again = testing::build_stage(spec, dir2.path());
  FakeStageContext c2;
  core::BatchPool p2(4);
  again.stage->start(c2);
  feed(*again.stage, c2, p2, nullptr, kT0 + 60 * kSec, 1, 200, 60, /*src=*/1);
  feed(*again.stage, c2, p2, nullptr, kT0 + 300 * kSec, 1, 200, 61, /*src=*/1);
  CHECK(c2.events().empty());  // source 3 (gone) still holds
  c2.clock_.advance(31s);
  feed(*again.stage, c2, p2, nullptr, kT0 + 301 * kSec, 1, 200, 62, /*src=*/1);
  CHECK(c2.events().size() == 1);  // past idle_timeout it no longer does
}

TEST_CASE("aggregate: a corrupt state file is set aside and counted; the stage starts without it") {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "state/p");
  std::ofstream(dir / "state/p/s.state") << "bifrost-checkpoint 1 5 00000000\nhello";
  auto built = testing::build_stage(kMinute, dir.path());
  FakeStageContext ctx;
  built.stage->start(ctx);
  built.stage->stop(ctx);
  bool aside = false;
  for (const auto& f : std::filesystem::directory_iterator(dir / "state/p")) {
    aside = aside || f.path().filename().string().starts_with("s.state.corrupt-");
  }
  CHECK(aside);
  double errors = -1;
  for (const auto& s : ctx.stats_.series.snapshot()) {
    if (std::string_view(s.family->name) == "bifrost_state_errors_total") errors = s.value;
  }
  CHECK(errors == 1);
}

TEST_CASE("aggregate: a metric's missing or non-numeric field skips the event for that metric, counted") {
  auto built = testing::build_stage(R"(type: aggregate
    window: 1m
    metrics:
      n: count
      total: {sum: bytes}
      low: {min: bytes}
      high: {max: bytes}
      mean: {avg: bytes}
      p50: {percentile: bytes, q: 0.5})");
  FakeStageContext ctx;
  core::BatchPool pool(2);
  built.stage->start(ctx);
  InputBatch b(pool, nullptr);
  b.set(b.add(kT0, 0), "bytes", core::Value::integer(10));
  b.set(b.add(kT0, 1), "bytes", b.str("30"));  // a number as text counts
  b.set(b.add(kT0, 2), "bytes", b.str("-"));   // not a number
  b.add(kT0, 3);                               // missing
  b.set(b.add(kT0, 4), "bytes", core::Value::number(2.5));
  auto sel = b.all();
  built.stage->process(*b, sel, ctx);
  built.stage->finish(ctx);
  built.stage->stop(ctx);
  REQUIRE(ctx.events().size() == 1);
  const core::Event& e = *ctx.events()[0];
  CHECK(int_of(e, "n") == 5);
  CHECK(field(e, "total")->as_double() == doctest::Approx(42.5));
  CHECK(field(e, "low")->as_double() == doctest::Approx(2.5));
  CHECK(field(e, "high")->as_double() == 30);  // a double: a non-integer value (2.5) was counted
  CHECK(field(e, "mean")->as_double() == doctest::Approx(42.5 / 3));
  CHECK(field(e, "p50")->as_double() == doctest::Approx(10).epsilon(0.01));
  std::map<std::string, double> skipped;
  for (const auto& s : ctx.stats_.series.snapshot()) {
    if (std::string_view(s.family->name) == "bifrost_aggregate_skipped_total")
      skipped[s.labels[0] + "/" + s.labels[1]] = s.value;
  }
  CHECK(skipped["total/missing"] == 1);
  CHECK(skipped["total/not_a_number"] == 1);
  CHECK(skipped["p50/not_a_number"] == 1);
}

TEST_CASE("aggregate: pass false stops the raw events; late: tag and late: separate") {
  auto built = testing::build_stage(std::string(kMinute) + "\n    pass: false\n    late: separate");
  FakeStageContext ctx;
  core::BatchPool pool(8);
  built.stage->start(ctx);
  InputBatch b(pool, nullptr);
  for (int i = 0; i < 3; ++i)
    b.set(b.add(kT0 + i * kSec, static_cast<std::uint64_t>(i)), "status", core::Value::integer(200));
  b.set(b.add(kT0 + 61 * kSec, 3), "status", core::Value::integer(200));
  auto sel = b.all();
  built.stage->process(*b, sel, ctx);
  for (const core::Event& e : b->events) CHECK(e.drop_reason == std::string_view("aggregated"));
  REQUIRE(ctx.events().size() == 1);  // window 0 closed by the event at 1:01
  InputBatch late(pool, nullptr);
  late.set(late.add(kT0 + 10 * kSec, 4), "status", core::Value::integer(200));
  late.set(late.add(kT0 + 11 * kSec, 5), "status", core::Value::integer(200));
  sel = late.all();
  built.stage->process(*late, sel, ctx);
  built.stage->tick(ctx);  // late windows go out at the next tick
  REQUIRE(ctx.events().size() == 2);
  const core::Event& e = *ctx.events()[1];
  CHECK(e.timestamp_ns == kT0);
  CHECK(int_of(e, "requests") == 2);
  CHECK(field(e, "late")->as_bool());

  auto tagging = testing::build_stage(std::string(kMinute) + "\n    pass: false\n    late: tag");
  FakeStageContext ctx2;
  tagging.stage->start(ctx2);
  InputBatch c(pool, nullptr);
  c.set(c.add(kT0 + 61 * kSec, 0), "status", core::Value::integer(200));
  c.set(c.add(kT0 + 1 * kSec, 1), "status", core::Value::integer(200));  // no window 0 yet: not late
  sel = c.all();
  tagging.stage->process(*c, sel, ctx2);
  InputBatch d(pool, nullptr);
  d.set(d.add(kT0 + 200 * kSec, 2), "status", core::Value::integer(200));  // closes 0 and 1
  sel = d.all();
  tagging.stage->process(*d, sel, ctx2);
  InputBatch l(pool, nullptr);
  l.set(l.add(kT0 + 2 * kSec, 3), "status", core::Value::integer(200));
  sel = l.all();
  tagging.stage->process(*l, sel, ctx2);
  CHECK_FALSE(l->events[0].dropped());  // tagged late events go on even with pass: false
  CHECK(field(l->events[0], "tags")->items()[0].as_string() == "late");
}

TEST_CASE("aggregate: a window past max_groups emits its groups early and starts again") {
  auto built = testing::build_stage(std::string(kMinute) + "\n    max_groups: 2");
  FakeStageContext ctx;
  core::BatchPool pool(2);
  built.stage->start(ctx);
  InputBatch b(pool, nullptr);
  for (int s = 0; s < 3; ++s) b.set(b.add(kT0, static_cast<std::uint64_t>(s)), "status", core::Value::integer(200 + s));
  auto sel = b.all();
  built.stage->process(*b, sel, ctx);
  CHECK(ctx.events().size() == 2);  // 200 and 201 went out early
  built.stage->finish(ctx);
  REQUIRE(ctx.events().size() == 3);
  CHECK(int_of(*ctx.events()[2], "status") == 202);
}

TEST_CASE("aggregate: the config is checked") {
  auto bad = [](const std::string& yaml) {
    config::Diagnostics diag;
    auto cfg = config::load_text("t.yaml",
                                 "inputs: [{id: i, type: stdin}]\nfilters:\n  - id: a\n    type: aggregate\n    " +
                                     yaml + "\noutputs: [{id: o, type: stdout}]\n",
                                 diag);
    return cfg ? std::string() : diag.render();
  };
  CHECK(bad("window: 1m\n    metrics: {n: count}") == "");
  CHECK(bad("window: 1m\n    metrics: {p: {percentile: x}}").find("needs q") != std::string::npos);
  CHECK(bad("window: 1m\n    metrics: {p: {sum: x, max: x}}").find("exactly one") != std::string::npos);
  CHECK(bad("window: 1m\n    metrics: {window: count}").find("cannot be named") != std::string::npos);
  CHECK(bad("window: 1m\n    metrics: {n: cuont}").find("expected `count`") != std::string::npos);
  CHECK(bad("window: 1m").find("metrics") != std::string::npos);
  CHECK(bad("window: 0s\n    metrics: {n: count}").find("window must be above 0") != std::string::npos);
  CHECK(bad("window: 1m\n    late: later\n    metrics: {n: count}").find("late") != std::string::npos);
}
