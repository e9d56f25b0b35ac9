// The runtime's side of stateful stages (pipeline.h): order, emission
// through the rest of the chain, ticks, end of input, and holds that the
// drain does not wait for.
#include <doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "pipeline/pipeline.h"
#include "support/fake_clock.h"
#include "support/fakes.h"

using namespace bifrost;
using namespace std::chrono_literals;
using testing::FakeInputState;
using testing::FakeOutputState;
using testing::FakePipeline;

namespace {

bool wait_for(const std::function<bool()>& f, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!f()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// What the test stage saw and did.
struct StageLog {
  std::mutex mu;
  std::vector<std::int64_t> seen;  // field n of every event, in the order processed
  std::atomic<int> ticks{0}, finishes{0}, stops{0}, concurrent{0};
  bool overlapped = false;
  std::shared_ptr<core::AckTracker> held;  // the first batch's, held for good
  std::uint64_t held_seq = 0;
};

// Sums every 10 batches into an emitted event "sum=S"; emits "end" at finish.
class SummingStage final : public pipeline::StatefulStage {
 public:
  explicit SummingStage(StageLog& log) : log_(log) {}
  void process(core::Batch& b, std::span<const std::uint32_t> events, pipeline::StageContext& ctx) override {
    if (log_.concurrent.fetch_add(1) != 0) log_.overlapped = true;
    if (!log_.held && b.tracker && b.tracker->hold(b.ack_seq)) {
      log_.held = b.tracker;
      log_.held_seq = b.ack_seq;
    }
    {
      std::lock_guard lock(log_.mu);
      for (std::uint32_t i : events) log_.seen.push_back(b.events[i].fields.find("n")->as_int());
    }
    for (std::uint32_t i : events) sum_ += b.events[i].fields.find("n")->as_int();
    if (++batches_ % 10 == 0) emit(ctx, "sum=" + std::to_string(sum_));
    log_.concurrent.fetch_sub(1);
  }
  void tick(pipeline::StageContext&) override { log_.ticks++; }
  std::chrono::milliseconds tick_interval() const override { return 100ms; }
  void finish(pipeline::StageContext& ctx) override {
    log_.finishes++;
    emit(ctx, "end");
  }
  void stop(pipeline::StageContext&) override { log_.stops++; }

 private:
  void emit(pipeline::StageContext& ctx, const std::string& text) {
    core::Batch* b = ctx.acquire();
    REQUIRE(b);
    core::Event& e = b->events.emplace_back();
    e.message = b->arena.copy(text);
    ctx.emit(b);
  }
  StageLog& log_;
  std::int64_t sum_ = 0;
  int batches_ = 0;
};

struct SummingSpec final : pipeline::StatefulStageSpec {
  StageLog* log;
  std::unique_ptr<pipeline::StatefulStage> build(const pipeline::BuildContext&) const override {
    return std::make_unique<SummingStage>(*log);
  }
};

// A filter after the stage: drops events whose message starts with "sum=1".
class DropFilter final : public pipeline::Filter {
 public:
  void process(core::Batch& b, std::span<const std::uint32_t> events) const override {
    for (std::uint32_t i : events) {
      if (b.events[i].message.starts_with("sum=1")) b.events[i].drop_reason = "test";
    }
  }
};
struct DropSpec final : pipeline::FilterSpec {
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext&) const override {
    return std::make_unique<DropFilter>();
  }
};

// An input that publishes `batches` batches and then waits to be stopped.
class WaitingInput final : public pipeline::Input {
 public:
  explicit WaitingInput(FakeInputState& s) : s_(s) {}
  void run(pipeline::InputContext& ctx) override {
    core::Batch* b = ctx.acquire();
    if (!b) return;
    b->events.emplace_back().message = "0";
    core::set_field(b->events.back(), *core::FieldPath::parse("n"), core::Value::integer(0), b->arena);
    b->tracker = s_.tracker;
    b->ack_seq = s_.tracker->track(1);
    ctx.publish(b);
    while (!ctx.stopping()) std::this_thread::sleep_for(1ms);
  }

 private:
  FakeInputState& s_;
};
struct WaitingSpec final : pipeline::InputSpec {
  FakeInputState* state;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext&) const override {
    return std::make_unique<WaitingInput>(*state);
  }
};

std::vector<std::string> messages_starting(const FakeOutputState& o, std::string_view prefix) {
  std::vector<std::string> out;
  for (const auto& m : o.delivered) {
    if (m.starts_with(prefix) || m == "end") out.push_back(m);
  }
  return out;
}

}  // namespace

TEST_CASE("a stateful stage sees every batch once, in order, one at a time; what it emits goes through the rest") {
  FakeInputState in;
  in.batches = 40;
  FakeOutputState out;
  FakePipeline t(in, {&out});
  StageLog log;
  SummingSpec stage;
  stage.log = &log;
  DropSpec drop;
  t.topology.filters.push_back({"sum", "summing", nullptr, nullptr, &stage});
  t.topology.filters.push_back({"drop", "drop", &drop, nullptr, nullptr});
  pipeline::Pipeline p(t.topology, {.workers = 4, .batches_per_input = 8});
  p.start();
  REQUIRE(wait_for([&] { return p.inputs_finished(); }));
  CHECK(p.drain(std::chrono::steady_clock::now() + 10s));
  std::vector<std::int64_t> all(4000);
  for (int i = 0; i < 4000; ++i) all[static_cast<std::size_t>(i)] = i;
  CHECK(log.seen == all);
  CHECK_FALSE(log.overlapped);
  // Sums after 10, 20, 30, 40 batches of 100: 499500, 1999000, 4498500,
  // 7998000; the filter after the stage drops the ones starting "sum=1";
  // the input ended by itself, so the stage finished ("end").
  CHECK(messages_starting(out, "sum=") == std::vector<std::string>{"sum=499500", "sum=4498500", "sum=7998000", "end"});
  CHECK(log.finishes == 1);
  CHECK(log.stops == 1);
  // Every raw event went on too, each once.
  CHECK(out.delivered.size() == 4000 + 4);
  // The stage held the first batch for good: the batches went back to the
  // pool and the drain finished, but the acknowledgement stays before it.
  CHECK(in.tracker->acknowledged() == 0);
  log.held->release(log.held_seq);
  CHECK(in.tracker->acknowledged() == 4000);
  CHECK(in.tracker->entries() == 0);
}

TEST_CASE("a stateful stage is ticked while no batch comes, and does not finish when the pipeline is stopped") {
  FakeInputState in;
  FakeOutputState out;
  FakePipeline t(in, {&out});
  WaitingSpec waiting;
  waiting.state = &in;
  t.topology.inputs[0].spec = &waiting;
  StageLog log;
  SummingSpec stage;
  stage.log = &log;
  t.topology.filters.push_back({"sum", "summing", nullptr, nullptr, &stage});
  testing::FakeClock clock;
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .clock = &clock});
  p.start();
  REQUIRE(wait_for([&] { return log.ticks.load() >= 1; }));  // the first tick comes at once
  const int before = log.ticks.load();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(wait_for([&] { return clock.waiters() > 0; }));
    clock.advance(100ms);
    REQUIRE(wait_for([&] { return log.ticks.load() >= before + i + 1; }));
  }
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 10s));
  CHECK(log.finishes == 0);  // stopped, not ended: what it holds stays held
  CHECK(log.stops == 1);
  CHECK(in.tracker->acknowledged() == 0);
}
