// One output of a pipeline and what delivers to it: the queue of batches
// routed to it, its thread, the retry policy (backoff, attempts, circuit
// breaker), its failed queue, and with `buffer.type: disk` a BufferedOutput
// in front of the sink.
//
// Threads: workers call route() (in parallel) and, one at a time, enqueue();
// the output's own thread runs the output loop (or the buffer's writer and
// sender, see buffered_output.h) and is the only one to call the Output's
// write/begin/end/flush/close. drain() (the pipeline's) calls the rest.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/batch.h"
#include "core/clock.h"
#include "core/stats.h"
#include "core/time.h"
#include "delivery/failed_queue.h"
#include "delivery/retry_policy.h"
#include "pipeline/component.h"
#include "pipeline/queue.h"
#include "pipeline/tap.h"
#include "pipeline/topology.h"

namespace bifrost::pipeline {

class BufferedOutput;

// A batch queued for an output: its slot `slot` holds what was routed to it.
struct Delivery {
  core::Batch* batch;
  std::size_t slot;
};

class OutputRunner {
 public:
  // `queue_capacity`: batches its queue holds; `all_batches`: how many the
  // pipeline's inputs can have at once. When the output holds them all
  // (queued, or on their way in its window), its queue counts as full: the
  // inputs are held back by it (bifrost_output_queue_full_seconds_total).
  // `exactly_once`: the pipeline's, handed to the output it builds (may be null).
  OutputRunner(const OutputNode& node, const std::string& pipeline, const std::string& data_dir,
               std::size_t queue_capacity, std::size_t all_batches, core::Clock& clock,
               ExactlyOnce* exactly_once = nullptr);
  ~OutputRunner();
  OutputRunner(const OutputRunner&) = delete;
  OutputRunner& operator=(const OutputRunner&) = delete;

  // A worker: selects the events of `batch` this output takes (`when:`) into
  // slot.selected and encodes them. False when it takes none.
  bool route(const core::Batch& batch, core::OutputSlot& slot);
  // The dispatching worker: queues a batch (one of its references is this
  // output's from now). False when the queue is closed: the batch is not
  // taken.
  bool enqueue(Delivery d);

  void start();
  // drain(): no more batches (the output finishes what it has, then stops).
  void close_queue() { queue_.close(); }
  // drain(): stop retrying and waiting; what is undelivered is abandoned
  // (not acknowledged: read again at the next start).
  void give_up() { pause_.interrupt(); }
  // Its threads are done (for a disk buffer: the buffer is sent).
  bool done() const { return done_.load(); }
  bool buffered() const { return buffered_ != nullptr; }
  std::uint64_t buffer_bytes() const;
  void join();

  core::ComponentStats& stats() { return stats_; }
  TapPoint& tap() { return tap_; }

  // The output's thread (or a buffer's deliverer): delivers one batch, with
  // retries of only what failed and rejections parked; releases the batch.
  // `reported`: the first attempt was made (begin/end of a pipelined output)
  // and the report holds its outcomes.
  void deliver(Delivery d, bool reported = false);

 private:
  friend class BufferedOutput;
  void run();
  void run_pipelined(std::size_t window);
  void collect_failed(const core::Batch& batch, const core::OutputSlot& slot, Outcome which, int attempt,
                      std::string_view prefix);
  void park(core::Batch& batch);
  // After each attempt: the circuit breaker's verdict, logged.
  void note_attempt(delivery::RetryPolicy::Tries& tries, bool progress, bool retry);

  // Settles what the output holds past write() (Outcome::kHeld).
  class Held final : public Settlement {
   public:
    explicit Held(OutputRunner& r) : r_(r) {}
    void delivered(Tries& tries, std::size_t events, std::uint64_t bytes) override;
    Next failed(Tries& tries, std::size_t events, std::string_view reason) override;
    void rejected(Tries& tries, std::size_t events, std::string_view reason) override;
    bool park(const core::Batch& batch, std::span<const std::uint32_t> selected, std::string_view reason,
              int attempts) override;
    bool retry_disk_write(const std::function<bool()>& write) override {
      return delivery::retry_disk_write(r_.pause_, write);
    }

   private:
    OutputRunner& r_;
    std::string records_;  // apart from the runner's: settling may happen inside a write()
  };

  std::string pipeline_;
  core::Clock& clock_;
  core::ComponentStats stats_;
  std::unique_ptr<Output> output_;
  const expr::Condition* when_;
  BoundedQueue<Delivery> queue_;
  TapPoint tap_;
  core::Interruptible pause_;  // backoffs; interrupted by give_up()
  delivery::RetryPolicy retry_;
  std::unique_ptr<delivery::FailedQueue> failed_;
  std::unique_ptr<BufferedOutput> buffered_;  // null: memory only
  std::thread thread_;
  std::atomic<bool> done_{false};
  // Scratch reused across deliveries: no allocation per batch once warm.
  DeliveryReport report_;
  core::OutputSlot retry_a_, retry_b_;
  std::string records_;  // failed-queue records of the batch being delivered
  std::size_t parked_ = 0;
  core::Rfc3339Cache time_cache_;
  Held held_{*this};
};

}  // namespace bifrost::pipeline
