#include "pipeline/output_runner.h"

#include <algorithm>
#include <deque>

#include "core/log.h"
#include "delivery/record.h"
#include "pipeline/buffered_output.h"
#include "pipeline/threads.h"

namespace bifrost::pipeline {

using core::Batch;
using core::OutputSlot;

OutputRunner::OutputRunner(const OutputNode& node, const std::string& pipeline, const std::string& data_dir,
                           std::size_t queue_capacity, std::size_t all_batches, core::Clock& clock,
                           ExactlyOnce* exactly_once)
    : pipeline_(pipeline),
      clock_(clock),
      when_(node.when),
      queue_(queue_capacity),
      pause_(clock),
      retry_(node.delivery.retry) {
  stats_.identify(pipeline, node.id, "output", node.type);
  output_ = node.spec->build(BuildContext{pipeline, node.id, data_dir, &stats_, &clock_, exactly_once});
  output_->settle_with(&held_);
  failed_ = std::make_unique<delivery::FailedQueue>(data_dir, "failed/" + pipeline + "/" + node.id,
                                                    node.delivery.failed_queue, &stats_);
  if (node.delivery.buffer.disk) buffered_ = std::make_unique<BufferedOutput>(*this, node, data_dir);
  // Batches the output has taken from its queue: the one it delivers, or
  // its window; with a disk buffer, the one its writer writes.
  const std::size_t taken = buffered_ ? 1 : std::max<std::size_t>(output_->in_flight(), 1);
  const std::size_t full_at = std::clamp<std::size_t>(all_batches > taken ? all_batches - taken : 1, 1, queue_capacity);
  queue_.watch_fill(full_at, [this](bool full) {
    if (full) stats_.blocked.start(clock_.now());
    else stats_.blocked.stop(clock_.now());
  });
}

OutputRunner::~OutputRunner() { join(); }

std::uint64_t OutputRunner::buffer_bytes() const { return buffered_ ? buffered_->bytes() : 0; }

bool OutputRunner::route(const Batch& batch, OutputSlot& slot) {
  select_events(batch, when_, slot.selected);
  if (slot.selected.empty()) return false;
  if (buffered_) {
    BufferedOutput::encode(batch, slot);  // encoded for the sink when read back
  } else {
    output_->encode(batch, slot);
  }
  if (tap_.active()) tap_events(tap_, stats_, batch, slot.selected);
  return true;
}

bool OutputRunner::enqueue(Delivery d) {
  const std::size_t n = d.batch->slots[d.slot].selected.size();
  core::add(stats_.events_in, n);
  core::add_queue(stats_, static_cast<std::int64_t>(n));
  return queue_.push(d);
}

void OutputRunner::start() {
  if (buffered_) {
    buffered_->start();
    return;
  }
  thread_ = std::thread([this] {
    name_thread("out:" + stats_.component);
    run();
    done_.store(true);
  });
}

void OutputRunner::join() {
  if (thread_.joinable()) thread_.join();
  if (buffered_) buffered_->join();
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

double seconds(core::Clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

// Adds the events of `slot` whose outcome is `which` to the failed-queue
// records of the batch, with `prefix` before each reason.
void OutputRunner::collect_failed(const Batch& batch, const OutputSlot& slot, Outcome which, int attempt,
                                  std::string_view prefix) {
  const std::int64_t now = core::now_ns();
  std::string reason;
  for (std::size_t i = 0; i < slot.selected.size(); ++i) {
    if (report_.outcome(i) != which) continue;
    reason.assign(prefix).append(report_.reason(i));
    delivery::append_record(records_, batch.events[slot.selected[i]],
                            {pipeline_, stats_.component, reason, attempt, now}, time_cache_);
    ++parked_;
  }
}

// Puts the collected records into the failed queue, durably, before the
// batch may be acknowledged. A queue that cannot be written (disk full) is
// tried again until it can be, or until delivery is given up (then the
// batch is abandoned: not acknowledged, read again next time).
void OutputRunner::park(Batch& batch) {
  if (!delivery::retry_disk_write(
          pause_, [&] { return failed_->append(records_, [&] { return pause_.interrupted(); }).has_value(); })) {
    batch.abandon();
    return;
  }
  core::add(stats_.events_failed, parked_);
  batch.parked.fetch_add(static_cast<std::uint32_t>(parked_), std::memory_order_relaxed);
}

void OutputRunner::note_attempt(delivery::RetryPolicy::Tries& tries, bool progress, bool retry) {
  switch (retry_.after_attempt(tries, progress, retry)) {
    case delivery::RetryPolicy::Circuit::kClosed:
      core::log::info(stats_.component, "the sink takes events again: circuit closed");
      break;
    case delivery::RetryPolicy::Circuit::kOpened:
      core::log::warn(stats_.component, retry_.failures_in_a_row(),
                      " attempts in a row failed: circuit open; probing at most every ",
                      retry_.options().max_backoff_ns / 1'000'000, "ms until the sink takes events again");
      stats_.circuit_open.store(1);
      break;
    case delivery::RetryPolicy::Circuit::kSame: break;
  }
  if (progress) stats_.circuit_open.store(0);
}

void OutputRunner::Held::delivered(Tries& tries, std::size_t events, std::uint64_t bytes) {
  r_.note_attempt(tries, /*progress=*/true, /*retry=*/false);
  core::add(r_.stats_.events_out, events);
  core::add(r_.stats_.bytes_out, bytes);
}

Settlement::Next OutputRunner::Held::failed(Tries& tries, std::size_t events, std::string_view reason) {
  r_.note_attempt(tries, /*progress=*/false, /*retry=*/true);
  if (r_.retry_.exhausted(tries)) {
    core::log::error(r_.stats_.component, "giving up on ", events, " events after ", tries.attempt,
                     " attempts (to the failed queue): ", reason);
    return Next::kExhausted;
  }
  core::add(r_.stats_.retries, events);
  const auto wait = r_.retry_.backoff(tries);
  core::log::warn(r_.stats_.component, "upload failed (", reason, "); retrying ", events, " events in ",
                  std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), "ms (attempt ", tries.attempt,
                  ")");
  return r_.pause_.sleep_for(wait) ? Next::kAgain : Next::kGiveUp;
}

void OutputRunner::Held::rejected(Tries& tries, std::size_t events, std::string_view reason) {
  r_.note_attempt(tries, /*progress=*/true, /*retry=*/false);
  core::log::error(r_.stats_.component, events, " events rejected (to the failed queue): ", reason);
}

bool OutputRunner::Held::park(const Batch& batch, std::span<const std::uint32_t> selected, std::string_view reason,
                              int attempts) {
  records_.clear();
  const std::int64_t now = core::now_ns();
  for (std::uint32_t i : selected) {
    delivery::append_record(records_, batch.events[i], {r_.pipeline_, r_.stats_.component, reason, attempts, now},
                            r_.time_cache_);
  }
  if (!delivery::retry_disk_write(r_.pause_, [&] {
        return r_.failed_->append(records_, [&] { return r_.pause_.interrupted(); }).has_value();
      })) {
    return false;
  }
  core::add(r_.stats_.events_failed, selected.size());
  return true;
}

void OutputRunner::deliver(Delivery d, bool reported) {
  Batch& batch = *d.batch;
  const OutputSlot* slot = &batch.slots[d.slot];
  const auto queued = static_cast<std::int64_t>(slot->selected.size());
  OutputSlot* scratch[2] = {&retry_a_, &retry_b_};
  records_.clear();
  parked_ = 0;
  delivery::RetryPolicy::Tries tries;
  for (;;) {
    if (tries.attempt > 0 || !reported) {
      report_.reset(slot->selected.size());
      const auto started = clock_.now();
      output_->write(batch, *slot, report_);
      stats_.request_duration.observe(seconds(clock_.now() - started));
    }
    const std::size_t ok = report_.count(Outcome::kDelivered);
    const std::size_t rejected = report_.count(Outcome::kRejected);
    const std::size_t retry = report_.count(Outcome::kRetry);
    // Held events are settled later (Held): neither out nor failed yet.
    const std::size_t held = report_.count(Outcome::kHeld);
    const bool progress = ok > 0 || held > 0 || (retry == 0 && rejected == 0);
    note_attempt(tries, progress, retry > 0);
    core::add(stats_.events_out, ok);
    core::add(stats_.bytes_out, delivered_bytes(*slot, report_));
    if (rejected) {
      for (std::size_t i = 0; i < report_.size(); ++i) {
        if (report_.outcome(i) != Outcome::kRejected) continue;
        core::log::error(stats_.component, rejected, " events rejected (to the failed queue): ", report_.reason(i));
        break;
      }
      collect_failed(batch, *slot, Outcome::kRejected, tries.attempt, "");
    }
    if (retry == 0) break;
    std::string_view reason;
    for (std::size_t i = 0; i < report_.size() && reason.empty(); ++i) {
      if (report_.outcome(i) == Outcome::kRetry) reason = report_.reason(i);
    }
    if (retry_.exhausted(tries)) {
      core::log::error(stats_.component, "giving up on ", retry, " events after ", tries.attempt,
                       " attempts (to the failed queue): ", reason);
      collect_failed(batch, *slot, Outcome::kRetry, tries.attempt, "retries exhausted: ");
      break;
    }
    core::add(stats_.retries, retry);
    const auto wait = retry_.backoff(tries);
    core::log::warn(stats_.component, "write failed (", reason, "); retrying ", retry, " events in ",
                    std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), "ms (attempt ", tries.attempt,
                    ")");
    if (!pause_.sleep_for(wait)) {
      batch.abandon();
      break;
    }
    OutputSlot* next = scratch[tries.attempt % 2];
    keep_retries(*slot, report_, *next);
    slot = next;
  }
  if (parked_) park(batch);
  core::add_queue(stats_, -queued);
  batch.release();
}

void OutputRunner::run() {
  if (std::size_t window = output_->in_flight(); window > 1) return run_pipelined(window);
  const auto interval = output_->flush_interval();
  auto next_flush = clock_.now() + interval;
  while (true) {
    auto item = queue_.pop_until(clock_, next_flush);
    if (item) deliver(*item);
    const auto now = clock_.now();
    if (now >= next_flush) {
      output_->flush();
      next_flush = now + interval;
    }
    if (!item && queue_.closed_and_empty()) break;
  }
  output_->flush();
  output_->close();
}

// For outputs with in_flight() > 1: up to `window` batches begun, finished
// in the order they were begun. A batch whose first attempt needs a retry
// is retried (write()) while the later ones may already be delivered: the
// order per source holds as long as the output's own retries keep it (the
// idempotent Kafka producer does; a record that times out does not).
void OutputRunner::run_pipelined(std::size_t window) {
  struct Pending {
    Delivery d;
    std::uint64_t ticket;
    core::Clock::time_point started;
  };
  std::deque<Pending> pending;
  const auto interval = output_->flush_interval();
  auto next_flush = clock_.now() + interval;
  while (true) {
    // Fill the window: wait for the first batch, take more only when queued.
    while (pending.size() < window) {
      auto item = queue_.pop_until(clock_, pending.empty() ? next_flush : clock_.now());
      if (!item) break;
      const OutputSlot& slot = item->batch->slots[item->slot];
      pending.push_back({*item, output_->begin(*item->batch, slot), clock_.now()});
    }
    if (!pending.empty()) {
      Pending p = pending.front();
      pending.pop_front();
      report_.reset(p.d.batch->slots[p.d.slot].selected.size());
      output_->end(p.ticket, report_);
      stats_.request_duration.observe(seconds(clock_.now() - p.started));
      deliver(p.d, /*reported=*/true);
    }
    const auto now = clock_.now();
    if (now >= next_flush) {
      output_->flush();
      next_flush = now + interval;
    }
    if (pending.empty() && queue_.closed_and_empty()) break;
  }
  output_->flush();
  output_->close();
}

}  // namespace bifrost::pipeline
