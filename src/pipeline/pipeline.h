// One running pipeline: its inputs, filter chain, router and outputs.
//
// Threads: one per input (input_runner.h); `workers` pipeline workers that
// run the filter stages (filter_stage.h), route and encode, in parallel,
// one batch each; one per output that writes (output_runner.h; three with
// a disk buffer, buffered_output.h). Batches reach the outputs strictly in
// the order the inputs published them (by pop sequence; a worker that
// finishes one out of turn leaves it for the worker dispatching and goes
// on), so events of one source reach every output in read order.
//
// Stateful stages (component.h): the stages before the first one run on
// the workers in parallel; the first stateful stage, every stage after it,
// the routing and the encoding run at that ordered point, on whichever
// worker dispatches, one batch at a time in pop order. A `tick` thread
// takes the same turn every tick_interval() so that stateful stages see
// time pass (an aggregate closes its windows) when no batch comes. What a
// stateful stage emits goes through the stages after it and the outputs
// at once, still on the turn.
//
// Memory is bounded by each input's BatchPool: a slow output keeps the
// batches it has not finished, which blocks the inputs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/stats.h"
#include "pipeline/exactly_once.h"
#include "pipeline/filter_stage.h"
#include "pipeline/input_runner.h"
#include "pipeline/output_runner.h"
#include "pipeline/queue.h"
#include "pipeline/tap.h"
#include "pipeline/topology.h"

namespace bifrost::pipeline {

struct PipelineOptions {
  std::size_t workers = 0;             // 0: one per core, at least 2
  std::size_t batches_per_input = 16;  // the memory bound, in batches
  // 0: room for every batch of every input, so a worker never waits to hand
  // a batch over (the pools bound memory; a slow output still holds the
  // inputs back by keeping their batches).
  std::size_t output_queue_batches = 0;
  // What backoffs, flush intervals and the time metrics use; null: the
  // system's steady clock. Tests pass a fake one.
  core::Clock* clock = nullptr;
};

class Pipeline {
 public:
  // Builds every component of `topology` (which outlives the pipeline).
  // Throws when one cannot be built: this is start-up, where exceptions are
  // the rule (not the data path), nothing runs yet that would have to be
  // undone, and the app reports it (on reload, the old pipelines go on).
  explicit Pipeline(const Topology& topology, PipelineOptions options = {});
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
  // The deadline is real time (steady_clock), not the pipeline's clock: it
  // is the operator's shutdown_timeout, and it must bound a drain even when
  // a test's fake clock stands still, or jumps to every deadline it waits
  // for (which would make a drain give up at once).
  bool drain(std::chrono::steady_clock::time_point deadline);

  const std::string& id() const { return id_; }
  // What its components' time is read from (the stopwatches of the
  // backpressure metrics are started and read on it).
  core::Clock& clock() const { return clock_; }
  std::vector<const core::ComponentStats*> stats() const;
  // The tap after component `id`, or nullptr when there is no such component.
  TapPoint* tap(const std::string& id);
  const TapPoint* tap(const std::string& id) const { return const_cast<Pipeline*>(this)->tap(id); }

 private:
  void worker_loop();
  void process(core::Batch& batch, std::vector<std::uint32_t>& scratch);
  void dispatch(core::Batch* batch);
  void hand_over(std::uint64_t seq, core::Batch* batch);
  // On the turn: stages [from, end), routing and encoding, then the outputs.
  void run_ordered(std::size_t from, core::Batch* batch);
  void route(core::Batch& batch);
  // Runs `f` on the turn (waiting for the worker that has it), then
  // dispatches what the workers finished meanwhile.
  template <class F>
  void with_turn(F&& f);
  // Dispatches the finished batches that are next in turn; `lock` holds turn_mu_.
  void dispatch_in_turn(std::unique_lock<std::mutex>& lock);
  void ticker_loop();
  bool has_stateful() const { return first_stateful_ < filters_.size(); }

  std::string id_;
  PipelineOptions options_;
  core::Clock& clock_;
  std::unique_ptr<ExactlyOnce> exactly_once_;  // when an output commits the inputs' positions; outlives them
  std::function<void()> on_input_end_;
  std::atomic<bool> stopping_{false};
  core::Interruptible give_up_;  // drain gave up: inputs get no more batches, nothing waits to retry
  BoundedQueue<core::Batch*> in_queue_;
  std::vector<std::unique_ptr<InputRunner>> inputs_;
  std::vector<std::unique_ptr<FilterStage>> filters_;
  std::vector<std::unique_ptr<OutputRunner>> outputs_;

  std::size_t first_stateful_ = 0;  // filters_.size(): none

  std::vector<std::thread> workers_;
  std::mutex turn_mu_;
  std::condition_variable turn_free_;  // dispatching_ went false (the ticker waits for the turn)
  std::uint64_t turn_ = 0;             // the pop sequence of the next batch to dispatch
  bool dispatching_ = false;
  std::deque<std::vector<std::uint32_t>> ordered_scratch_;  // on the turn, one per nesting of emits (stable)
  std::size_t ordered_depth_ = 0;
  std::thread ticker_;
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;
  std::vector<std::pair<std::uint64_t, core::Batch*>> finished_;  // processed, not yet in turn
  bool started_ = false;
  bool drained_ = false;
};

}  // namespace bifrost::pipeline
