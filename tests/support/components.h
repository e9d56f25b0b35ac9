// Builds one real component from its YAML, as the config loader would, for
// tests that drive it directly (an output's write() and its report, an
// input's run() with a TestInputContext), on the clock the test gives.
#pragma once

#include <doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/model.h"
#include "core/batch.h"
#include "core/clock.h"
#include "pipeline/component.h"

namespace bifrost::testing {

// An output built from `yaml` (one list item's keys, "type: http\n  url: ..."
// indented by two spaces after the first line), with the config it came from.
struct BuiltOutput {
  std::unique_ptr<config::Config> config;
  std::unique_ptr<pipeline::Output> output;
};

inline BuiltOutput build_output(const std::string& yaml, const std::string& data_dir = "/tmp",
                                core::Clock& clock = core::Clock::system()) {
  config::Diagnostics diag;
  std::string text = "data_dir: " + data_dir + "\ninputs: [{id: i, type: stdin}]\noutputs:\n  - id: out\n    " + yaml;
  auto cfg = config::load_text("test.yaml", text, diag);
  INFO(diag.render());
  REQUIRE(cfg);
  const auto& oc = cfg->pipelines.at(0).outputs.at(0);
  auto out = oc.spec->build(pipeline::BuildContext{"p", "out", data_dir, nullptr, &clock});
  return {std::move(cfg), std::move(out)};
}

// An input built from `yaml` (as for build_output: "type: file\n    paths: ...").
struct BuiltInput {
  std::unique_ptr<config::Config> config;
  std::unique_ptr<pipeline::Input> input;
};

inline BuiltInput build_input(const std::string& yaml, const std::string& data_dir,
                              core::Clock& clock = core::Clock::system()) {
  config::Diagnostics diag;
  std::string text =
      "data_dir: " + data_dir + "\ninputs:\n  - id: in\n    " + yaml + "\noutputs: [{id: o, type: stdout}]";
  auto cfg = config::load_text("test.yaml", text, diag);
  INFO(diag.render());
  REQUIRE(cfg);
  const auto& ic = cfg->pipelines.at(0).inputs.at(0);
  auto in = ic.spec->build(pipeline::BuildContext{"p", "in", data_dir, nullptr, &clock});
  return {std::move(cfg), std::move(in)};
}

// What an input's run() is given, in place of the pipeline: batches from a
// small pool; each published batch has its messages recorded and is
// finished at once (as if delivered: its ack completes). stop() makes the
// input return.
class TestInputContext final : public pipeline::InputContext {
 public:
  explicit TestInputContext(std::size_t batches = 4) : pool_(batches) { stats_.identify("p", "in", "input", "test"); }
  ~TestInputContext() override { stop(); }

  core::Batch* acquire() override { return pool_.acquire(); }
  core::Batch* acquire_for(std::chrono::milliseconds wait) override { return pool_.acquire_for(wait); }
  core::Batch* acquire_final() override { return pool_.acquire(/*even_closed=*/true); }
  void publish(core::Batch* batch) override {
    {
      std::lock_guard lock(mu_);
      ++published_;
      for (const core::Event& e : batch->events) messages_.emplace_back(e.message);
    }
    cv_.notify_all();
    batch->release();
  }
  bool stopping() const override { return stopping_.load(); }
  core::ComponentStats& stats() override { return stats_; }

  void stop() {
    stopping_.store(true);
    pool_.close();
  }
  // The messages published so far, and how many batches (empty ones too).
  std::vector<std::string> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  int published() const {
    std::lock_guard lock(mu_);
    return published_;
  }
  // Waits (real time, `limit` at most) until `done()` holds, looking again
  // at every publish and every few milliseconds; whether it holds.
  template <class F>
  bool wait_for(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) const {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  core::BatchPool pool_;
  core::ComponentStats stats_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> messages_;
  int published_ = 0;
};

// Runs `input` on a thread with `ctx` until the RunningInput goes.
class RunningInput {
 public:
  RunningInput(pipeline::Input& input, TestInputContext& ctx) : ctx_(ctx), thread_([&] { input.run(ctx); }) {}
  ~RunningInput() {
    ctx_.stop();
    thread_.join();
  }

 private:
  TestInputContext& ctx_;
  std::thread thread_;
};

// A batch of events with these messages (and a field `n`: the index),
// all selected for slot 0 and encoded by `out`.
class TestBatch {
 public:
  // `times`: the events' @timestamp (ns), one per message; 0 when absent.
  TestBatch(const std::vector<std::string>& messages, const pipeline::Output& out,
            const std::vector<std::int64_t>& times = {})
      : pool_(1) {
    batch_ = pool_.acquire();
    storage_ = messages;
    for (std::size_t i = 0; i < storage_.size(); ++i) {
      core::Event& e = batch_->events.emplace_back();
      e.message = storage_[i];
      e.offset = i;
      if (i < times.size()) e.timestamp_ns = times[i];
      core::set_field(e, *core::FieldPath::parse("n"), core::Value::integer(static_cast<std::int64_t>(i)),
                      batch_->arena);
    }
    batch_->slots.resize(1);
    for (std::uint32_t i = 0; i < storage_.size(); ++i) batch_->slots[0].selected.push_back(i);
    out.encode(*batch_, batch_->slots[0]);
  }
  ~TestBatch() { batch_->release(); }
  const core::Batch& batch() const { return *batch_; }
  const core::OutputSlot& slot() const { return batch_->slots[0]; }

  // write() once; the report.
  pipeline::DeliveryReport write(pipeline::Output& out) const {
    pipeline::DeliveryReport report;
    report.reset(slot().selected.size());
    out.write(*batch_, slot(), report);
    return report;
  }

 private:
  core::BatchPool pool_;
  core::Batch* batch_;
  std::vector<std::string> storage_;
};

}  // namespace bifrost::testing
