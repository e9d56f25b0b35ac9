// The journald input's thread: reads entries with sd-journal (which is not
// thread-safe: only this thread touches it), publishes them in batches,
// and saves the cursor of what was acknowledged.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/ack.h"
#include "core/clock.h"
#include "delivery/checkpoint_follower.h"
#include "delivery/checkpoint_store.h"
#include "inputs/journald/journald_input.h"

typedef struct sd_journal sd_journal;

namespace bifrost::inputs::journald {

class Reader final : public pipeline::Input {
 public:
  Reader(const Spec& spec, const pipeline::BuildContext& ctx);
  ~Reader() override;
  void run(pipeline::InputContext& ctx) override;
  void drained() override;

 private:
  bool open();
  void close_journal();
  void position();
  // Reads up to batch_events entries into `b`; the cursor of the last one in `cursor`.
  std::size_t fill(core::Batch& b, std::string& cursor);
  bool save_checkpoint(bool force);
  // The cursor of the last entry acknowledged in order (the follower's
  // thread and this one).
  std::string acknowledged_cursor();

  Spec spec_;
  std::string id_;
  std::string pipeline_;
  std::string data_dir_;
  core::ComponentStats* stats_ = nullptr;
  std::optional<delivery::CheckpointStore> store_;
  sd_journal* j_ = nullptr;
  std::string saved_cursor_;  // in the checkpoint
  std::string start_cursor_;  // loaded at start
  std::shared_ptr<core::AckProgress> progress_ = std::make_shared<core::AckProgress>();
  std::shared_ptr<core::AckTracker> tracker_ = std::make_shared<core::AckTracker>(0, progress_);
  std::uint64_t published_ = 0;  // entries published: the tracker's positions
  std::mutex cursors_mu_;
  std::deque<std::pair<std::uint64_t, std::string>> cursors_;  // per batch: its end position, its last cursor
  std::string acked_cursor_;                                   // under cursors_mu_
  core::Clock& clock_;                                         // the pipeline's: the checkpoint interval
  core::Clock::time_point next_checkpoint_{};
  std::unique_ptr<delivery::CheckpointFollower> follower_;  // last: stopped before what it reads goes
};

}  // namespace bifrost::inputs::journald
