// A Batch is the unit that moves through bifrost: hundreds to thousands of
// events from ONE source, with the memory they point into (the read chunk
// and an Arena). Batches come from a fixed-size BatchPool owned by their
// input, which bounds memory and is the backpressure: an input that cannot
// get a batch stops reading.
//
// Lifecycle: the input fills a batch and publishes it; one pipeline worker
// runs filters, routes, and encodes it; then it is shared, read-only, by
// every output it was routed to. Each holder calls release(); the last one
// completes the batch's ack sequence and returns it to its pool.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/ack.h"
#include "core/arena.h"
#include "core/event.h"

namespace bifrost::core {

class Batch;
class BatchPool;

// The input that made a batch. decorate() runs on a pipeline worker (not the
// input thread) before the filters, to turn source metadata into fields.
class BatchOrigin {
 public:
  virtual ~BatchOrigin() = default;
  virtual void decorate(Batch& batch) const = 0;
  // The batch is finished: its last holder released it, after its tracker
  // (if any) was told. `acknowledged` is false when it was abandoned. Runs
  // on the releasing thread (a worker's, an output's), so it must be quick
  // and thread-safe: for an input that answers its sender per batch (the
  // http input sends its answer once every event is delivered or parked).
  virtual void finished(const Batch& /*batch*/, bool /*acknowledged*/) const {}
};

// A growable byte buffer that does not zero what it reserves. kSlack more
// bytes than its capacity are allocated, so a parser that reads ahead in
// blocks (simdjson reads up to 64 bytes past a document's end) may read a
// message in place.
class ByteBuffer {
 public:
  static constexpr std::size_t kSlack = 64;
  // Whether `s` lies in this buffer's memory (and so has kSlack readable
  // bytes past its end).
  bool holds(std::string_view s) const {
    return data_ && s.data() >= data_.get() && s.data() + s.size() <= data_.get() + cap_;
  }

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  void resize(std::size_t n) {
    reserve(n);
    size_ = n;
  }
  void reserve(std::size_t n);
  void shrink_to(std::size_t cap);  // drops contents when over `cap`

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

// What the router and an output's encoder leave in a batch for one output.
struct OutputSlot {
  std::vector<std::uint32_t> selected;  // indexes into Batch::events, in order
  std::string encoded;                  // the selected events encoded back to back
  std::vector<std::uint32_t> ends;      // end of each selected event in `encoded`
  void clear() {
    selected.clear();
    encoded.clear();
    ends.clear();
  }
};

class Batch {
 public:
  std::vector<Event> events;
  Arena arena;
  ByteBuffer chunk;  // raw bytes the input read; messages point here
  std::int64_t ingest_ns = 0;
  const BatchOrigin* origin = nullptr;
  std::string source;                   // the source's name (a file's path); kept across reuse, so no allocation
  std::uint64_t source_id = 0;          // a stable identity of the source (file: device, inode, fingerprint)
  std::shared_ptr<AckTracker> tracker;  // null: nothing to acknowledge
  std::uint64_t ack_seq = 0;
  // The reading of its input the batch belongs to, under exactly-once
  // delivery (pipeline/exactly_once.h): after an aborted transaction the
  // inputs go back to the committed positions and start a new epoch, and the
  // batches of an older one are left unsent (they are read again).
  std::uint64_t epoch = 0;
  std::vector<OutputSlot> slots;  // one per output of the pipeline
  // Events of the batch parked in a failed queue (by a filter stage or an
  // output) before it finished: what BatchOrigin::finished() may report.
  std::atomic<std::uint32_t> parked{0};

  // Adds holders; release() drops one and finishes the batch at zero.
  void retain(int n) { refs_.fetch_add(n, std::memory_order_relaxed); }
  void release();
  // Gives up on the batch (shutdown deadline passed with it undelivered):
  // when released it goes back to the pool WITHOUT acknowledging, so the
  // input's checkpoint never moves past it and it is read again next time.
  void abandon() { abandoned_.store(true, std::memory_order_relaxed); }
  // Keeps the batch's acknowledgement pending past its release, until the
  // hold is done (core/ack.h); empty when the batch has no tracker or is
  // finished already. For a holder of the batch (between its retain and
  // its release, or a stage on its turn) that keeps some of its events, or
  // what it made of them, elsewhere.
  AckHold hold_ack() const { return AckHold::take(tracker, ack_seq); }

  std::size_t live_events() const;

 private:
  friend class BatchPool;
  void reset();
  std::atomic<int> refs_{0};
  std::atomic<bool> abandoned_{false};
  BatchPool* pool_ = nullptr;
};

class BatchPool {
 public:
  explicit BatchPool(std::size_t count);
  ~BatchPool();
  BatchPool(const BatchPool&) = delete;
  BatchPool& operator=(const BatchPool&) = delete;

  // Blocks until a batch is free. Returns nullptr once closed (unless
  // `even_closed`, for an input's last batch while stopping; then nullptr
  // only after close(/*final=*/true)). The batch comes with one reference.
  Batch* acquire(bool even_closed = false);
  // Like acquire(), but gives up (nullptr) after `wait`.
  Batch* acquire_for(std::chrono::milliseconds wait);
  // A free batch now, or nullptr (none free, or closed): never waits.
  Batch* try_acquire();
  // Wakes every waiter. `final`: even_closed waiters give up too.
  void close(bool final = false);

  std::size_t in_use() const;
  // Waits until every batch is back (all finished). False on timeout.
  bool wait_all_returned(std::chrono::steady_clock::time_point deadline);

 private:
  friend class Batch;
  void give_back(Batch* b);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Batch>> all_;
  std::vector<Batch*> free_;
  bool closed_ = false;
  bool closed_final_ = false;
};

}  // namespace bifrost::core
