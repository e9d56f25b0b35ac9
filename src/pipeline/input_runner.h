// The pipeline's side of one input: the input's thread, its batch pool (the
// memory bound, and the backpressure: an input that gets no free batch
// stops reading), its stats and tap. Published batches go to the
// pipeline's queue, which the workers pop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "core/batch.h"
#include "core/clock.h"
#include "core/stats.h"
#include "pipeline/component.h"
#include "pipeline/queue.h"
#include "pipeline/tap.h"

namespace bifrost::pipeline {

class InputRunner final : public InputContext {
 public:
  // What the runner shares with its pipeline, which outlives it.
  struct Shared {
    const std::atomic<bool>& stopping;   // stop_inputs() was called
    const core::Interruptible& give_up;  // drain gave up: no more batches, even final ones
    BoundedQueue<core::Batch*>& queue;   // to the workers
    core::Clock& clock;
  };
  InputRunner(std::size_t batches, Shared shared) : pool_(batches), shared_(shared) {}
  ~InputRunner() override { join(); }

  // Before start(): the input, built with this runner's stats.
  void set_input(std::unique_ptr<Input> input) { input_ = std::move(input); }
  Input& input() const { return *input_; }
  TapPoint& tap() { return tap_; }

  // Starts the input's thread; `on_end` runs on it when run() returns.
  void start(const std::function<void()>& on_end);
  bool finished() const { return finished_.load(); }
  // Its input returned from run() by itself (a finite input at its end),
  // not because the pipeline was stopping.
  bool ended() const { return ended_.load(); }
  // Wakes the input if it waits for a batch; `final`: even its last ones.
  void close_pool(bool final = false) { pool_.close(final); }
  bool wait_all_returned(std::chrono::steady_clock::time_point deadline) { return pool_.wait_all_returned(deadline); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  // InputContext, on the input's thread.
  core::Batch* acquire() override;
  core::Batch* acquire_for(std::chrono::milliseconds wait) override;
  core::Batch* acquire_final() override;
  void publish(core::Batch* batch) override;
  bool stopping() const override { return shared_.stopping.load(std::memory_order_relaxed); }
  core::ComponentStats& stats() override { return stats_; }

 private:
  std::unique_ptr<Input> input_;
  core::BatchPool pool_;
  Shared shared_;
  core::ComponentStats stats_;
  TapPoint tap_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> ended_{false};
  bool held_back_ = false;  // the input's thread only
  void held_back(bool on);
};

}  // namespace bifrost::pipeline
