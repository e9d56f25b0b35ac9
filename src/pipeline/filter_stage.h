// One filter stage of a pipeline: the filter, its `when:`, its stats and
// tap, and the failed queue of the events it rejects. Run by the workers,
// concurrently for different batches.
#pragma once

#include <cstdint>
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

class FilterStage {
 public:
  // `give_up` is the pipeline's: once interrupted, a rejected event that
  // cannot be parked leaves its batch abandoned (read again) instead.
  FilterStage(const FilterNode& node, const std::string& pipeline, const std::string& data_dir,
              core::Interruptible& give_up);

  // A worker: runs the stage on `batch`. `live` events reach it; returns how
  // many leave it (dropped and rejected ones do not). `scratch` is reused.
  std::uint64_t run(core::Batch& batch, std::vector<std::uint32_t>& scratch, std::uint64_t live);

  core::ComponentStats& stats() { return stats_; }
  TapPoint& tap() { return tap_; }

 private:
  std::uint64_t park_rejected(core::Batch& batch, std::span<const std::uint32_t> sel);

  std::string pipeline_;
  std::unique_ptr<Filter> filter_;
  const expr::Condition* when_;
  core::ComponentStats stats_;
  TapPoint tap_;
  core::Interruptible& give_up_;
  std::mutex failed_mu_;  // workers park concurrently
  std::unique_ptr<delivery::FailedQueue> failed_;
};

// Counts the events of `sel` a stage dropped, by reason, and returns how
// many (rejected ones, marked '!', are parked instead and not counted here).
std::uint64_t count_dropped(core::ComponentStats& stats, const core::Batch& batch, std::span<const std::uint32_t> sel);

}  // namespace bifrost::pipeline
