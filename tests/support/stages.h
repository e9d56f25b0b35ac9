// For the stateful stages' tests: a stage built from its YAML as the config
// loader would, and a StageContext that keeps what the stage emits, on a
// fake clock.
#pragma once

#include <doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/batch.h"
#include "core/time.h"
#include "pipeline/component.h"
#include "support/fake_clock.h"

namespace bifrost::testing {

struct BuiltStage {
  std::unique_ptr<config::Config> config;
  std::unique_ptr<pipeline::StatefulStage> stage;
};

// `yaml`: the stage's keys after `type:`, as "type: aggregate\n    window: 1m"
// (indented by four spaces after the first line). `data_dir` empty: no state.
inline BuiltStage build_stage(const std::string& yaml, const std::string& data_dir = "",
                              core::ComponentStats* stats = nullptr) {
  config::Diagnostics diag;
  std::string text = "data_dir: /tmp\ninputs: [{id: i, type: stdin}]\nfilters:\n  - id: s\n    " + yaml +
                     "\noutputs: [{id: o, type: stdout}]\n";
  auto cfg = config::load_text("test.yaml", text, diag);
  INFO(diag.render());
  REQUIRE(cfg);
  const auto& fc = cfg->pipelines.at(0).filters.at(0);
  REQUIRE(fc.stage);
  auto stage = fc.stage->build(pipeline::BuildContext{"p", "s", data_dir, stats});
  return {std::move(cfg), std::move(stage)};
}

// What the runtime would give a stage: batches from a pool, what it emits
// kept (in order) until the test releases them, and a fake clock.
class FakeStageContext final : public pipeline::StageContext {
 public:
  explicit FakeStageContext(std::size_t batches = 16) : pool_(batches) {}
  ~FakeStageContext() override { release_all(); }

  core::Batch* acquire() override { return pool_.try_acquire(); }
  void emit(core::Batch* b) override { emitted.push_back(b); }
  core::Clock& clock() override { return clock_; }
  core::ComponentStats& stats() override { return stats_; }

  // Every emitted event, in order.
  std::vector<const core::Event*> events() const {
    std::vector<const core::Event*> out;
    for (const core::Batch* b : emitted) {
      for (const core::Event& e : b->events) out.push_back(&e);
    }
    return out;
  }
  // Releases what was emitted: as if delivered (acknowledged).
  void release_all() {
    for (core::Batch* b : emitted) b->release();
    emitted.clear();
  }

  std::vector<core::Batch*> emitted;
  FakeClock clock_;
  core::ComponentStats stats_;

 private:
  core::BatchPool pool_;
};

// A batch of events that an input would publish: from source `source`, its
// ack tracked by `tracker` (may be null).
class InputBatch {
 public:
  InputBatch(core::BatchPool& pool, std::shared_ptr<core::AckTracker> tracker, std::uint64_t source = 7)
      : batch_(pool.acquire()) {
    batch_->source_id = source;
    batch_->source = "src";
    batch_->ingest_ns = core::now_ns();
    batch_->tracker = std::move(tracker);
  }
  ~InputBatch() {
    if (batch_) batch_->release();
  }
  // An event at time `t_ns`, at `offset`, with fields set from `set`.
  core::Event& add(std::int64_t t_ns, std::uint64_t offset) {
    core::Event& e = batch_->events.emplace_back();
    e.timestamp_ns = t_ns;
    e.offset = offset;
    e.fields = core::Value::object(batch_->arena, 4);
    return e;
  }
  void set(core::Event& e, const char* path, core::Value v) {
    core::set_field(e, *core::FieldPath::parse(path), v, batch_->arena);
  }
  core::Value str(std::string_view s) { return core::Value::string(batch_->arena.copy(s)); }
  // Tracks the batch (after its events are in) at `end_position`.
  void track(std::uint64_t end_position) { batch_->ack_seq = batch_->tracker->track(end_position); }
  // Every live event, as a stage would see them.
  std::vector<std::uint32_t> all() const {
    std::vector<std::uint32_t> v;
    for (std::uint32_t i = 0; i < batch_->events.size(); ++i) {
      if (!batch_->events[i].dropped()) v.push_back(i);
    }
    return v;
  }
  core::Batch& operator*() { return *batch_; }
  core::Batch* operator->() { return batch_; }
  // Gives the batch up as the pipeline would once delivered.
  void finish() {
    batch_->release();
    batch_ = nullptr;
  }

 private:
  core::Batch* batch_;
};

}  // namespace bifrost::testing
