#include "filters/common/snapshot_holds.h"

namespace bifrost::filters {

void SnapshotHolds::on_batch(const core::Batch& b) {
  if (!b.tracker) return;
  Source& s = sources_[b.tracker.get()];
  if (!s.since_saved) s.since_saved = b.hold_ack();
  if (saving_ && !s.since_taken) s.since_taken = b.hold_ack();
}

void SnapshotHolds::taken() {
  if (saving_) failed();  // a state never saved: forget it
  saving_ = true;
}

void SnapshotHolds::saved() {
  if (!saving_) return;
  saving_ = false;
  for (auto it = sources_.begin(); it != sources_.end();) {
    Source& s = it->second;
    s.since_saved.done();
    s.since_saved = std::move(s.since_taken);
    it = s.since_saved ? std::next(it) : sources_.erase(it);
  }
}

void SnapshotHolds::failed() {
  if (!saving_) return;
  saving_ = false;
  for (auto& [_, s] : sources_) s.since_taken.done();
}

std::size_t SnapshotHolds::held() const {
  std::size_t n = 0;
  for (const auto& [_, s] : sources_) n += static_cast<bool>(s.since_saved) + static_cast<bool>(s.since_taken);
  return n;
}

}  // namespace bifrost::filters
