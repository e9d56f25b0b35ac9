#include <doctest.h>

#include <thread>
#include <vector>

#include "api/metrics.h"
#include "config/registry.h"
#include "core/stats.h"
#include "pipeline/runtime.h"
#include "pipeline/tap.h"
#include "support/fake_clock.h"
#include "support/fakes.h"

using namespace bifrost;
using namespace std::chrono_literals;

namespace {

// The value of the one sample of `name` in the exposition `text`.
double sample_of(const std::string& text, const std::string& name) {
  std::size_t at = text.find("\n" + name + "{");
  REQUIRE_MESSAGE(at != std::string::npos, name);
  std::size_t space = text.find("} ", at);
  return std::stod(text.substr(space + 2, text.find('\n', space) - space - 2));
}

}  // namespace

TEST_CASE("histograms put each observation in the first bucket that holds it") {
  core::Histogram h;
  h.observe(0.0001);
  h.observe(0.003);
  h.observe(100);
  CHECK(h.bucket(0) == 1);
  CHECK(h.bucket(3) == 1);  // 0.0025 < 0.003 <= 0.005
  CHECK(h.bucket(core::Histogram::kBounds.size()) == 1);
  CHECK(h.count() == 3);
  CHECK(h.sum() == doctest::Approx(100.0031));
}

TEST_CASE("drop reasons are counted without a lock, past the slots as other") {
  core::ComponentStats s;
  static const char* reasons[] = {"r0", "r1",  "r2",  "r3",  "r4",  "r5",  "r6",  "r7", "r8",
                                  "r9", "r10", "r11", "r12", "r13", "r14", "r15", "r16"};
  for (const char* r : reasons) s.add_dropped(r, 2);
  s.add_dropped("r3", 1);
  auto d = s.dropped();
  REQUIRE(d.size() == 17);
  CHECK(d[3] == std::pair<std::string, std::uint64_t>("r3", 3));
  CHECK(d.back() == std::pair<std::string, std::uint64_t>("other", 2));
  CHECK(s.dropped_total() == 35);
}

TEST_CASE("the exposition without pipelines still names every contract metric") {
  api::Metrics metrics([] { return std::shared_ptr<pipeline::Runtime>(); },
                       config::declared_metric_families(config::components()));
  std::string text = metrics.render();
  for (const char* name :
       {"bifrost_events_in_total", "bifrost_events_out_total", "bifrost_events_dropped_total",
        "bifrost_events_failed_total", "bifrost_retries_total", "bifrost_bytes_in_total", "bifrost_bytes_out_total",
        "bifrost_queue_events", "bifrost_buffer_bytes", "bifrost_file_lag_bytes", "bifrost_kafka_consumer_lag",
        "bifrost_checkpoint_duration_seconds", "bifrost_output_request_duration_seconds", "bifrost_build_info"}) {
    CHECK_MESSAGE(text.find(std::string("# TYPE ") + name + " ") != std::string::npos, name);
  }
  CHECK(text.find("bifrost_build_info{version=\"") != std::string::npos);
}

TEST_CASE("a tap listener takes matching events up to its limit and drops what does not fit") {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  for (int i = 0; i < 10; ++i) {
    core::Event& e = b->events.emplace_back();
    e.message = i % 2 ? "odd" : "even";
  }
  std::vector<std::uint32_t> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

  pipeline::TapPoint point;
  CHECK_FALSE(point.active());
  auto limited = std::make_shared<pipeline::TapListener>(
      std::get<expr::Condition>(expr::Condition::parse("message == 'odd'")), 3, 1 << 20);
  auto tiny = std::make_shared<pipeline::TapListener>(std::nullopt, UINT64_MAX, 1);  // full after one event
  point.attach(limited);
  point.attach(tiny);
  CHECK(point.active());
  CHECK(point.publish(*b, all) == 9);  // tiny took one, dropped nine

  std::string out;
  CHECK(limited->take(out, std::chrono::milliseconds(0)));
  CHECK(std::count(out.begin(), out.end(), '\n') == 3);
  CHECK(out.find("\"message\":\"even\"") == std::string::npos);
  CHECK_FALSE(limited->take(out, std::chrono::milliseconds(0)));  // limit reached: finished
  CHECK(tiny->dropped() == 9);
  point.detach(limited);
  point.detach(tiny);
  CHECK_FALSE(point.active());
  b->release();
}

TEST_CASE("a tap with a rate shows at most that many events a second and skips the rest, counted") {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  std::vector<std::uint32_t> all;
  for (std::uint32_t i = 0; i < 100; ++i) {
    b->events.emplace_back().message = "m";
    all.push_back(i);
  }
  pipeline::TapPoint point;
  auto l = std::make_shared<pipeline::TapListener>(std::nullopt, UINT64_MAX, 1 << 20, 5);
  point.attach(l);
  CHECK(point.publish(*b, all) == 95);
  CHECK(point.publish(*b, all) == 100);  // same second: nothing more
  std::string out;
  CHECK(l->take(out, std::chrono::milliseconds(0)));
  CHECK(std::count(out.begin(), out.end(), '\n') == 5);
  // Rare matches: at most 100 x rate events are looked at in a second.
  auto rare = std::make_shared<pipeline::TapListener>(
      std::get<expr::Condition>(expr::Condition::parse("message == 'never'")), UINT64_MAX, 1 << 20, 1);
  point.attach(rare);
  point.publish(*b, all);
  CHECK(rare->dropped() == 0);  // 100 looked at: the budget
  point.publish(*b, all);
  CHECK(rare->dropped() == 100);  // over it: skipped
  point.detach(l);
  point.detach(rare);
  b->release();
}

TEST_CASE("a sharded counter sums exactly what many threads added") {
  core::Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {  // more threads than shards: some share one
    threads.emplace_back([&c] {
      for (int i = 0; i < 100'000; ++i) c.add(3);
    });
  }
  for (auto& t : threads) t.join();
  CHECK(c.load() == 12u * 100'000u * 3u);
}

TEST_CASE("the backpressure seconds are read on the pipeline's clock, on which they were started") {
  testing::FakeInputState in;
  in.batches = 20;
  testing::FakeOutputState out;
  out.gate_open = false;
  testing::FakePipeline t(in, {&out});
  testing::FakeClock clock;
  pipeline::Runtime rt;
  rt.pipelines.push_back(
      std::make_unique<pipeline::Pipeline>(t.topology, pipeline::PipelineOptions{.workers = 2, .clock = &clock}));
  pipeline::Pipeline& p = *rt.pipelines.back();
  const core::ComponentStats& input = *p.stats().front();
  const core::ComponentStats& output = *p.stats().back();
  p.start();
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (!(input.blocked.running() && output.blocked.running()) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE((input.blocked.running() && output.blocked.running()));
  clock.advance(3s);
  api::Metrics metrics([&] { return std::shared_ptr<pipeline::Runtime>(std::shared_ptr<void>(), &rt); }, {});
  const std::string text = metrics.render();
  CHECK(sample_of(text, "bifrost_input_blocked_seconds_total") == doctest::Approx(3.0));
  CHECK(sample_of(text, "bifrost_output_queue_full_seconds_total") == doctest::Approx(3.0));
  out.open_gate();
  p.stop_inputs();
  CHECK(p.drain(std::chrono::steady_clock::now() + 5s));
}

TEST_CASE("the metrics read, at each scrape, the runtime the source gives then (a reload swaps it)") {
  testing::FakeInputState in;
  testing::FakeOutputState out;
  testing::FakePipeline t(in, {&out});
  std::shared_ptr<pipeline::Runtime> current;
  api::Metrics metrics([&] { return current; }, {});
  const std::string before = metrics.render();
  CHECK(before.find("bifrost_events_in_total{") == std::string::npos);  // nothing runs: no samples
  CHECK(before.find("# TYPE bifrost_events_in_total counter") != std::string::npos);
  current = std::make_shared<pipeline::Runtime>();
  current->pipelines.push_back(std::make_unique<pipeline::Pipeline>(t.topology));
  const std::string after = metrics.render();
  CHECK(after.find("bifrost_events_in_total{pipeline=\"test\",component=\"in\"} 0") != std::string::npos);
  CHECK(after.find("bifrost_build_info{version=\"") != std::string::npos);  // its labels in their order
  CHECK(after.find("\nprocess_cpu_seconds_total ") != std::string::npos);
}
