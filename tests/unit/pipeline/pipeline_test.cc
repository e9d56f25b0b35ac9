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

#include "core/codec.h"
#include "delivery/failed_queue.h"
#include "pipeline/pipeline.h"

using namespace bifrost;
using namespace std::chrono_literals;

namespace {

// An input that publishes `batches` batches of `per_batch` events numbered
// from 0, acknowledging position = number of events published.
struct FakeInputState {
  int batches = 10;
  int per_batch = 100;
  std::shared_ptr<core::AckTracker> tracker = std::make_shared<core::AckTracker>();
  std::atomic<int> published{0};
  std::deque<std::string> storage;  // message bytes, stable
};

class FakeInput final : public pipeline::Input {
 public:
  explicit FakeInput(FakeInputState& s) : s_(s) {
    for (int i = 0; i < s_.batches * s_.per_batch; ++i) s_.storage.push_back(std::to_string(i));
  }
  void run(pipeline::InputContext& ctx) override {
    int n = 0;
    for (int b = 0; b < s_.batches; ++b) {
      core::Batch* batch = ctx.acquire();
      if (!batch) return;
      for (int i = 0; i < s_.per_batch; ++i, ++n) {
        core::Event& e = batch->events.emplace_back();
        e.message = s_.storage[static_cast<std::size_t>(n)];
        e.offset = static_cast<std::uint64_t>(n);
        core::set_field(e, *core::FieldPath::parse("n"), core::Value::integer(n), batch->arena);
      }
      batch->tracker = s_.tracker;
      batch->ack_seq = s_.tracker->track(static_cast<std::uint64_t>(n));
      ctx.publish(batch);
      s_.published++;
    }
  }

 private:
  FakeInputState& s_;
};

struct FakeInputSpec final : pipeline::InputSpec {
  FakeInputState* state;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext&) const override {
    return std::make_unique<FakeInput>(*state);
  }
};

// An output that records what it delivered; can hold writes at a gate and
// ask for a retry of given messages on their first attempt.
struct FakeOutputState {
  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = true;
  std::vector<std::string> delivered;
  std::set<std::string> fail_once;
  std::set<std::string> failed_already;
  std::set<std::string> reject;       // rejected (permanent) every time
  std::set<std::string> fail_always;  // retry (transient) every time
  int writes = 0;
};

class FakeOutput final : public pipeline::Output {
 public:
  explicit FakeOutput(FakeOutputState& s) : s_(s) {}
  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    core::encode_slot(batch, slot, core::Codec::kText);
  }
  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    std::unique_lock lock(s_.mu);
    s_.cv.wait(lock, [&] { return s_.gate_open; });
    s_.writes++;
    for (std::size_t i = 0; i < slot.selected.size(); ++i) {
      std::string m(batch.events[slot.selected[i]].message);
      if (s_.reject.count(m)) {
        report.set(i, pipeline::Outcome::kRejected, "bad event " + m);
        continue;
      }
      if (s_.fail_always.count(m)) {
        report.set(i, pipeline::Outcome::kRetry, "down");
        continue;
      }
      if (s_.fail_once.count(m) && !s_.failed_already.count(m)) {
        s_.failed_already.insert(m);
        report.set(i, pipeline::Outcome::kRetry, "try again");
        continue;
      }
      // The encoded bytes for i must be this event's line.
      std::size_t begin = i == 0 ? 0 : slot.ends[i - 1];
      CHECK(slot.encoded.substr(begin, slot.ends[i] - begin) == m + "\n");
      s_.delivered.push_back(m);
    }
  }

 private:
  FakeOutputState& s_;
};

struct FakeOutputSpec final : pipeline::OutputSpec {
  FakeOutputState* state;
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext&) const override {
    return std::make_unique<FakeOutput>(*state);
  }
};

config::PipelineConfig make(FakeInputState& in, std::vector<FakeOutputState*> outs,
                            std::vector<const char*> whens = {}) {
  config::PipelineConfig p;
  p.id = "test";
  auto is = std::make_unique<FakeInputSpec>();
  is->state = &in;
  p.inputs.push_back(config::InputConfig{"in", "fake", {}, std::nullopt, {}, std::move(is)});
  for (std::size_t k = 0; k < outs.size(); ++k) {
    auto os = std::make_unique<FakeOutputSpec>();
    os->state = outs[k];
    std::optional<expr::Condition> when;
    if (k < whens.size() && whens[k]) when = std::move(std::get<expr::Condition>(expr::Condition::parse(whens[k])));
    p.outputs.push_back(
        config::OutputConfig{"out" + std::to_string(k), "fake", {}, std::move(when), {}, std::move(os)});
  }
  return p;
}

// A global config whose data_dir is a fresh temporary directory (removed at exit).
config::Config test_global() {
  struct Cleanup {
    std::vector<std::string> dirs;
    ~Cleanup() {
      for (const auto& d : dirs) std::filesystem::remove_all(d);
    }
  };
  static Cleanup cleanup;
  config::Config c;
  char tmpl[] = "/tmp/bifrost-pipeline-XXXXXX";
  c.data_dir = ::mkdtemp(tmpl);
  cleanup.dirs.push_back(c.data_dir);
  return c;
}

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
  config::Config global = test_global();
  auto cfg = make(in, {&a, &b});
  pipeline::Pipeline p(cfg, global, {.workers = 4, .batches_per_input = 8, .output_queue_batches = 2});
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
  config::Config global = test_global();
  auto cfg = make(in, {&out});
  pipeline::Pipeline p(cfg, global, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
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
  config::Config global = test_global();
  auto cfg = make(in, {&fast, &slow});
  pipeline::Pipeline p(cfg, global, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] {
    std::lock_guard l(fast.mu);
    return fast.delivered.size() == 100;
  }));
  std::this_thread::sleep_for(50ms);
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
  config::Config global = test_global();
  auto cfg = make(in, {&a});
  pipeline::Pipeline p(cfg, global, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
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
  config::Config global = test_global();
  auto cfg = make(in, {&big, &none}, {"n >= 150", "n < 0"});
  pipeline::Pipeline p(cfg, global, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
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
  config::Config global = test_global();
  auto cfg = make(in, {&blocked});
  pipeline::Pipeline p(cfg, global, {.workers = 2, .batches_per_input = 6, .output_queue_batches = 2});
  p.start();
  std::this_thread::sleep_for(200ms);
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
  config::Config global = test_global();
  auto cfg = make(in, {&stuck});
  cfg.outputs[0].delivery.retry.initial_backoff_ns = 2'000'000'000;
  cfg.outputs[0].delivery.retry.max_backoff_ns = 2'000'000'000;
  pipeline::Pipeline p(cfg, global, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] { return p.inputs_finished(); }));
  p.stop_inputs();
  // The retry backoff (up to 2 s, full jitter) very likely outlasts this deadline.
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
  config::Config global = test_global();
  auto cfg = make(in, {&a});
  cfg.outputs[0].delivery.retry = {3, 1'000'000, 2'000'000};  // 3 attempts, 1-2 ms apart
  pipeline::Pipeline p(cfg, global, {.workers = 2, .batches_per_input = 4, .output_queue_batches = 2});
  p.start();
  REQUIRE(wait_for([&] { return in.tracker->acknowledged() == 200; }));
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
  CHECK(a.delivered.size() == 197);
  auto records = lines_of(global.data_dir + "/failed/test/out0");
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
