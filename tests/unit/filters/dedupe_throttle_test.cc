#include <doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "filters/common/snapshot_holds.h"
#include "filters/dedupe/exact_keys.h"
#include "filters/dedupe/sliced_bloom.h"
#include "filters/throttle/throttle_stage.h"
#include "support/stages.h"
#include "support/temp_dir.h"

using namespace bifrost;
using filters::dedupe::ExactKeys;
using filters::dedupe::SlicedBloom;
using testing::FakeStageContext;
using testing::InputBatch;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'700'000'040 * kSec;

// Runs `stage` over events with these ids (1 s apart from `t`, offsets
// from `offset`); returns the ids that went on.
std::vector<int> run(pipeline::StatefulStage& stage, FakeStageContext& ctx, core::BatchPool& pool,
                     const std::shared_ptr<core::AckTracker>& tracker, const std::vector<int>& ids,
                     std::uint64_t offset, std::int64_t t = kT0) {
  InputBatch b(pool, tracker);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    core::Event& e = b.add(t + static_cast<std::int64_t>(k) * kSec, offset + k);
    b.set(e, "id", core::Value::integer(ids[k]));
  }
  if (tracker) b.track(offset + ids.size());
  auto sel = b.all();
  stage.process(*b, sel, ctx);
  std::vector<int> out;
  for (const core::Event& e : b->events) {
    if (!e.dropped()) out.push_back(static_cast<int>(e.fields.find("id")->as_int()));
  }
  return out;
}

}  // namespace

TEST_CASE("the time-sliced Bloom filter's false positive rate stays below the configured one, in its memory") {
  const std::uint64_t max_keys = 200'000;
  const double rate = 0.01;
  SlicedBloom bloom(max_keys, rate, 600 * kSec);
  // max_keys keys (the slices fill and turn over), then a million new ones asked.
  for (std::uint64_t i = 0; i < max_keys; ++i) bloom.insert(filters::hash128("key-" + std::to_string(i)), kT0);
  for (std::uint64_t i = max_keys - 50'000; i < max_keys; ++i) {
    CHECK(bloom.contains(filters::hash128("key-" + std::to_string(i))));  // the newest are all there
  }
  int false_positives = 0;
  for (int i = 0; i < 1'000'000; ++i) false_positives += bloom.contains(filters::hash128("new-" + std::to_string(i)));
  const double measured = false_positives / 1e6;
  MESSAGE("bloom: measured false positive rate ", measured * 100, "% for ", rate * 100, "%");
  CHECK(measured <= rate);
  // Memory: what the documented formula says.
  const double n = std::ceil(max_keys / 3.0);
  const double bits = 4 * std::ceil(n * std::log(4 / rate) / (M_LN2 * M_LN2));
  CHECK(static_cast<double>(bloom.bytes()) == doctest::Approx(bits / 8).epsilon(0.001));
}

TEST_CASE("the Bloom filter forgets keys older than the window as event time passes") {
  SlicedBloom bloom(1000, 0.01, 300 * kSec);  // slices of 100 s
  const auto k = filters::hash128("old");
  bloom.insert(k, kT0);
  for (int s = 1; s <= 4; ++s) bloom.insert(filters::hash128("tick-" + std::to_string(s)), kT0 + s * 100 * kSec);
  CHECK(bloom.contains(k) == false);  // four slices on: the oldest was cleared
}

TEST_CASE("exact keys: the oldest go first past max_keys, and entries expire by first-seen time") {
  ExactKeys keys(3);
  auto key = [](int i) { return filters::hash128("k" + std::to_string(i)); };
  for (int i = 0; i < 5; ++i) keys.insert({key(i), kT0 + i * kSec, 1, static_cast<std::uint64_t>(i)});
  CHECK(keys.size() == 3);
  CHECK_FALSE(keys.find(key(0)));
  CHECK_FALSE(keys.find(key(1)));
  CHECK(keys.find(key(4))->offset == 4);
  keys.forget(key(3));
  CHECK_FALSE(keys.find(key(3)));
  CHECK(keys.find(key(2)));
  keys.expire(kT0 + 3 * kSec);  // first seen before 3 s
  CHECK_FALSE(keys.find(key(2)));
  CHECK(keys.find(key(4)));
  CHECK(keys.size() == 1);
  // Many more than fit, in and out: the table stays consistent.
  ExactKeys many(1000);
  for (int i = 0; i < 100'000; ++i) {
    many.insert({key(i), kT0, 1, static_cast<std::uint64_t>(i)});
    if (i % 7 == 0) many.forget(key(i - 3));
  }
  for (int i = 99'000; i < 100'000; ++i) {
    if (i % 7 == 4) continue;  // forgotten (i + 3 was a multiple of 7)
    REQUIRE(many.find(key(i)));
  }
  CHECK(many.size() <= 1000);
}

TEST_CASE("dedupe: after a restart an event read again is not its own duplicate, and its copy still is") {
  testing::TempDir dir;
  const std::string yaml = "type: dedupe\n    fields: [id]\n    window: 10m";
  core::BatchPool pool(4);
  {
    auto built = testing::build_stage(yaml, dir.path());
    FakeStageContext ctx;
    built.stage->start(ctx);
    CHECK(run(*built.stage, ctx, pool, nullptr, {1, 2, 1, 3}, 0) == std::vector<int>{1, 2, 3});
    built.stage->stop(ctx);  // saves the keys
  }
  auto built = testing::build_stage(yaml, dir.path());
  FakeStageContext ctx;
  built.stage->start(ctx);
  // The input reads its last lines again (its checkpoint was behind them),
  // then new ones: 2's second line and a new 4.
  CHECK(run(*built.stage, ctx, pool, nullptr, {1, 2, 1, 3}, 0) == std::vector<int>{1, 2, 3});
  CHECK(run(*built.stage, ctx, pool, nullptr, {2, 4}, 4, kT0 + 10 * kSec) == std::vector<int>{4});
}

TEST_CASE("dedupe and throttle hold their inputs' checkpoints at the first batch after their last saved state") {
  testing::TempDir dir;
  auto built = testing::build_stage("type: dedupe\n    fields: [id]", dir.path());
  FakeStageContext ctx;
  core::BatchPool pool(4);
  auto tracker = std::make_shared<core::AckTracker>(0);
  built.stage->start(ctx);
  run(*built.stage, ctx, pool, tracker, {1, 2}, 0);
  run(*built.stage, ctx, pool, tracker, {3, 4}, 2);
  CHECK(tracker->acknowledged() == 0);  // nothing saved yet: held at the first batch
  ctx.clock_.advance(std::chrono::seconds(11));
  built.stage->tick(ctx);  // saves (save_interval 10s)
  CHECK(std::filesystem::exists(dir / "state/p/s.state"));
  CHECK(tracker->acknowledged() == 4);  // no batch since the save
  run(*built.stage, ctx, pool, tracker, {5}, 4);
  run(*built.stage, ctx, pool, tracker, {6}, 5);
  CHECK(tracker->acknowledged() == 4);
  built.stage->stop(ctx);  // a clean stop saves and lets go
  CHECK(tracker->acknowledged() == 6);
}

TEST_CASE("dedupe: a state file it cannot read is set aside; a key missing lets the event through unchecked") {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "state/p");
  {
    std::ofstream f(dir / "state/p/s.state");
    f << "garbage";
  }
  auto built = testing::build_stage("type: dedupe\n    key: '{{id}}-{{other}}'", dir.path());
  FakeStageContext ctx;
  core::BatchPool pool(2);
  built.stage->start(ctx);
  bool aside = false;
  for (const auto& f : std::filesystem::directory_iterator(dir / "state/p")) {
    aside = aside || f.path().filename().string().starts_with("s.state.corrupt-");
  }
  CHECK(aside);
  CHECK(run(*built.stage, ctx, pool, nullptr, {1, 1}, 0) == std::vector<int>{1, 1});  // no `other`: unchecked
}

TEST_CASE("throttle: rates parse, and at ten times the rate exactly the rate and the burst go through") {
  using filters::throttle::parse_rate;
  CHECK(parse_rate("1000/s") == std::pair<std::int64_t, std::int64_t>{1000, kSec});
  CHECK(parse_rate("50/m") == std::pair<std::int64_t, std::int64_t>{50, 60 * kSec});
  CHECK(parse_rate("100/10s") == std::pair<std::int64_t, std::int64_t>{100, 10 * kSec});
  CHECK_FALSE(parse_rate("fast"));
  CHECK_FALSE(parse_rate("0/s"));
  CHECK_FALSE(parse_rate("10/week"));

  auto built = testing::build_stage("type: throttle\n    rate: 10/s\n    burst: 5");
  FakeStageContext ctx;
  core::BatchPool pool(2);
  built.stage->start(ctx);
  // 100 events/s for 10 s of event time.
  InputBatch b(pool, nullptr);
  for (std::int64_t i = 0; i < 1000; ++i) b.add(kT0 + i * 10'000'000, static_cast<std::uint64_t>(i));
  auto sel = b.all();
  built.stage->process(*b, sel, ctx);
  std::size_t passed = 0;
  for (const core::Event& e : b->events) {
    passed += !e.dropped();
    if (e.dropped()) CHECK(e.drop_reason == std::string_view("throttled"));
  }
  CHECK(passed == 5 + 99);  // the burst, then one each 100 ms of the 9.99 s after the first event
}

TEST_CASE("snapshot holds: a failed save keeps the older holds") {
  filters::SnapshotHolds holds;
  core::BatchPool pool(4);
  auto tracker = std::make_shared<core::AckTracker>(0);
  auto batch = [&](std::uint64_t end) {
    core::Batch* b = pool.acquire();
    b->tracker = tracker;
    b->ack_seq = tracker->track(end);
    holds.on_batch(*b);
    b->release();
  };
  batch(10);
  batch(20);
  CHECK(tracker->acknowledged() == 0);
  holds.taken();
  batch(30);
  holds.failed();
  CHECK(tracker->acknowledged() == 0);
  holds.taken();
  holds.saved();
  CHECK(tracker->acknowledged() == 30);
  CHECK(holds.held() == 0);
}

TEST_CASE("dedupe: batches with nothing for it do not keep the input's checkpoint back") {
  testing::TempDir dir;
  auto built = testing::build_stage("type: dedupe\n    fields: [id]", dir.path());
  FakeStageContext ctx;
  core::BatchPool pool(4);
  auto tracker = std::make_shared<core::AckTracker>(0);
  built.stage->start(ctx);
  InputBatch b(pool, tracker);
  b.add(kT0, 0);  // no id: nothing changes the keys
  b.track(1);
  std::vector<std::uint32_t> none;
  built.stage->process(*b, none, ctx);
  b.finish();
  CHECK(tracker->acknowledged() == 0);
  ctx.clock_.advance(std::chrono::seconds(11));
  built.stage->tick(ctx);
  CHECK(tracker->acknowledged() == 1);
}
