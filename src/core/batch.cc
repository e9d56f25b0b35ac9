#include "core/batch.h"

#include <cstring>

namespace bifrost::core {

void ByteBuffer::reserve(std::size_t n) {
  if (n <= cap_) return;
  std::size_t cap = cap_ ? cap_ : 4096;
  while (cap < n) cap *= 2;
  std::unique_ptr<char[]> fresh(new char[cap + kSlack]);  // not zeroed: written before read
  if (size_) std::memcpy(fresh.get(), data_.get(), size_);
  data_ = std::move(fresh);
  cap_ = cap;
}

void ByteBuffer::shrink_to(std::size_t cap) {
  if (cap_ <= cap) return;
  data_.reset();
  cap_ = size_ = 0;
}

void Batch::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const bool acknowledged = !abandoned_.load(std::memory_order_relaxed);
  if (tracker && acknowledged) tracker->complete(ack_seq);
  if (origin) origin->finished(*this, acknowledged);
  if (pool_) pool_->give_back(this);
}

std::size_t Batch::live_events() const {
  std::size_t n = 0;
  for (const Event& e : events) n += !e.dropped();
  return n;
}

void Batch::reset() {
  events.clear();
  // A batch that carried one giant line gives that memory back.
  constexpr std::size_t kMaxKeptEvents = 64 * 1024;
  if (events.capacity() > kMaxKeptEvents) events.shrink_to_fit();
  arena.reset();
  chunk.resize(0);
  chunk.shrink_to(8u << 20);
  ingest_ns = 0;
  origin = nullptr;
  source.clear();
  source_id = 0;
  tracker.reset();
  ack_seq = 0;
  epoch = 0;
  parked.store(0, std::memory_order_relaxed);
  abandoned_.store(false, std::memory_order_relaxed);
  for (OutputSlot& s : slots) {
    s.clear();
    if (s.encoded.capacity() > (8u << 20)) std::string().swap(s.encoded);
  }
}

BatchPool::BatchPool(std::size_t count) {
  all_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    all_.push_back(std::make_unique<Batch>());
    all_.back()->pool_ = this;
    free_.push_back(all_.back().get());
  }
}

BatchPool::~BatchPool() = default;

Batch* BatchPool::acquire(bool even_closed) {
  std::unique_lock lock(mu_);
  bool& gate = even_closed ? closed_final_ : closed_;
  cv_.wait(lock, [&] { return gate || !free_.empty(); });
  if (gate || free_.empty()) return nullptr;
  Batch* b = free_.back();
  free_.pop_back();
  b->refs_.store(1, std::memory_order_relaxed);
  return b;
}

Batch* BatchPool::acquire_for(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return closed_ || !free_.empty(); });
  if (closed_ || free_.empty()) return nullptr;
  Batch* b = free_.back();
  free_.pop_back();
  b->refs_.store(1, std::memory_order_relaxed);
  return b;
}

Batch* BatchPool::try_acquire() {
  std::lock_guard lock(mu_);
  if (closed_ || free_.empty()) return nullptr;
  Batch* b = free_.back();
  free_.pop_back();
  b->refs_.store(1, std::memory_order_relaxed);
  return b;
}

void BatchPool::close(bool final) {
  std::lock_guard lock(mu_);
  closed_ = true;
  closed_final_ = closed_final_ || final;
  cv_.notify_all();
}

void BatchPool::give_back(Batch* b) {
  b->reset();
  std::lock_guard lock(mu_);
  free_.push_back(b);
  cv_.notify_all();
}

std::size_t BatchPool::in_use() const {
  std::lock_guard lock(mu_);
  return all_.size() - free_.size();
}

bool BatchPool::wait_all_returned(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return free_.size() == all_.size(); });
}

}  // namespace bifrost::core
