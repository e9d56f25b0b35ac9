#include "filters/common/snapshot_holds.h"

namespace bifrost::filters {

void SnapshotHolds::on_batch(const core::Batch& b) {
  if (!b.tracker) return;
  auto [it, fresh] = sources_.try_emplace(b.tracker.get());
  Source& s = it->second;
  if (fresh) s.tracker = b.tracker;
  if (!s.since_saved && s.tracker->hold(b.ack_seq)) s.since_saved = b.ack_seq;
  if (saving_ && !s.since_taken && s.tracker->hold(b.ack_seq)) s.since_taken = b.ack_seq;
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
    if (s.since_saved) s.tracker->release(*s.since_saved);
    s.since_saved = s.since_taken;
    s.since_taken.reset();
    it = s.since_saved ? std::next(it) : sources_.erase(it);
  }
}

void SnapshotHolds::failed() {
  if (!saving_) return;
  saving_ = false;
  for (auto& [_, s] : sources_) {
    if (s.since_taken) s.tracker->release(*s.since_taken);
    s.since_taken.reset();
  }
}

std::size_t SnapshotHolds::held() const {
  std::size_t n = 0;
  for (const auto& [_, s] : sources_) n += s.since_saved.has_value() + s.since_taken.has_value();
  return n;
}

}  // namespace bifrost::filters
