// The aggregate stage's runtime object; see README.md in this folder for
// how windows close and why the numbers stay exact across a crash.
//   stage.cc: events into windows, lateness, the watermark
//   steps.cc: emitting closed windows, their delivery, the saved state
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "filters/aggregate/aggregate_stage.h"
#include "filters/aggregate/window.h"
#include "filters/common/stage_state.h"

namespace bifrost::filters::aggregate {

class AggregateStage final : public pipeline::StatefulStage {
 public:
  AggregateStage(const Spec& spec, const pipeline::BuildContext& ctx);
  ~AggregateStage() override;

  void start(pipeline::StageContext& ctx) override;
  void process(core::Batch& batch, std::span<const std::uint32_t> events, pipeline::StageContext& ctx) override;
  void tick(pipeline::StageContext& ctx) override;
  void finish(pipeline::StageContext& ctx) override;
  void stop(pipeline::StageContext& ctx) override;

  // For tests: the state as the stage sees it.
  std::int64_t closed_through() const { return closed_through_; }
  std::int64_t watermark() const { return watermark_; }
  std::size_t open_windows() const { return windows_.size(); }

 private:
  // A set of windows emitted together, and what is released when every
  // event of it is finished (delivered, or parked).
  struct Step {
    std::uint64_t id;
    std::int64_t closed_through;  // every window ending at or before it is emitted (with this step)
    std::vector<core::AckHold> holds;
    SourcePositions positions;  // as of the step: what the saved state says was processed
  };
  struct SourceClock {
    std::int64_t max_ns;            // the latest event time it brought
    core::Clock::time_point heard;  // when
  };

  // stage.cc
  Window& window_for(std::int64_t start);
  Window& late_window_for(std::int64_t start);
  void add(Window& w, core::Batch& batch, core::Event& e, pipeline::StageContext& ctx);
  void on_closed_window(core::Batch& batch, core::Event& e, std::uint64_t src, std::int64_t start,
                        pipeline::StageContext& ctx);
  // Moves the watermark on and closes the windows it has passed.
  void advance(pipeline::StageContext& ctx, bool ticking);

  // steps.cc
  // Emits `closing` (and every late window) as one step.
  void emit_step(std::vector<std::unique_ptr<Window>> closing, pipeline::StageContext& ctx);
  // Emits the groups of `w`, still open, as a step of its own (max_groups).
  void emit_early(Window& w, pipeline::StageContext& ctx);
  void emit_window(const Window& w, bool late, core::Batch*& batch, std::uint64_t step, pipeline::StageContext& ctx,
                   bool& broken);
  void send(core::Batch*& batch, std::uint64_t step, pipeline::StageContext& ctx);
  // Steps whose events are all finished: saves the state, then releases their holds.
  void commit();
  void load_state(core::Clock::time_point now);
  void publish(pipeline::StageContext& ctx);

  const Spec& spec_;
  std::string id_;
  StateFile state_;
  core::Counter state_errors_;

  // The fields the metrics read, each once per event.
  std::vector<core::FieldPath> fields_;
  std::vector<int> field_of_;  // metric -> index in fields_, or -1 (count)
  // metric -> the cell it keeps its state in: its own, or an earlier
  // percentile's of the same field (one sketch answers every q).
  std::vector<std::size_t> cell_of_;
  std::vector<bool> hashed_;   // per field: a count_distinct reads it
  std::vector<bool> numeric_;  // per field: a metric reads it as a number
  std::vector<Input> inputs_;  // per field, scratch
  std::string key_;            // scratch: the group key

  std::vector<std::unique_ptr<Window>> windows_;  // open, by start
  std::vector<std::unique_ptr<Window>> late_;     // late: separate, emitted at the next step
  Window* last_ = nullptr;                        // the window the last event went to
  std::int64_t closed_through_ = INT64_MIN;
  std::int64_t watermark_ = INT64_MIN;
  std::unordered_map<std::uint64_t, SourceClock> sources_;
  SourcePositions positions_;
  SourcePositions step_positions_;  // positions_ as of the last step that closed windows

  // What the saved state said at start: events of windows emitted then,
  // from before these positions, were counted and are not again.
  std::int64_t loaded_closed_through_ = INT64_MIN;
  SourcePositions loaded_positions_;

  std::shared_ptr<core::AckTracker> emitted_;  // the stage's own batches
  std::deque<Step> steps_;
  std::uint64_t next_step_ = 0;
  bool broken_ = false;  // a step could not be emitted whole (delivery given up): nothing is released again

  std::uint64_t late_count_ = 0, replayed_ = 0, early_ = 0, emitted_events_ = 0;
  std::vector<std::uint64_t> skipped_;  // per metric: missing, not a number
  core::Clock::time_point next_publish_{};
};

}  // namespace bifrost::filters::aggregate
