// Token buckets by key, least recently used first out past max_keys. In
// integer credit so the counts are exact: an event costs `per` credits,
// `events` credits come in per nanosecond of event time, a bucket holds
// at most burst * per.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>

#include "filters/common/stage_state.h"

namespace bifrost::filters::throttle {

class Buckets {
 public:
  Buckets(std::int64_t events, std::int64_t per_ns, std::int64_t burst, std::size_t max_keys);
  // Whether an event of key `key` at event time `t_ns` fits the rate (and takes its credit).
  bool take(std::uint64_t key, std::int64_t t_ns);
  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const;
  void encode(StateWriter& w) const;
  bool decode(StateReader& r);

 private:
  struct Bucket {
    std::uint64_t key;
    unsigned __int128 credit;
    std::int64_t last_ns;
  };
  unsigned __int128 per_, rate_, cap_;
  std::size_t max_;
  std::list<Bucket> lru_;  // most recently used first
  std::unordered_map<std::uint64_t, std::list<Bucket>::iterator> index_;
};

}  // namespace bifrost::filters::throttle
