#include <doctest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "delivery/failed_queue.h"
#include "pipeline/pipeline.h"
#include "support/fake_clock.h"
#include "support/fakes.h"

using namespace bifrost;
using namespace std::chrono_literals;

namespace {

using testing::FakeInputState;
using testing::FakeOutputState;
using testing::FakePipeline;

std::vector<std::string> lines_of(const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& seg : delivery::FailedQueue::segments(dir)) {
    std::ifstream f(seg);
    for (std::string line; std::getline(f, line);) out.push_back(line);
  }
  return out;
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(std::to_string(i));
  return v;
}

bool wait_for(const std::function<bool()>& f, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!f()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("every event reaches every output in read order, and the input is acknowledged to the end") {
  FakeInputState in;
  in.batches = 50;
  FakeOutputState a, b;
  FakePipeline t(in, {&a, &b});
  pipeline::Pipeline p(t.topology, {.workers = 4, .batches_per_input = 8, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] { return p.inputs_finished(); }));
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  CHECK(a.delivered == numbers(0, 5000));
  CHECK(b.delivered == numbers(0, 5000));
  CHECK(in.tracker->acknowledged() == 5000);
}

TEST_CASE("on_input_end is called once the input has ended, after inputs_finished() says so") {
  FakeInputState in;
  in.batches = 3;
  FakeOutputState out;
  FakePipeline t(in, {&out});
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  bool finished_when_called = false;
  p.on_input_end([&] {
    std::lock_guard l(mu);
    ++calls;
    finished_when_called = p.inputs_finished();
    cv.notify_all();
  });
  p.start();
  {
    std::unique_lock l(mu);
    REQUIRE(cv.wait_for(l, 10s, [&] { return calls > 0; }));
  }
  CHECK(finished_when_called);
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  CHECK(calls == 1);
  CHECK(out.delivered == numbers(0, 300));
}

TEST_CASE("a batch is acknowledged only when every output it went to is finished with it") {
  FakeInputState in;
  in.batches = 1;
  FakeOutputState fast, slow;
  slow.gate_open = false;
  FakePipeline t(in, {&fast, &slow});
  testing::FakeClock clock;  // never moves: an output waiting for its next batch waits on it
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2, .clock = &clock});
  p.start();
  // The fast output has delivered the batch and is done with it (waiting
  // for the next one), the slow one holds it at its gate: nothing more can
  // happen to the batch until the gate opens.
  REQUIRE(wait_for([&] {
    std::lock_guard l(fast.mu);
    return fast.delivered.size() == 100 && slow.at_gate == 1 && clock.waiters() == 1;
  }));
  CHECK(in.tracker->acknowledged() == 0);
  {
    std::lock_guard l(slow.mu);
    slow.gate_open = true;
  }
  slow.cv.notify_all();
  REQUIRE(wait_for([&] { return in.tracker->acknowledged() == 100; }));
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
}

TEST_CASE("an output retries only the events that failed, and each is delivered once") {
  FakeInputState in;
  in.batches = 3;
  FakeOutputState a;
  a.fail_once = {"5", "150", "299"};
  FakePipeline t(in, {&a});
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] { return in.tracker->acknowledged() == 300; }));
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  std::vector<std::string> got = a.delivered;
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = numbers(0, 300);
  std::sort(want.begin(), want.end());
  CHECK(got == want);        // nothing twice, nothing lost
  CHECK(a.writes == 3 + 3);  // each batch once, plus one retry of its failed event
  auto stats = p.stats();
  CHECK(stats.back()->retries.load() == 3);
  CHECK(stats.back()->events_out.load() == 300);
}

TEST_CASE("outputs receive only the events matching their when, and unrouted events are still acknowledged") {
  FakeInputState in;
  in.batches = 2;
  FakeOutputState big, none;
  FakePipeline t(in, {&big, &none}, {"n >= 150", "n < 0"});
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] { return in.tracker->acknowledged() == 200; }));
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  CHECK(big.delivered == numbers(150, 200));
  CHECK(none.delivered.empty());
  CHECK(none.writes == 0);
}

TEST_CASE("a blocked output stops the input with memory bounded by the batch pool") {
  FakeInputState in;
  in.batches = 1000;
  FakeOutputState blocked;
  blocked.gate_open = false;
  FakePipeline t(in, {&blocked});
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 6, .output_queue_batches = 2});
  p.start();
  // Until the input waits for a free batch (its backpressure stopwatch runs).
  REQUIRE(wait_for([&] { return p.stats().front()->blocked.running(); }));
  CHECK(in.published.load() <= 6);  // the input waits for a free batch
  {
    std::lock_guard l(blocked.mu);
    blocked.gate_open = true;
  }
  blocked.cv.notify_all();
  REQUIRE(wait_for([&] { return p.inputs_finished(); }));
  CHECK(p.drain(std::chrono::steady_clock::now() + 10s));
  CHECK(blocked.delivered.size() == 100'000);
}

TEST_CASE("a drain past its deadline leaves undelivered batches unacknowledged") {
  FakeInputState in;
  in.batches = 3;
  FakeOutputState stuck;
  stuck.fail_once = {"0"};  // first attempt fails, then waits in backoff
  FakePipeline t(in, {&stuck});
  t.topology.outputs[0].delivery.retry.initial_backoff_ns = 2'000'000'000;
  t.topology.outputs[0].delivery.retry.max_backoff_ns = 2'000'000'000;
  testing::FakeClock clock;  // never moves: the retry waits in its backoff until given up
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2, .clock = &clock});
  p.start();
  REQUIRE(wait_for([&] { return p.inputs_finished(); }));
  p.stop_inputs();
  bool complete = p.drain(std::chrono::steady_clock::now());
  CHECK_FALSE(complete);
  CHECK(in.tracker->acknowledged() == 0);
}

TEST_CASE("rejected events and exhausted retries go to the failed queue, then the batch is acknowledged") {
  FakeInputState in;
  in.batches = 2;
  FakeOutputState a;
  a.reject = {"7", "150"};
  a.fail_always = {"42"};
  FakePipeline t(in, {&a});
  t.topology.outputs[0].delivery.retry = {3, 1'000'000, 2'000'000};  // 3 attempts, 1-2 ms apart
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] { return in.tracker->acknowledged() == 200; }));
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  CHECK(a.delivered.size() == 197);
  auto records = lines_of(t.data_dir() + "/failed/test/out0");
  REQUIRE(records.size() == 3);
  CHECK(records[0].find("\"error\":\"bad event 7\"") != std::string::npos);
  CHECK(records[0].find("\"attempts\":1") != std::string::npos);
  CHECK(records[0].find("\"message\":\"7\"") != std::string::npos);
  CHECK(records[1].find("\"error\":\"retries exhausted: down\"") != std::string::npos);
  CHECK(records[1].find("\"attempts\":3") != std::string::npos);
  CHECK(records[2].find("\"message\":\"150\"") != std::string::npos);
  auto stats = p.stats();
  CHECK(stats.back()->events_failed.load() == 3);
  CHECK(stats.back()->retries.load() == 2);  // attempts 1 and 2 were retried; 3 gave up
}

TEST_CASE("an idle output is flushed every flush_interval of the injected clock") {
  FakeInputState in;
  in.batches = 1;
  FakeOutputState out;
  out.flush_interval = 10s;
  FakePipeline t(in, {&out});
  testing::FakeClock clock;
  const auto t0 = clock.now();
  using Deadlines = std::vector<testing::FakeClock::time_point>;
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .clock = &clock});
  p.start();
  // The batch is delivered and the output waits for its first flush, due at
  // t0 + 10 s of the clock (which does not move).
  REQUIRE(wait_for([&] { return in.tracker->acknowledged() == 100 && clock.deadlines() == Deadlines{t0 + 10s}; }));
  CHECK(out.flushes.load() == 0);  // real time passes, the clock does not
  clock.advance(10s);
  REQUIRE(wait_for([&] { return out.flushes.load() == 1; }));
  // The next one is due 10 s after the first: 9 s on, it is not yet.
  REQUIRE(wait_for([&] { return clock.deadlines() == Deadlines{t0 + 20s}; }));
  clock.advance(9s);
  CHECK(out.flushes.load() == 1);
  clock.advance(1s);
  REQUIRE(wait_for([&] { return out.flushes.load() == 2; }));
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  CHECK(out.flushes.load() == 3);  // and once more at close
}

TEST_CASE("while the circuit is open, attempts are probes on the backoff that never use up max_attempts") {
  FakeInputState in;
  in.batches = 1;
  in.per_batch = 10;
  FakeOutputState out;
  for (int i = 0; i < 10; ++i) out.fail_always.insert(std::to_string(i));
  FakePipeline t(in, {&out});
  t.topology.outputs[0].delivery.retry = {
      .max_attempts = 2, .initial_backoff_ns = 1'000'000'000, .max_backoff_ns = 4'000'000'000, .breaker_after = 2};
  testing::FakeClock clock;
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .clock = &clock});
  const core::ComponentStats& stats = *p.stats().back();
  p.start();
  auto writes = [&] {
    std::lock_guard l(out.mu);
    return out.writes;
  };
  for (int attempt = 2; attempt <= 6; ++attempt) {
    // The output waits in its backoff (measured from when it began): then move time past it.
    REQUIRE(wait_for([&] { return writes() == attempt - 1 && clock.waiters() == 1; }));
    clock.advance(4s);
    REQUIRE(wait_for([&] { return writes() == attempt; }));
  }
  CHECK(stats.circuit_open.load() == 1);
  CHECK(stats.events_failed.load() == 0);  // six attempts, max_attempts 2: still probing, nothing given up
  {
    std::lock_guard l(out.mu);
    out.fail_always.clear();
  }
  REQUIRE(wait_for([&] { return clock.waiters() == 1; }));
  clock.advance(4s);
  REQUIRE(wait_for([&] { return in.tracker->acknowledged() == 10; }));
  CHECK(stats.circuit_open.load() == 0);
  CHECK(out.delivered == numbers(0, 10));
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
}

TEST_CASE("an input held back by a blocked output counts the seconds, and so does the output it waits on") {
  FakeInputState in;
  in.batches = 20;
  FakeOutputState out;
  out.gate_open = false;
  FakePipeline t(in, {&out});
  testing::FakeClock clock;
  pipeline::Pipeline p(t.topology, {.workers = 2, .batches_per_input = 4, .clock = &clock});
  const core::ComponentStats& input = *p.stats().front();
  const core::ComponentStats& output = *p.stats().back();
  p.start();
  // Every batch of the pool is out: the input waits for one, and the output holds them all.
  REQUIRE(wait_for([&] { return input.blocked.running() && output.blocked.running(); }));
  clock.advance(3s);
  CHECK(input.blocked.seconds(clock.now()) == doctest::Approx(3.0));
  CHECK(output.blocked.seconds(clock.now()) == doctest::Approx(3.0));
  out.open_gate();
  REQUIRE(wait_for([&] { return p.inputs_finished(); }));
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  clock.advance(60s);  // no longer held back: the counts stay
  CHECK(input.blocked.seconds(clock.now()) == doctest::Approx(3.0));
  CHECK(output.blocked.seconds(clock.now()) == doctest::Approx(3.0));
}

namespace {
// Splits event n into three ("n.a", "n.b", "n.c") when n is a multiple of
// 3, and drops the piece "b" of every multiple of 9: the Filter::expand
// contract, with drops among what it made.
class SplitFilter final : public pipeline::Filter {
 public:
  void process(core::Batch&, std::span<const std::uint32_t>) const override { FAIL("expand() is called"); }
  void expand(core::Batch& batch, std::vector<std::uint32_t>& events) const override {
    thread_local std::deque<std::string> text;  // stable: messages point here
    pipeline::EventSplice splice(batch, events);
    for (std::size_t k = 0; k < events.size(); ++k) {
      const core::Event& from = splice.at(k);
      const std::int64_t n = from.fields.find("n")->as_int();
      if (n % 3 != 0) {
        splice.add(from);
        continue;
      }
      for (const char* piece : {"a", "b", "c"}) {
        core::Event& e = splice.add(from);
        e.message = text.emplace_back(std::string(from.message) + "." + piece);
        if (n % 9 == 0 && piece[0] == 'b') e.drop_reason = "split_test";
      }
    }
    splice.finish();
  }
};
struct SplitSpec final : pipeline::FilterSpec {
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext&) const override {
    return std::make_unique<SplitFilter>();
  }
};
}  // namespace

TEST_CASE("a filter that makes several events of one keeps the source order, and the batch is acknowledged once") {
  FakeInputState in;
  in.batches = 20;
  FakeOutputState out;
  FakePipeline t(in, {&out});
  SplitSpec spec;
  // Only events below 1000 reach the filter: the others pass it untouched.
  auto when = std::get<expr::Condition>(expr::Condition::parse("n < 1000"));
  t.topology.filters.push_back({"split", "split", &spec, &when});
  pipeline::Pipeline p(t.topology, {.workers = 4, .batches_per_input = 4, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] { return p.inputs_finished(); }));
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  std::vector<std::string> want;
  std::uint64_t dropped = 0;
  for (int n = 0; n < 2000; ++n) {
    if (n >= 1000 || n % 3 != 0) {
      want.push_back(std::to_string(n));
      continue;
    }
    want.push_back(std::to_string(n) + ".a");
    if (n % 9 != 0) want.push_back(std::to_string(n) + ".b");
    else ++dropped;
    want.push_back(std::to_string(n) + ".c");
  }
  CHECK(out.delivered == want);
  CHECK(in.tracker->acknowledged() == 2000);
  const core::ComponentStats* stage = p.stats()[1];
  REQUIRE(stage->component == "split");
  CHECK(stage->events_in.load() == 2000);
  CHECK(stage->events_out.load() == want.size());
  CHECK(stage->dropped_total() == dropped);
}
