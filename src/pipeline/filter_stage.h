// One stage of a pipeline's `filters:` list: a filter or a stateful stage,
// its `when:`, its stats and tap, and the failed queue of the events it
// rejects. A filter runs on the workers, concurrently for different
// batches; a stateful stage runs at the pipeline's ordered point, one batch
// at a time (pipeline.h), and this is its StageContext: the pool its
// emitted batches come from and the way they go on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/clock.h"
#include "core/stats.h"
#include "delivery/failed_queue.h"
#include "pipeline/component.h"
#include "pipeline/tap.h"
#include "pipeline/topology.h"

namespace bifrost::pipeline {

class FilterStage final : public StageContext {
 public:
  // Batches a stateful stage's own pool holds: emitted events are few (one
  // per window and group), and a full pool only waits for the outputs.
  static constexpr std::size_t kEmitBatches = 4;

  // `give_up` is the pipeline's: once interrupted, a rejected event that
  // cannot be parked leaves its batch abandoned (read again) instead, and a
  // stateful stage gets no more batches to emit into.
  FilterStage(const FilterNode& node, const std::string& pipeline, const std::string& data_dir,
              core::Interruptible& give_up, core::Clock& clock);
  ~FilterStage() override;

  // A worker (a filter) or the ordered point (a stateful stage): runs the
  // stage on `batch`. `live` events reach it; returns how many leave it
  // (dropped and rejected ones do not). `scratch` is reused.
  std::uint64_t run(core::Batch& batch, std::vector<std::uint32_t>& scratch, std::uint64_t live);

  bool stateful() const { return stage_ != nullptr; }
  // A stateful stage, on the ordered point (pipeline.cc). `emit` sends a
  // batch the stage emitted through the rest of the pipeline.
  void set_emit(std::function<void(core::Batch*)> emit) { emit_ = std::move(emit); }
  void start_stage() { stage_->start(*this); }
  void tick_stage() { stage_->tick(*this); }
  void finish_stage() { stage_->finish(*this); }
  void stop_stage() { stage_->stop(*this); }
  std::chrono::milliseconds tick_interval() const { return stage_->tick_interval(); }

  core::ComponentStats& stats() override { return stats_; }
  TapPoint& tap() { return tap_; }

  // StageContext.
  core::Batch* acquire() override;
  void emit(core::Batch* batch) override;
  core::Clock& clock() override { return clock_; }

 private:
  std::uint64_t park_rejected(core::Batch& batch, std::span<const std::uint32_t> sel);

  std::string pipeline_;
  std::unique_ptr<Filter> filter_;
  std::unique_ptr<StatefulStage> stage_;
  const expr::Condition* when_;
  core::ComponentStats stats_;
  TapPoint tap_;
  core::Interruptible& give_up_;
  core::Clock& clock_;
  std::mutex failed_mu_;  // workers park concurrently
  std::unique_ptr<delivery::FailedQueue> failed_;
  std::unique_ptr<core::BatchPool> emit_pool_;  // stateful only
  std::function<void(core::Batch*)> emit_;
  std::vector<std::uint32_t> emit_scratch_;
};

// Counts the events of `sel` a stage dropped, by reason, and returns how
// many (rejected ones, marked '!', are parked instead and not counted here).
std::uint64_t count_dropped(core::ComponentStats& stats, const core::Batch& batch, std::span<const std::uint32_t> sel);

}  // namespace bifrost::pipeline
