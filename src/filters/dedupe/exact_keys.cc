#include "filters/dedupe/exact_keys.h"

#include <algorithm>

namespace bifrost::filters::dedupe {

std::size_t ExactKeys::slot_of(const Hash128& key) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = key.lo & mask;; i = (i + 1) & mask) {
    if (slots_[i] == 0 || ring_[slots_[i] - 1].key == key) return i;
  }
}

const ExactKeys::Entry* ExactKeys::find(const Hash128& key) const {
  if (slots_.empty()) return nullptr;
  const std::size_t s = slot_of(key);
  return slots_[s] == 0 ? nullptr : &ring_[slots_[s] - 1];
}

void ExactKeys::grow_table() {
  std::vector<std::uint32_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, 0);
  for (std::uint32_t v : old) {
    if (v != 0) slots_[slot_of(ring_[v - 1].key)] = v;
  }
}

void ExactKeys::insert(const Entry& e) {
  if (tail_ - head_ >= max_) pop_oldest();
  if ((used_ + 1) * 2 > slots_.size()) grow_table();
  const std::size_t p = pos(tail_);
  if (p == ring_.size()) {
    if (ring_.size() == ring_.capacity()) {  // doubling, but never past max_keys
      ring_.reserve(
          static_cast<std::size_t>(std::min<std::uint64_t>(max_, std::max<std::size_t>(64, ring_.size() * 2))));
    }
    ring_.push_back(e);
  } else {
    ring_[p] = e;
  }
  ring_[p].dead = false;
  ++tail_;
  slots_[slot_of(e.key)] = static_cast<std::uint32_t>(p + 1);
  ++used_;
  ++live_;
}

// Linear probing keeps no tombstones: the entries after the emptied slot
// that would no longer be reached move back.
void ExactKeys::erase_slot(std::size_t slot) {
  const std::size_t mask = slots_.size() - 1;
  slots_[slot] = 0;
  --used_;
  for (std::size_t i = (slot + 1) & mask; slots_[i] != 0; i = (i + 1) & mask) {
    const std::uint32_t v = slots_[i];
    slots_[i] = 0;
    slots_[slot_of(ring_[v - 1].key)] = v;
  }
}

void ExactKeys::forget(const Hash128& key) {
  if (slots_.empty()) return;
  const std::size_t s = slot_of(key);
  if (slots_[s] == 0) return;
  ring_[slots_[s] - 1].dead = true;
  erase_slot(s);
  --live_;
}

void ExactKeys::pop_oldest() {
  Entry& e = ring_[pos(head_)];
  if (!e.dead) {
    erase_slot(slot_of(e.key));
    --live_;
    e.dead = true;
  }
  ++head_;
}

void ExactKeys::expire(std::int64_t cutoff_ns) {
  while (head_ < tail_ && (ring_[pos(head_)].dead || ring_[pos(head_)].first_ns < cutoff_ns)) pop_oldest();
}

std::size_t ExactKeys::bytes() const {
  return sizeof(*this) + ring_.capacity() * sizeof(Entry) + slots_.capacity() * sizeof(std::uint32_t);
}

void ExactKeys::encode(StateWriter& w) const {
  w.u64(live_);
  for (std::uint64_t id = head_; id < tail_; ++id) {
    const Entry& e = ring_[pos(id)];
    if (e.dead) continue;
    w.u64(e.key.hi);
    w.u64(e.key.lo);
    w.i64(e.first_ns);
    w.u64(e.source);
    w.u64(e.offset);
  }
}

bool ExactKeys::decode(StateReader& r) {
  const std::uint64_t n = r.count(40);
  for (std::uint64_t k = 0; k < n && r.ok(); ++k) {
    Entry e;
    e.key.hi = r.u64();
    e.key.lo = r.u64();
    e.first_ns = r.i64();
    e.source = r.u64();
    e.offset = r.u64();
    if (r.ok() && !find(e.key)) insert(e);
  }
  return r.ok();
}

}  // namespace bifrost::filters::dedupe
