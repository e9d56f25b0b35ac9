#include "filters/throttle/buckets.h"

#include <algorithm>

namespace bifrost::filters::throttle {

Buckets::Buckets(std::int64_t events, std::int64_t per_ns, std::int64_t burst, std::size_t max_keys)
    : per_(static_cast<unsigned __int128>(per_ns)),
      rate_(static_cast<unsigned __int128>(events)),
      cap_(static_cast<unsigned __int128>(burst) * static_cast<unsigned __int128>(per_ns)),
      max_(max_keys) {}

bool Buckets::take(std::uint64_t key, std::int64_t t_ns) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    if (index_.size() >= max_) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
    lru_.push_front(Bucket{key, cap_, t_ns});  // a new key starts with its burst
    it = index_.emplace(key, lru_.begin()).first;
  } else if (it->second != lru_.begin()) {
    lru_.splice(lru_.begin(), lru_, it->second);
  }
  Bucket& b = *it->second;
  if (t_ns > b.last_ns) {  // time only moves on: an event from the past refills nothing
    const auto elapsed = static_cast<unsigned __int128>(t_ns - b.last_ns);
    b.credit = std::min(cap_, b.credit + elapsed * rate_);  // below 2^127: no overflow
    b.last_ns = t_ns;
  }
  if (b.credit < per_) return false;
  b.credit -= per_;
  return true;
}

std::size_t Buckets::bytes() const {
  // A list node (two links and the bucket) and a hash node with its slot.
  return sizeof(*this) + lru_.size() * (sizeof(Bucket) + 2 * sizeof(void*)) +
         index_.size() * (sizeof(std::uint64_t) + 3 * sizeof(void*)) + index_.bucket_count() * sizeof(void*);
}

void Buckets::encode(StateWriter& w) const {
  w.u64(lru_.size());
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {  // least recent first: loading keeps the order
    w.u64(it->key);
    w.u64(static_cast<std::uint64_t>(it->credit >> 64));
    w.u64(static_cast<std::uint64_t>(it->credit));
    w.i64(it->last_ns);
  }
}

bool Buckets::decode(StateReader& r) {
  const std::uint64_t n = r.count(32);
  for (std::uint64_t k = 0; k < n && r.ok(); ++k) {
    Bucket b{};
    b.key = r.u64();
    const std::uint64_t hi = r.u64(), lo = r.u64();
    b.credit = std::min(cap_, (static_cast<unsigned __int128>(hi) << 64) | lo);
    b.last_ns = r.i64();
    if (!r.ok() || index_.contains(b.key)) continue;
    if (index_.size() >= max_) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
    lru_.push_front(b);
    index_.emplace(b.key, lru_.begin());
  }
  return r.ok();
}

}  // namespace bifrost::filters::throttle
