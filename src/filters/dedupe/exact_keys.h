// `mode: exact`: the keys seen, by a 128-bit hash (collision odds about
// n^2/2^129: none in practice), each with when it was first seen and which
// event it was (source and offset: after a restart the stage tells an
// event seen again from a duplicate of it). Oldest first out: entries sit
// in a ring in the order they came, up to max_keys; a hash table of ring
// positions finds them. About 48 bytes a key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "filters/common/hash.h"
#include "filters/common/stage_state.h"

namespace bifrost::filters::dedupe {

class ExactKeys {
 public:
  struct Entry {
    Hash128 key;
    std::int64_t first_ns = 0;
    std::uint64_t source = 0;
    std::uint64_t offset = 0;
    bool dead = false;  // forgotten (seen again after its window): skipped when its turn comes
  };

  explicit ExactKeys(std::uint64_t max_keys) : max_(max_keys) {}

  const Entry* find(const Hash128& key) const;
  // Remembers a key not remembered now; the oldest goes when full.
  void insert(const Entry& e);
  // Forgets `key` (remembered: find() found it).
  void forget(const Hash128& key);
  // Forgets the oldest keys while they were first seen before `cutoff_ns`.
  void expire(std::int64_t cutoff_ns);
  std::size_t size() const { return live_; }
  std::size_t bytes() const;

  void encode(StateWriter& w) const;
  bool decode(StateReader& r);

 private:
  std::size_t pos(std::uint64_t id) const { return static_cast<std::size_t>(id % max_); }
  // The slot holding `key`, or the empty slot where it would go.
  std::size_t slot_of(const Hash128& key) const;
  void erase_slot(std::size_t slot);
  void pop_oldest();
  void grow_table();

  std::uint64_t max_;
  std::vector<Entry> ring_;            // grows up to max_, then wraps
  std::uint64_t head_ = 0, tail_ = 0;  // ids of the oldest and of the next entry
  std::size_t live_ = 0;
  std::vector<std::uint32_t> slots_;  // ring position + 1; 0 empty
  std::size_t used_ = 0;              // slots in use
};

}  // namespace bifrost::filters::dedupe
