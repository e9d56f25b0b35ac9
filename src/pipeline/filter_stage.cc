#include "pipeline/filter_stage.h"

#include "core/log.h"
#include "core/time.h"
#include "delivery/record.h"
#include "delivery/retry_policy.h"

namespace bifrost::pipeline {

FilterStage::FilterStage(const FilterNode& node, const std::string& pipeline, const std::string& data_dir,
                         core::Interruptible& give_up, core::Clock& clock)
    : pipeline_(pipeline), when_(node.when), give_up_(give_up), clock_(clock) {
  stats_.identify(pipeline, node.id, "filter", node.type);
  const BuildContext ctx{pipeline, node.id, data_dir, &stats_, &give_up.clock()};
  if (node.stateful) {
    stage_ = node.stateful->build(ctx);
    emit_pool_ = std::make_unique<core::BatchPool>(kEmitBatches);
  } else {
    filter_ = node.spec->build(ctx);
  }
  failed_ = std::make_unique<delivery::FailedQueue>(data_dir, "failed/" + pipeline + "/" + node.id,
                                                    delivery::FailedQueueOptions{}, &stats_);
}

// The stage goes before its pool: nothing it holds points into the pool.
FilterStage::~FilterStage() { stage_.reset(); }

std::uint64_t FilterStage::run(core::Batch& batch, std::vector<std::uint32_t>& sel, std::uint64_t live) {
  // A stage's in/out count every live event reaching it; `when:` only
  // selects the ones it works on, the others pass through.
  core::add(stats_.events_in, live);
  select_events(batch, when_, sel);
  if (stage_) {
    stage_->process(batch, sel, *this);  // even with none selected: the stage sees time and sources go by
    if (!sel.empty()) live -= count_dropped(stats_, batch, sel) + park_rejected(batch, sel);
  } else if (!sel.empty()) {
    // An expanding filter (Filter::expand) changes how many events it
    // selected: what it made of them leave it, so out may exceed in.
    const std::size_t selected = sel.size();
    filter_->expand(batch, sel);
    live = live - selected + sel.size();
    live -= count_dropped(stats_, batch, sel) + park_rejected(batch, sel);
  }
  core::add(stats_.events_out, live);
  if (tap_.active()) {
    select_events(batch, nullptr, sel);
    tap_events(tap_, stats_, batch, sel);
  }
  return live;
}

core::Batch* FilterStage::acquire() {
  // Emitted batches are held only by the outputs: one comes back as soon as
  // one is delivered, or never once delivery is given up.
  while (!give_up_.interrupted()) {
    if (core::Batch* b = emit_pool_->acquire_for(std::chrono::milliseconds(100))) return b;
  }
  return nullptr;
}

void FilterStage::emit(core::Batch* batch) {
  const std::uint64_t n = batch->live_events();
  core::add(stats_.events_out, n);
  if (tap_.active() && n > 0) {
    select_events(*batch, nullptr, emit_scratch_);
    tap_events(tap_, stats_, *batch, emit_scratch_);
  }
  if (emit_) {
    emit_(batch);
  } else {
    batch->release();  // no pipeline around it (bifrost test without a taker)
  }
}

// Drop reasons are a handful of static strings: counted per batch, not per event.
std::uint64_t count_dropped(core::ComponentStats& stats, const core::Batch& batch, std::span<const std::uint32_t> sel) {
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
std::uint64_t FilterStage::park_rejected(core::Batch& batch, std::span<const std::uint32_t> sel) {
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
    delivery::append_record(records, e, {pipeline_, stats_.component, e.drop_reason + 1, 0, now}, cache);
  }
  std::lock_guard lock(failed_mu_);
  const bool parked = delivery::retry_disk_write(
      give_up_, [&] { return failed_->append(records, [&] { return give_up_.interrupted(); }).has_value(); });
  if (!parked) {
    batch.abandon();
    return n;
  }
  core::add(stats_.events_failed, n);
  batch.parked.fetch_add(static_cast<std::uint32_t>(n), std::memory_order_relaxed);
  for (std::uint32_t i : sel) {
    if (!core::is_rejected(batch.events[i])) continue;
    core::log::warn(stats_.component, n, " event(s) rejected (to the failed queue): ", batch.events[i].drop_reason + 1);
    break;
  }
  return n;
}

}  // namespace bifrost::pipeline
