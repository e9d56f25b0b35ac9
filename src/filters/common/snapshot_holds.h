// For a stage that saves its state now and then (dedupe, throttle): keeps
// each source's checkpoint at or before the last state on disk, so that
// after a crash the input reads again everything the saved state does not
// know, and nothing the stage let through is forgotten.
//
// Per source (ack tracker), the first batch the stage saw after the last
// saved state is held (core/ack.h). When a newer state is saved, those
// holds go and the first batches after it are held instead. A stage that
// stops saves its state last, so a clean stop leaves nothing held.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>

#include "core/ack.h"
#include "core/batch.h"
#include "core/clock.h"
#include "filters/common/stage_state.h"

namespace bifrost::filters {

class SnapshotHolds {
 public:
  SnapshotHolds() = default;
  SnapshotHolds(const SnapshotHolds&) = delete;
  SnapshotHolds& operator=(const SnapshotHolds&) = delete;
  // Holds never released stay: the checkpoints stay behind them.
  ~SnapshotHolds() = default;

  // Every batch, on the stage's turn, before it goes on.
  void on_batch(const core::Batch& b);
  // The state as of now is being saved: batches seen from now on are after it.
  void taken();
  // That state is on disk: the holds from before it go.
  void saved();
  // It could not be saved: the holds from before it stay.
  void failed();
  std::size_t held() const;

 private:
  struct Source {
    core::AckHold since_saved;  // the first batch after the state on disk
    core::AckHold since_taken;  // the first batch after the state being saved
  };
  std::unordered_map<const core::AckTracker*, Source> sources_;
  bool saving_ = false;
};

// A snapshot stage's save: with nothing new to write (or no state file) the
// holds taken go at once; otherwise `encode(w)` writes the body after
// `magic`, and the holds taken before it go once it is on disk (they stay,
// for the next try, when it is not).
template <class Encode>
void save_snapshot(StateFile& state, SnapshotHolds& holds, bool& dirty, std::string_view magic, Encode&& encode) {
  if (!dirty || !state.enabled()) {
    holds.taken();
    holds.saved();
    return;
  }
  StateWriter w;
  w.bytes(magic);
  encode(w);
  holds.taken();
  if (state.save(w)) {
    holds.saved();
    dirty = false;
  } else {
    holds.failed();
  }
}

// Whether a periodic job is due at `now`; if so, it is next due `every` later.
inline bool due(core::Clock::time_point& next, core::Clock::time_point now, std::chrono::nanoseconds every) {
  if (now < next) return false;
  next = now + every;
  return true;
}

}  // namespace bifrost::filters
