// One running pipeline: its inputs, filter chain, router and outputs.
//
// Threads: one per input; `workers` pipeline workers that run filters,
// route and encode (in parallel, one batch each); one per output that
// writes. Batches reach the outputs strictly in the order the inputs
// published them (by pop sequence; a worker that finishes one out of turn
// leaves it for the worker dispatching and goes on), so events of one
// source reach every output in read order.
//
// Memory is bounded by each input's BatchPool: a slow output keeps the
// batches it has not finished, which blocks the inputs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "config/model.h"
#include "pipeline/component.h"
#include "pipeline/queue.h"
#include "pipeline/stats.h"
#include "pipeline/tap.h"

namespace bifrost::pipeline {

struct PipelineOptions {
  std::size_t workers = 0;             // 0: one per core, at least 2
  std::size_t batches_per_input = 16;  // the memory bound, in batches
  // 0: room for every batch of every input, so a worker never waits to hand
  // a batch over (the pools bound memory; a slow output still holds the
  // inputs back by keeping their batches).
  std::size_t output_queue_batches = 0;
};

class Pipeline {
 public:
  Pipeline(const config::PipelineConfig& cfg, const config::Config& global, PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void start();
  // Stops reading: inputs return from run() soon after.
  void stop_inputs();
  // True once every input thread has returned (stopped, or its input ended).
  bool inputs_finished() const;
  // Called on an input's thread when that input has ended (stdin at end of
  // file), so that whoever waits for inputs_finished() looks at once. Set
  // before start().
  void on_input_end(std::function<void()> f) { on_input_end_ = std::move(f); }
  // Waits for the inputs to return and everything they published to be
  // finished, then stops workers and outputs. Past `deadline`, outputs give
  // up (what is undelivered stays unacknowledged) and this returns false.
  bool drain(std::chrono::steady_clock::time_point deadline);

  const std::string& id() const { return id_; }
  std::vector<const ComponentStats*> stats() const;
  // The tap after component `id`, or nullptr when there is no such component.
  TapPoint* tap(const std::string& id);
  const TapPoint* tap(const std::string& id) const { return const_cast<Pipeline*>(this)->tap(id); }

 private:
  struct InputRunner;
  struct FilterStage;
  struct OutputRunner;
  struct Delivery {
    core::Batch* batch;
    std::size_t slot;
  };

  void worker_loop();
  static std::uint64_t count_dropped(ComponentStats& stats, const core::Batch& batch,
                                     std::span<const std::uint32_t> sel);
  void tap_events(TapPoint& tap, ComponentStats& stats, const core::Batch& batch,
                  std::span<const std::uint32_t> events);
  void process(core::Batch& batch, std::vector<std::uint32_t>& scratch);
  void dispatch(core::Batch* batch);
  void hand_over(std::uint64_t seq, core::Batch* batch);
  void output_loop(OutputRunner& out);
  void pipelined_loop(OutputRunner& out, std::size_t window);
  void buffer_loop(OutputRunner& out);
  void sender_loop(OutputRunner& out);
  // `reported`: the first attempt was made already (begin/end of a
  // pipelined output) and out's report holds its outcomes.
  void deliver(OutputRunner& out, Delivery d, bool reported = false);
  void collect_failed(OutputRunner& o, const core::Batch& batch, const core::OutputSlot& slot, Outcome which,
                      int attempt, std::string_view prefix);
  void park(OutputRunner& o, core::Batch& batch);
  static bool breaker_open(const OutputRunner& o);
  std::uint64_t park_rejected(FilterStage& stage, core::Batch& batch, std::span<const std::uint32_t> sel);

  std::string id_;
  PipelineOptions options_;
  std::function<void()> on_input_end_;
  std::vector<std::unique_ptr<InputRunner>> inputs_;
  std::vector<std::unique_ptr<FilterStage>> filters_;
  std::vector<std::unique_ptr<OutputRunner>> outputs_;

  BoundedQueue<core::Batch*> in_queue_;
  std::vector<std::thread> workers_;
  std::mutex turn_mu_;
  std::uint64_t turn_ = 0;  // the pop sequence of the next batch to dispatch
  bool dispatching_ = false;
  std::vector<std::pair<std::uint64_t, core::Batch*>> finished_;  // processed, not yet in turn
  std::atomic<bool> stopping_{false};
  std::atomic<bool> abandoned_{false};  // drain gave up: inputs get no more batches
  bool started_ = false;
  bool drained_ = false;
};

}  // namespace bifrost::pipeline
