#include "pipeline/pipeline.h"

#include <algorithm>
#include <deque>
#include <random>

#include <pthread.h>

#include "core/log.h"
#include "core/time.h"
#include "delivery/buffer_record.h"
#include "delivery/disk_buffer.h"
#include "delivery/failed_queue.h"
#include "delivery/record.h"

namespace bifrost::pipeline {

using core::Batch;

namespace {
// Names the calling thread (shown by top -H and perf; at most 15 bytes).
void name_thread(const std::string& name) { ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str()); }
}  // namespace
using core::OutputSlot;

struct Pipeline::InputRunner final : InputContext {
  std::unique_ptr<Input> input;
  core::BatchPool pool;
  ComponentStats stats_;
  Pipeline* pipeline = nullptr;
  std::thread thread;
  std::atomic<bool> finished{false};

  explicit InputRunner(std::size_t batches) : pool(batches) {}

  Batch* acquire() override { return pipeline->stopping_.load() ? nullptr : pool.acquire(); }
  Batch* acquire_for(std::chrono::milliseconds wait) override {
    return pipeline->stopping_.load() ? nullptr : pool.acquire_for(wait);
  }
  Batch* acquire_final() override { return pipeline->abandoned_.load() ? nullptr : pool.acquire(/*even_closed=*/true); }

  void publish(Batch* b) override {
    if (b->events.empty()) {
      b->release();
      return;
    }
    b->origin = input.get();
    std::uint64_t bytes = 0;
    for (const auto& e : b->events) bytes += e.message.size();
    add(stats_.events_in, b->events.size());
    add(stats_.events_out, b->events.size());
    add(stats_.bytes_in, bytes);
    if (!pipeline->in_queue_.push(b)) {
      // Only after drain gave up: the batch is not delivered, so not acknowledged.
      b->abandon();
      b->release();
    }
  }

  bool stopping() const override { return pipeline->stopping_.load(std::memory_order_relaxed); }
  ComponentStats& stats() override { return stats_; }
  TapPoint tap;
};

struct Pipeline::FilterStage {
  std::unique_ptr<Filter> filter;
  const expr::Condition* when = nullptr;
  ComponentStats stats;
  TapPoint tap;
  std::mutex failed_mu;  // workers park concurrently
  std::unique_ptr<delivery::FailedQueue> failed;
};

struct Pipeline::OutputRunner {
  std::unique_ptr<Output> output;
  const expr::Condition* when = nullptr;
  BoundedQueue<Delivery> queue;
  ComponentStats stats;
  TapPoint tap;
  std::thread thread;
  std::atomic<bool> abandon{false};
  std::mutex sleep_mu;
  std::condition_variable sleep_cv;
  delivery::RetryOptions retry;
  std::unique_ptr<delivery::FailedQueue> failed;
  std::unique_ptr<delivery::DiskBuffer> buffer;  // null: memory only
  std::thread sender;                            // with a buffer: reads it and writes to the sink
  std::atomic<bool> done{false};                 // the output's thread has ended
  // Scratch reused across deliveries: no allocation per batch once warm.
  DeliveryReport report;
  OutputSlot retry_a, retry_b;
  std::string records;  // failed-queue records of the batch being delivered
  std::size_t parked = 0;
  core::Rfc3339Cache time_cache;
  std::int64_t failures_in_a_row = 0;  // attempts that delivered nothing (circuit breaker)

  explicit OutputRunner(std::size_t cap) : queue(cap) {}
};

Pipeline::Pipeline(const config::PipelineConfig& cfg, const config::Config& global, PipelineOptions options)
    : id_(cfg.id), options_(options), in_queue_(cfg.inputs.size() * options.batches_per_input + 1) {
  if (options_.workers == 0) {
    options_.workers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8);
  }
  auto init = [&](ComponentStats& s, const std::string& comp, const char* kind, const std::string& type) {
    s.pipeline = cfg.id;
    s.component = comp;
    s.kind = kind;
    s.type = type;
  };
  for (const auto& ic : cfg.inputs) {
    auto r = std::make_unique<InputRunner>(options_.batches_per_input);
    r->pipeline = this;
    r->input = ic.spec->build(BuildContext{cfg.id, ic.id, global.data_dir});
    init(r->stats_, ic.id, "input", ic.type);
    inputs_.push_back(std::move(r));
  }
  for (const auto& fc : cfg.filters) {
    auto f = std::make_unique<FilterStage>();
    f->filter = fc.spec->build(BuildContext{cfg.id, fc.id, global.data_dir});
    f->when = fc.when ? &*fc.when : nullptr;
    init(f->stats, fc.id, "filter", fc.type);
    f->failed = std::make_unique<delivery::FailedQueue>(global.data_dir + "/failed/" + cfg.id + "/" + fc.id,
                                                        delivery::FailedQueueOptions{}, &f->stats);
    filters_.push_back(std::move(f));
  }
  for (const auto& oc : cfg.outputs) {
    auto o = std::make_unique<OutputRunner>(options_.output_queue_batches ? options_.output_queue_batches
                                                                          : in_queue_.capacity());
    o->output = oc.spec->build(BuildContext{cfg.id, oc.id, global.data_dir});
    o->when = oc.when ? &*oc.when : nullptr;
    o->retry = oc.delivery.retry;
    init(o->stats, oc.id, "output", oc.type);
    o->failed = std::make_unique<delivery::FailedQueue>(global.data_dir + "/failed/" + cfg.id + "/" + oc.id,
                                                        oc.delivery.failed_queue, &o->stats);
    if (oc.delivery.buffer.disk) {
      o->buffer = std::make_unique<delivery::DiskBuffer>(
          global.data_dir + "/buffers/" + cfg.id + "/" + oc.id, oc.delivery.buffer,
          delivery::CheckpointStore(global.data_dir, cfg.id, oc.id + ".buffer", &o->stats), &o->stats);
      o->buffer->open();
    }
    outputs_.push_back(std::move(o));
  }
}

Pipeline::~Pipeline() {
  if (started_ && !drained_) {
    stop_inputs();
    drain(std::chrono::steady_clock::now());
  }
}

void Pipeline::start() {
  started_ = true;
  for (auto& o : outputs_) {
    o->thread = std::thread([this, r = o.get()] {
      name_thread("out:" + r->stats.component);
      if (r->buffer) buffer_loop(*r);
      else output_loop(*r);
    });
    if (o->buffer) {
      o->sender = std::thread([this, r = o.get()] {
        name_thread("send:" + r->stats.component);
        sender_loop(*r);
      });
    }
  }
  for (std::size_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  for (auto& in : inputs_) {
    in->thread = std::thread([r = in.get(), &on_end = on_input_end_] {
      name_thread("in:" + r->stats_.component);
      r->input->run(*r);
      r->finished.store(true);
      if (on_end) on_end();
    });
  }
}

void Pipeline::stop_inputs() {
  stopping_.store(true);
  for (auto& in : inputs_) in->pool.close();  // wakes an input waiting for a batch
}

bool Pipeline::inputs_finished() const {
  for (const auto& in : inputs_) {
    if (!in->finished.load()) return false;
  }
  return true;
}

bool Pipeline::drain(std::chrono::steady_clock::time_point deadline) {
  if (drained_) return true;
  drained_ = true;
  // Inputs may still publish a last batch while stopping; wait for them.
  while (!inputs_finished() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool complete = inputs_finished();
  if (complete) {
    for (auto& in : inputs_) complete = in->pool.wait_all_returned(deadline) && complete;
  }
  if (!complete) {
    // Give up: inputs get no more batches, outputs stop retrying, and what
    // is undelivered stays unacknowledged.
    abandoned_.store(true);
    for (auto& in : inputs_) in->pool.close(/*final=*/true);
    for (auto& o : outputs_) {
      o->abandon.store(true);
      o->sleep_cv.notify_all();
    }
  }
  for (auto& in : inputs_) {
    if (in->thread.joinable()) in->thread.join();
  }
  in_queue_.close();
  for (auto& w : workers_) w.join();
  for (auto& o : outputs_) o->queue.close();
  // A disk buffer is sent until it is empty or the deadline passes; what is
  // left is safe on disk and goes out first at the next start.
  for (auto& o : outputs_) {
    if (!o->buffer) continue;
    while (!o->done.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!o->done.load()) {
      o->abandon.store(true);
      o->sleep_cv.notify_all();
    }
  }
  for (auto& o : outputs_) {
    if (o->thread.joinable()) o->thread.join();
    if (o->buffer && o->buffer->bytes() > 0) {
      core::log::info(o->stats.component, "disk buffer: ", o->buffer->bytes(),
                      " bytes stay; they go out first at the next start");
    }
  }
  for (auto& in : inputs_) in->input->drained();
  return complete;
}

TapPoint* Pipeline::tap(const std::string& id) {
  for (auto& in : inputs_) {
    if (in->stats_.component == id) return &in->tap;
  }
  for (auto& f : filters_) {
    if (f->stats.component == id) return &f->tap;
  }
  for (auto& o : outputs_) {
    if (o->stats.component == id) return &o->tap;
  }
  return nullptr;
}

// Counts the events of `sel` a stage dropped, by reason (a handful of static
// strings), and returns how many.
std::uint64_t Pipeline::count_dropped(ComponentStats& stats, const Batch& batch, std::span<const std::uint32_t> sel) {
  std::pair<const char*, std::uint64_t> reasons[8];
  std::size_t nreasons = 0;
  std::uint64_t dropped = 0;
  for (std::uint32_t i : sel) {
    const char* r = batch.events[i].drop_reason;
    if (r == nullptr || r[0] == '!') continue;  // '!': rejected, parked instead (park_rejected)
    ++dropped;
    std::size_t k = 0;
    while (k < nreasons && reasons[k].first != r) ++k;
    if (k == nreasons) {
      if (nreasons == std::size(reasons)) {
        stats.add_dropped(r, 1);
        continue;
      }
      reasons[nreasons++] = {r, 0};
    }
    ++reasons[k].second;
  }
  for (std::size_t k = 0; k < nreasons; ++k) stats.add_dropped(reasons[k].first, reasons[k].second);
  return dropped;
}

// Writes the events of `sel` that the stage rejected to its failed queue,
// durably, before the batch goes on (and may be acknowledged). Returns how
// many. A queue that cannot be written is tried again until it can be, or
// until delivery is given up (then the batch is abandoned: read again).
std::uint64_t Pipeline::park_rejected(FilterStage& stage, Batch& batch, std::span<const std::uint32_t> sel) {
  std::uint64_t n = 0;
  for (std::uint32_t i : sel) n += core::is_rejected(batch.events[i]);
  if (n == 0) return 0;
  thread_local std::string records;
  thread_local core::Rfc3339Cache cache;
  records.clear();
  const std::int64_t now = core::now_ns();
  for (std::uint32_t i : sel) {
    const core::Event& e = batch.events[i];
    if (!core::is_rejected(e)) continue;
    delivery::append_record(records, e, {id_, stage.stats.component, e.drop_reason + 1, 0, now}, cache);
  }
  std::lock_guard lock(stage.failed_mu);
  auto backoff = std::chrono::milliseconds(100);
  while (!stage.failed->append(records, [&] { return abandoned_.load(); })) {
    if (abandoned_.load()) {
      batch.abandon();
      return n;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  add(stage.stats.events_failed, n);
  for (std::uint32_t i : sel) {
    if (!core::is_rejected(batch.events[i])) continue;
    core::log::warn(stage.stats.component, n,
                    " event(s) rejected (to the failed queue): ", batch.events[i].drop_reason + 1);
    break;
  }
  return n;
}

void Pipeline::tap_events(TapPoint& tap, ComponentStats& stats, const Batch& batch,
                          std::span<const std::uint32_t> events) {
  if (std::uint64_t dropped = tap.publish(batch, events)) add(stats.tap_dropped, dropped);
}

std::vector<const ComponentStats*> Pipeline::stats() const {
  std::vector<const ComponentStats*> out;
  for (const auto& in : inputs_) out.push_back(&in->stats_);
  for (const auto& f : filters_) out.push_back(&f->stats);
  for (const auto& o : outputs_) out.push_back(&o->stats);
  return out;
}

void Pipeline::worker_loop() {
  name_thread("worker");
  std::vector<std::uint32_t> scratch;
  while (true) {
    std::uint64_t seq = 0;
    auto item = in_queue_.pop(&seq);
    if (!item) return;
    Batch* batch = *item;
    process(*batch, scratch);
    hand_over(seq, batch);
  }
}

// Batches go to the outputs in the order they were popped. A worker that
// finishes one out of turn leaves it here and takes the next batch instead
// of waiting; one worker at a time dispatches whatever is next in turn.
void Pipeline::hand_over(std::uint64_t seq, Batch* batch) {
  std::unique_lock lock(turn_mu_);
  finished_.emplace_back(seq, batch);
  if (dispatching_) return;  // the dispatching worker takes it when its turn comes
  dispatching_ = true;
  for (;;) {
    auto it = std::find_if(finished_.begin(), finished_.end(), [&](const auto& f) { return f.first == turn_; });
    if (it == finished_.end()) break;
    Batch* next = it->second;
    finished_.erase(it);
    lock.unlock();
    dispatch(next);  // waits only for a full output queue (never with the default room)
    lock.lock();
    ++turn_;
  }
  dispatching_ = false;
}

void Pipeline::process(Batch& batch, std::vector<std::uint32_t>& sel) {
  if (batch.origin) batch.origin->decorate(batch);
  for (auto& in : inputs_) {
    if (in->input.get() != batch.origin || !in->tap.active()) continue;
    select_events(batch, nullptr, sel);
    tap_events(in->tap, in->stats_, batch, sel);
  }
  std::uint64_t live = batch.live_events();
  for (auto& stage : filters_) {
    // A stage's in/out count every live event reaching it; `when:` only
    // selects the ones it works on, the others pass through.
    add(stage->stats.events_in, live);
    run_filter_stage(*stage->filter, stage->when, batch, sel);
    if (!sel.empty()) live -= count_dropped(stage->stats, batch, sel) + park_rejected(*stage, batch, sel);
    add(stage->stats.events_out, live);
    if (stage->tap.active()) {
      select_events(batch, nullptr, sel);
      tap_events(stage->tap, stage->stats, batch, sel);
    }
  }
  // Route and encode while still in parallel with other workers.
  if (batch.slots.size() != outputs_.size()) batch.slots.resize(outputs_.size());
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    OutputSlot& slot = batch.slots[k];
    slot.clear();
    select_events(batch, outputs_[k]->when, slot.selected);
    if (slot.selected.empty()) continue;
    if (outputs_[k]->buffer) {
      delivery::encode_buffer_records(batch, slot);  // encoded for the sink when read back
    } else {
      outputs_[k]->output->encode(batch, slot);
    }
    if (outputs_[k]->tap.active()) tap_events(outputs_[k]->tap, outputs_[k]->stats, batch, slot.selected);
  }
}

void Pipeline::dispatch(Batch* batch) {
  int holders = 0;
  for (const OutputSlot& s : batch->slots) holders += !s.selected.empty();
  batch->retain(holders);
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    if (batch->slots[k].selected.empty()) continue;
    add(outputs_[k]->stats.events_in, batch->slots[k].selected.size());
    add_queue(outputs_[k]->stats, static_cast<std::int64_t>(batch->slots[k].selected.size()));
    if (!outputs_[k]->queue.push(Delivery{batch, k})) {
      batch->abandon();
      batch->release();
    }
  }
  batch->release();  // the input's reference: finished here if no output took it
}

namespace {
// Copies the events of `from` whose outcome is kRetry into `to`.
void keep_retries(const OutputSlot& from, const DeliveryReport& report, OutputSlot& to) {
  to.clear();
  for (std::size_t i = 0; i < from.selected.size(); ++i) {
    if (report.outcome(i) != Outcome::kRetry) continue;
    to.selected.push_back(from.selected[i]);
    if (!from.ends.empty()) {
      std::uint32_t begin = i == 0 ? 0 : from.ends[i - 1];
      to.encoded.append(from.encoded, begin, from.ends[i] - begin);
      to.ends.push_back(static_cast<std::uint32_t>(to.encoded.size()));
    }
  }
}

std::uint64_t delivered_bytes(const OutputSlot& slot, const DeliveryReport& report) {
  if (slot.ends.empty()) return 0;
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < slot.selected.size(); ++i) {
    if (report.outcome(i) == Outcome::kDelivered) bytes += slot.ends[i] - (i == 0 ? 0 : slot.ends[i - 1]);
  }
  return bytes;
}
}  // namespace

bool Pipeline::breaker_open(const OutputRunner& o) {
  return o.retry.breaker_after > 0 && o.failures_in_a_row >= o.retry.breaker_after;
}

// Adds the events of `slot` whose outcome is `which` to the output's
// failed-queue records, with `prefix` before each reason.
void Pipeline::collect_failed(OutputRunner& o, const Batch& batch, const OutputSlot& slot, Outcome which, int attempt,
                              std::string_view prefix) {
  const std::int64_t now = core::now_ns();
  std::string reason;
  for (std::size_t i = 0; i < slot.selected.size(); ++i) {
    if (o.report.outcome(i) != which) continue;
    reason.assign(prefix).append(o.report.reason(i));
    delivery::append_record(o.records, batch.events[slot.selected[i]], {id_, o.stats.component, reason, attempt, now},
                            o.time_cache);
    ++o.parked;
  }
}

// Puts the collected records into the failed queue, durably, before the
// batch may be acknowledged. A queue that cannot be written (disk full) is
// tried again until it can be, or until the pipeline gives up on delivery
// (then the batch is abandoned: not acknowledged, read again next time).
void Pipeline::park(OutputRunner& o, Batch& batch) {
  auto backoff = std::chrono::milliseconds(100);
  while (!o.failed->append(o.records, [&] { return o.abandon.load(); })) {
    if (o.abandon.load()) {
      batch.abandon();
      return;
    }
    std::unique_lock lock(o.sleep_mu);
    o.sleep_cv.wait_for(lock, backoff, [&] { return o.abandon.load(); });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  add(o.stats.events_failed, o.parked);
}

void Pipeline::deliver(OutputRunner& o, Delivery d, bool reported) {
  Batch& batch = *d.batch;
  const OutputSlot* slot = &batch.slots[d.slot];
  const auto queued = static_cast<std::int64_t>(slot->selected.size());
  thread_local std::minstd_rand rng(std::random_device{}());
  OutputSlot* scratch[2] = {&o.retry_a, &o.retry_b};
  o.records.clear();
  o.parked = 0;
  int counted = 0;  // attempts that count toward max_attempts (not probes of a sink that is down)
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1 || !reported) {
      o.report.reset(slot->selected.size());
      auto started = std::chrono::steady_clock::now();
      o.output->write(batch, *slot, o.report);
      o.stats.request_duration.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    std::size_t ok = o.report.count(Outcome::kDelivered);
    std::size_t rejected = o.report.count(Outcome::kRejected);
    std::size_t retry = o.report.count(Outcome::kRetry);
    const bool was_open = breaker_open(o);
    if (!was_open) ++counted;
    if (ok > 0 || (retry == 0 && rejected == 0)) {
      if (was_open) core::log::info(o.stats.component, "the sink takes events again: circuit closed");
      o.failures_in_a_row = 0;
      o.stats.circuit_open.store(0);
    } else if (retry > 0 && ++o.failures_in_a_row == o.retry.breaker_after) {
      core::log::warn(o.stats.component, o.failures_in_a_row,
                      " attempts in a row failed: circuit open; probing at most every ",
                      o.retry.max_backoff_ns / 1'000'000, "ms until the sink takes events again");
      o.stats.circuit_open.store(1);
    }
    add(o.stats.events_out, ok);
    add(o.stats.bytes_out, delivered_bytes(*slot, o.report));
    if (rejected) {
      for (std::size_t i = 0; i < o.report.size(); ++i) {
        if (o.report.outcome(i) != Outcome::kRejected) continue;
        core::log::error(o.stats.component, rejected, " events rejected (to the failed queue): ", o.report.reason(i));
        break;
      }
      collect_failed(o, batch, *slot, Outcome::kRejected, attempt, "");
    }
    if (retry == 0) break;
    std::string_view reason;
    for (std::size_t i = 0; i < o.report.size() && reason.empty(); ++i) {
      if (o.report.outcome(i) == Outcome::kRetry) reason = o.report.reason(i);
    }
    if (o.retry.max_attempts > 0 && counted >= o.retry.max_attempts && !breaker_open(o)) {
      core::log::error(o.stats.component, "giving up on ", retry, " events after ", attempt,
                       " attempts (to the failed queue): ", reason);
      collect_failed(o, batch, *slot, Outcome::kRetry, attempt, "retries exhausted: ");
      break;
    }
    add(o.stats.retries, retry);
    // Exponential backoff with full jitter: uniform in [0, min(max, initial * 2^(n-1))],
    // n counting this batch's attempts, or the failures in a row while the circuit is open.
    const std::int64_t n = breaker_open(o) ? std::max<std::int64_t>(attempt, o.failures_in_a_row) : attempt;
    const std::int64_t cap =
        std::min<std::int64_t>(o.retry.max_backoff_ns, o.retry.initial_backoff_ns << std::min<std::int64_t>(n - 1, 30));
    auto wait = std::chrono::nanoseconds(std::uniform_int_distribution<std::int64_t>(0, cap)(rng));
    core::log::warn(o.stats.component, "write failed (", reason, "); retrying ", retry, " events in ",
                    std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), "ms (attempt ", attempt, ")");
    {
      std::unique_lock lock(o.sleep_mu);
      o.sleep_cv.wait_for(lock, wait, [&] { return o.abandon.load(); });
    }
    if (o.abandon.load()) {
      batch.abandon();
      break;
    }
    OutputSlot* next = scratch[attempt % 2];
    keep_retries(*slot, o.report, *next);
    slot = next;
  }
  if (o.parked) park(o, batch);
  add_queue(o.stats, -queued);
  batch.release();
}

// With a disk buffer, the output's thread writes each batch's events to the
// buffer; once they are durable the batch is finished (acknowledged).
void Pipeline::buffer_loop(OutputRunner& o) {
  while (auto item = o.queue.pop()) {
    Batch& batch = *item->batch;
    const OutputSlot& slot = batch.slots[item->slot];
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      auto put = o.buffer->append(slot.encoded, [&] { return o.abandon.load(); });
      if (put == delivery::DiskBuffer::Put::kStored) break;
      if (put == delivery::DiskBuffer::Put::kDropped) {
        o.stats.add_dropped("buffer_full", slot.selected.size());
        break;
      }
      if (o.abandon.load()) {
        batch.abandon();
        break;
      }
      std::unique_lock lock(o.sleep_mu);
      o.sleep_cv.wait_for(lock, backoff, [&] { return o.abandon.load(); });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    add_queue(o.stats, -static_cast<std::int64_t>(slot.selected.size()));
    batch.release();
  }
  o.buffer->close_writer();
  if (o.sender.joinable()) o.sender.join();
  o.done.store(true);
}

// Reads the disk buffer in order and delivers it like any batch (retries,
// failed queue). Two stages, so that reading overlaps sending: this thread
// reads, decodes and encodes the next batch while a second one delivers the
// one before it. The read position is committed only past what is finished.
void Pipeline::sender_loop(OutputRunner& o) {
  constexpr std::size_t kEvents = 2048;
  struct Ready {
    Batch* batch;
    delivery::DiskBuffer::Position end;
  };
  core::BatchPool pool(2);
  BoundedQueue<Ready> ready(1);
  std::thread deliverer([&] {
    name_thread("dlv:" + o.stats.component);
    const auto interval = o.output->flush_interval();
    auto next_flush = std::chrono::steady_clock::now() + interval;
    while (true) {
      auto now = std::chrono::steady_clock::now();
      auto item = ready.pop_for(next_flush > now ? next_flush - now : std::chrono::steady_clock::duration::zero());
      if (item) {
        add_queue(o.stats, static_cast<std::int64_t>(item->batch->events.size()));
        deliver(o, Delivery{item->batch, 0});  // releases the batch
        if (o.abandon.load()) break;           // not finished: it stays in the buffer
        o.buffer->commit(item->end);
      } else if (ready.closed_and_empty()) {
        break;
      }
      if (now = std::chrono::steady_clock::now(); now >= next_flush) {
        o.output->flush();
        next_flush = now + interval;
      }
    }
    ready.close();  // the reader stops too
    o.output->flush();
    o.output->close();
  });
  bool finished = false;
  while (!o.abandon.load()) {
    Batch* batch = pool.acquire_for(std::chrono::milliseconds(200));
    if (!batch) continue;
    if (batch->slots.size() != 1) batch->slots.resize(1);
    OutputSlot& slot = batch->slots[0];
    slot.clear();
    std::size_t n = o.buffer->read(*batch, kEvents, std::chrono::milliseconds(200));
    if (n > 0) {
      for (std::uint32_t i = 0; i < n; ++i) slot.selected.push_back(i);
      o.output->encode(*batch, slot);
      if (!ready.push(Ready{batch, o.buffer->read_position()})) {
        batch->release();  // the deliverer gave up
        break;
      }
    } else {
      batch->release();
      if (o.buffer->finished()) {
        finished = true;
        break;
      }
    }
  }
  ready.close();
  deliverer.join();
  while (auto item = ready.pop()) item->batch->release();                          // left when delivery was given up
  if (finished && !o.abandon.load()) o.buffer->commit(o.buffer->read_position());  // all sent: removes the segments
  o.buffer->save_cursor();
}

void Pipeline::output_loop(OutputRunner& o) {
  if (std::size_t window = o.output->in_flight(); window > 1) return pipelined_loop(o, window);
  const auto interval = o.output->flush_interval();
  auto next_flush = std::chrono::steady_clock::now() + interval;
  while (true) {
    auto now = std::chrono::steady_clock::now();
    auto item = o.queue.pop_for(next_flush > now ? next_flush - now : std::chrono::steady_clock::duration::zero());
    if (item) deliver(o, *item);
    now = std::chrono::steady_clock::now();
    if (now >= next_flush) {
      o.output->flush();
      next_flush = now + interval;
    }
    if (!item && o.queue.closed_and_empty()) break;
  }
  o.output->flush();
  o.output->close();
}

}  // namespace bifrost::pipeline

namespace bifrost::pipeline {

// For outputs with in_flight() > 1: up to `window` batches begun, finished
// in the order they were begun. A batch whose first attempt needs a retry
// is retried (write()) while the later ones may already be delivered: the
// order per source holds as long as the output's own retries keep it (the
// idempotent Kafka producer does; a record that times out does not).
void Pipeline::pipelined_loop(OutputRunner& o, std::size_t window) {
  struct Pending {
    Delivery d;
    std::uint64_t ticket;
    std::chrono::steady_clock::time_point started;
  };
  std::deque<Pending> pending;
  const auto interval = o.output->flush_interval();
  auto next_flush = std::chrono::steady_clock::now() + interval;
  while (true) {
    // Fill the window: wait for the first batch, take more only when queued.
    while (pending.size() < window) {
      auto now = std::chrono::steady_clock::now();
      auto wait = pending.empty() && next_flush > now ? next_flush - now : std::chrono::steady_clock::duration::zero();
      auto item = o.queue.pop_for(wait);
      if (!item) break;
      const OutputSlot& slot = item->batch->slots[item->slot];
      pending.push_back({*item, o.output->begin(*item->batch, slot), std::chrono::steady_clock::now()});
    }
    if (!pending.empty()) {
      Pending p = pending.front();
      pending.pop_front();
      o.report.reset(p.d.batch->slots[p.d.slot].selected.size());
      o.output->end(p.ticket, o.report);
      o.stats.request_duration.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - p.started).count());
      deliver(o, p.d, /*reported=*/true);
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_flush) {
      o.output->flush();
      next_flush = now + interval;
    }
    if (pending.empty() && o.queue.closed_and_empty()) break;
  }
  o.output->flush();
  o.output->close();
}

}  // namespace bifrost::pipeline
