// The interfaces every input, filter and output implements. A component is
// a folder under src/{inputs,filters,outputs}/<type>/ with:
//   - a config struct deriving from InputSpec / FilterSpec /
//     StatefulStageSpec / OutputSpec, parsed from YAML by a pure function
//     (no files, no sockets);
//   - the runtime object that Spec::build() makes;
// and one line in src/components.cc. Nothing in core/ or pipeline/ changes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "core/clock.h"
#include "core/stats.h"
#include "delivery/retry_policy.h"
#include "expr/condition.h"

namespace bifrost::pipeline {

class ExactlyOnce;

struct BuildContext {
  std::string pipeline;
  std::string component;
  std::string data_dir;  // empty for `bifrost test`: a stateful stage keeps no state then
  // The component's counters, owned by the pipeline and alive as long as the
  // component: where it publishes its own series (SeriesSet). May be null
  // (bifrost test, bifrost replay).
  core::ComponentStats* stats = nullptr;
  // The pipeline's clock: what a component reads the time from and waits on
  // for its own timeouts (idle files, multiline flushes, housekeeping), so
  // tests can drive them with a fake one. Never null; outlives the component.
  core::Clock* clock = &core::Clock::system();
  // Set when an output of the pipeline commits the inputs' positions in its
  // transactions (exactly_once.h): the inputs join it and commit nothing
  // themselves, the committing output claims it. Null otherwise (and for
  // bifrost test, bifrost replay).
  ExactlyOnce* exactly_once = nullptr;
};

// ---- inputs -------------------------------------------------------------

// What the pipeline gives an input's thread.
class InputContext {
 public:
  virtual ~InputContext() = default;
  // A free batch from the input's pool (the caller holds its one reference),
  // or nullptr once the pipeline is stopping. Blocks while all are in use:
  // that is the backpressure.
  virtual core::Batch* acquire() = 0;
  // Like acquire(), but nullptr when no batch is freed within `wait`: for an
  // input that must keep serving its source while held back (the Kafka
  // consumer pauses its partitions and keeps polling).
  virtual core::Batch* acquire_for(std::chrono::milliseconds wait) = 0;
  // While stopping: a batch for the last events an input must still publish
  // (a partial line completed, a pending multiline event). Waits for one to
  // be free; nullptr only when the pipeline has given up on delivery.
  virtual core::Batch* acquire_final() = 0;
  // Hands a filled batch to the filters. The caller gives up its reference.
  virtual void publish(core::Batch* batch) = 0;
  // True once the input should stop reading and return from run().
  virtual bool stopping() const = 0;
  virtual core::ComponentStats& stats() = 0;
};

class Input : public core::BatchOrigin {
 public:
  // Runs on the input's own thread. Returns when the input has ended (a
  // finite input at its end) or soon after ctx.stopping() turns true.
  virtual void run(InputContext& ctx) = 0;
  // Once, after the pipeline has drained (run() has returned and every batch
  // is finished or given up): the place to save the final checkpoint.
  virtual void drained() {}
  void decorate(core::Batch&) const override {}
};

// ---- filters ------------------------------------------------------------

class Filter {
 public:
  virtual ~Filter() = default;
  // Runs on pipeline worker threads, concurrently for different batches, so
  // it must not change the filter. `events` are the indexes of the events
  // this stage applies to (live, and matching the stage's `when:`). A filter
  // drops an event by setting its drop_reason; it never loses one silently.
  virtual void process(core::Batch& batch, std::span<const std::uint32_t> events) const = 0;

  // For a filter that turns one event into several, or into none (parse_influx:
  // a record holding many lines of line protocol, one event each). The
  // stage calls expand() rather than process(); the default is process().
  // `events` holds the stage's selection, as for process(). An expanding
  // filter rebuilds batch.events (EventSplice does the bookkeeping): each
  // selected event is replaced, in its place, by the events made of it,
  // and every other event stays as it was, in order, so the source's order
  // holds. On return `events` holds the indexes of the events made of the
  // selected ones, in order: the stage counts their drops and parks their
  // rejections. The new events live in the batch (its arena and chunk) and
  // share its one acknowledgement, like every event of it: the source's
  // offset moves only when all of them are finished.
  virtual void expand(core::Batch& batch, std::vector<std::uint32_t>& events) const { process(batch, events); }
};

// Rebuilds a batch's events for Filter::expand(), keeping the order, with
// no allocation once its thread's scratch has grown:
//   EventSplice splice(batch, events);
//   for (std::size_t k = 0; k < events.size(); ++k) {
//     const core::Event& from = splice.at(k);  // selected event k, as it was
//     for (each piece) { core::Event& e = splice.add(from); ... }
//   }
//   splice.finish();  // batch.events and `events` hold the result
// Selected events are visited in order (k ascending), each once; one that
// gets no add() is gone (a filter must not lose one silently: it adds it
// back, dropped with a reason, when it means to drop it). References
// returned by add() hold until the next add().
class EventSplice {
 public:
  EventSplice(core::Batch& batch, std::vector<std::uint32_t>& selected);
  EventSplice(const EventSplice&) = delete;
  EventSplice& operator=(const EventSplice&) = delete;
  // Selected event k as it was; events before it that were not selected
  // are carried across first.
  const core::Event& at(std::size_t k);
  // A new event in the place of the current selected one, a copy of `from`.
  core::Event& add(const core::Event& from);
  void finish();

 private:
  core::Batch& batch_;
  std::vector<std::uint32_t>& selected_;
  std::vector<core::Event>& out_;     // this thread's scratch: the new events
  std::vector<std::uint32_t>& made_;  // this thread's scratch: the new selection
  std::size_t next_ = 0;              // the first old event not yet carried across
};

// Selects the live events of `batch` that match `when` (all live ones
// without it) into `selected`. One rule for the pipeline, the router and
// `bifrost test`.
void select_events(const core::Batch& batch, const expr::Condition* when, std::vector<std::uint32_t>& selected);

// Runs one filter stage: the events `when` selects go through `filter`.
// `selected` is scratch and holds them afterwards.
void run_filter_stage(const Filter& filter, const expr::Condition* when, core::Batch& batch,
                      std::vector<std::uint32_t>& selected);

// ---- stateful stages ----------------------------------------------------
//
// A stage that keeps state across batches (aggregate, dedupe, throttle). It
// is written in `filters:` like any stage, with `when:`. The runtime calls
// it for every batch in the order the inputs published them, one call at a
// time: the filters before the first stateful stage run in parallel on the
// workers; the stateful stage and every stage after it run at the ordered
// point where batches are handed to the outputs (pipeline.h).
//
// A stage that emits events of its own (an aggregate's closed windows) puts
// them in batches of its own small pool (StageContext::acquire) and emits
// them: they go through the stages after it, the routing and the outputs
// like any event. It learns when they are finished through the tracker it
// sets on them (core/ack.h), and keeps the inputs' checkpoints behind the
// events it still needs with AckHolds (core/ack.h).

// What the runtime gives a stateful stage; every call on the stage's turn.
class StageContext {
 public:
  virtual ~StageContext() = default;
  // A free batch of the stage's own pool (the caller holds its one
  // reference). Waits while all are on their way to the outputs; nullptr
  // once the pipeline has given up on delivery (stopping past its deadline).
  virtual core::Batch* acquire() = 0;
  // Sends a filled batch through the stages after this one, the routing and
  // the outputs, now. The caller gives up its reference.
  virtual void emit(core::Batch* batch) = 0;
  // Processing time (idle sources, save intervals); tests pass a fake one.
  virtual core::Clock& clock() = 0;
  virtual core::ComponentStats& stats() = 0;
};

class StatefulStage {
 public:
  virtual ~StatefulStage() = default;
  // Once, before the first batch: the place to load saved state.
  virtual void start(StageContext&) {}
  // Every batch, in order. `events` are the indexes of the live events
  // matching the stage's `when:` (possibly none: the stage still sees the
  // batch go by). Drops an event by setting its drop_reason, like a filter.
  virtual void process(core::Batch& batch, std::span<const std::uint32_t> events, StageContext& ctx) = 0;
  // Every tick_interval(), in order with process(), even when no batch comes.
  virtual void tick(StageContext&) {}
  virtual std::chrono::milliseconds tick_interval() const { return std::chrono::milliseconds(250); }
  // Every input ended by itself (stdin at its end, `end_at_eof`): no event
  // will come again. An aggregate emits the windows it holds open.
  virtual void finish(StageContext&) {}
  // Once, at stop or reload, after the pipeline drained (every batch the
  // stage emitted is finished or given up): saves its state. What it still
  // holds stays held: the inputs' checkpoints stay behind it.
  virtual void stop(StageContext&) {}
};

// ---- outputs ------------------------------------------------------------

// kHeld: the output keeps the event past write() (the s3 output's object
// filling on disk), keeps the input's checkpoint behind it with an AckHold
// (Batch::hold_ack) and reports what became of it later, through the
// Settlement it was given.
// Only an output that was given one (settle_with) reports kHeld.
enum class Outcome : std::uint8_t { kDelivered, kRetry, kRejected, kHeld };

// Per-event result of one write(), indexed like OutputSlot::selected.
class DeliveryReport {
 public:
  void reset(std::size_t n) {
    outcomes_.assign(n, Outcome::kDelivered);
    reasons_.clear();
  }
  void set(std::size_t i, Outcome o, std::string_view reason = {});
  std::size_t size() const { return outcomes_.size(); }
  Outcome outcome(std::size_t i) const { return outcomes_[i]; }
  // The reason given for event i (empty when delivered).
  std::string_view reason(std::size_t i) const;
  std::size_t count(Outcome o) const;

 private:
  std::vector<Outcome> outcomes_;
  std::vector<std::pair<std::size_t, std::string>> reasons_;  // failures only
};

// How an output that holds events past write() (Outcome::kHeld) settles
// them later: its runner's delivery rules (counters, backoff, circuit
// breaker, failed queue) applied to events that are no longer in a batch.
// Called on the output's thread only (from write, flush or close). `tries`
// counts the attempts at one group of held events (an object).
class Settlement {
 public:
  using Tries = delivery::RetryPolicy::Tries;
  enum class Next : std::uint8_t { kAgain, kExhausted, kGiveUp };
  virtual ~Settlement() = default;
  // An attempt stored `events` held events (`bytes` as encoded) in the sink:
  // counted as delivered.
  virtual void delivered(Tries& tries, std::size_t events, std::uint64_t bytes) = 0;
  // An attempt at `events` held events failed with the transient `reason`:
  // counts the retries and waits the backoff. kAgain: try again;
  // kExhausted: retry.max_attempts are used up (park them); kGiveUp:
  // delivery was given up (shutdown): leave them unacknowledged.
  virtual Next failed(Tries& tries, std::size_t events, std::string_view reason) = 0;
  // An attempt was refused for good (`reason`): logged; park them next.
  virtual void rejected(Tries& tries, std::size_t events, std::string_view reason) = 0;
  // Parks the events `selected` of `batch` (held events read back) in the
  // failed queue with `reason`, durably. False when delivery was given up
  // first (leave them unacknowledged).
  virtual bool park(const core::Batch& batch, std::span<const std::uint32_t> selected, std::string_view reason,
                    int attempts) = 0;
  // A write to disk that must not give up (held events filling a file, a
  // journal that says which are stored): calls `write` until it returns
  // true, waiting the disk backoff (100 ms doubling to 5 s) between calls.
  // The output counts and logs the failures. False when delivery was given
  // up first (leave the events unacknowledged).
  virtual bool retry_disk_write(const std::function<bool()>& write) = 0;
};

class Output {
 public:
  virtual ~Output() = default;
  // Once, before the first write(), by a runner that settles held events
  // (the pipeline's output runner). Without one (bifrost replay, bifrost
  // test) an output settles every event within write() and never reports
  // kHeld. The settlement outlives the output's close().
  virtual void settle_with(Settlement* /*settlement*/) {}
  // Runs on pipeline worker threads, concurrently for different batches,
  // before the batch is queued for this output: turns slot.selected into
  // bytes (slot.encoded, slot.ends), so the expensive part runs on every core.
  virtual void encode(const core::Batch& batch, core::OutputSlot& slot) const = 0;
  // Runs on this output's own worker thread, one batch at a time, in order.
  // Reports an outcome for every selected event.
  virtual void write(const core::Batch& batch, const core::OutputSlot& slot, DeliveryReport& report) = 0;
  // Pipelined outputs keep up to in_flight() batches on their way at once
  // (Kafka's producer): begin() starts delivering a batch and returns a
  // ticket at once; end(ticket) waits for that batch's outcomes. The batch
  // and slot stay valid until their end(). Retries of a batch go through
  // write(). With the default, 1, only write() is used.
  virtual std::size_t in_flight() const { return 1; }
  virtual std::uint64_t begin(const core::Batch&, const core::OutputSlot&) { return 0; }
  virtual void end(std::uint64_t /*ticket*/, DeliveryReport& /*report*/) {}
  // Worker thread, every flush_interval() and before close().
  virtual void flush() {}
  virtual std::chrono::milliseconds flush_interval() const { return std::chrono::seconds(1); }
  // Worker thread, once, at stop.
  virtual void close() {}
};

// ---- specs: parsed config that builds the runtime object ------------------

class InputSpec {
 public:
  virtual ~InputSpec() = default;
  virtual std::unique_ptr<Input> build(const BuildContext& ctx) const = 0;
  // Whether its positions can be committed by an exactly-once output
  // (BuildContext::exactly_once); the loader refuses the others in such a
  // pipeline.
  virtual bool supports_exactly_once() const { return false; }
};

class FilterSpec {
 public:
  virtual ~FilterSpec() = default;
  virtual std::unique_ptr<Filter> build(const BuildContext& ctx) const = 0;
};

class StatefulStageSpec {
 public:
  virtual ~StatefulStageSpec() = default;
  virtual std::unique_ptr<StatefulStage> build(const BuildContext& ctx) const = 0;
};

class OutputSpec {
 public:
  virtual ~OutputSpec() = default;
  virtual std::unique_ptr<Output> build(const BuildContext& ctx) const = 0;
  // It commits the inputs' positions in its own transactions (the Kafka
  // output's `exactly_once: true`): the pipeline makes an ExactlyOnce.
  virtual bool exactly_once() const { return false; }
  // An event read again after a crash or a rewind lands once in its sink
  // (Elasticsearch with derived ids, InfluxDB points): the only other
  // outputs an exactly-once pipeline accepts.
  virtual bool idempotent() const { return false; }
};

}  // namespace bifrost::pipeline
