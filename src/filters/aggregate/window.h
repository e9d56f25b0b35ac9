// One window of the aggregate: its groups (found by a hash of their
// group-by values, no allocation per event once a group exists), each
// group's metric cells, and the holds that keep the inputs' checkpoints
// behind the events it counted until it is emitted and delivered.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ack.h"
#include "core/batch.h"
#include "filters/aggregate/aggregate_stage.h"
#include "filters/aggregate/distinct.h"
#include "filters/aggregate/sketch.h"

namespace bifrost::filters::aggregate {

// One metric of one group.
struct Cell {
  std::uint64_t n = 0;  // values counted
  std::int64_t i = 0;   // sum of the integer values (sum, avg)
  double d = 0;         // sum of the other values (sum, avg); the value so far (min, max)
  bool dbl = false;     // a non-integer value was seen: the result is a double
  std::unique_ptr<QuantileSketch> sketch;
  std::unique_ptr<DistinctCounter> distinct;
};

// What one event holds for one metric's field.
struct Input {
  enum class Kind : std::uint8_t { kMissing, kNotANumber, kNumber } kind = Kind::kMissing;
  bool is_int = false;
  std::int64_t i = 0;
  double d = 0;
  std::uint64_t hash = 0;  // of the value (count_distinct); set for any present value
};

// Reads a field's value for the metrics: a number, or a string that is one
// ("1234", "0.25"); the hash of any value for count_distinct.
// A well-spread hash of a value for count_distinct (200 and "200" differ).
std::uint64_t value_hash(const core::Value& v);
// (`want_number`: a metric needs it as a number; `want_hash`: a count_distinct reads it.)
Input read_input(const std::optional<core::Value>& v, bool want_number, bool want_hash);
// Counts `in` into `c` for metric `m`. False when the event is skipped for
// it (missing, or not a number where one is needed).
bool update(Cell& c, const MetricSpec& m, const Input& in);
// The metric's value for the emitted event; nothing when it has none (a
// min of no value).
std::optional<core::Value> result(const Cell& c, const MetricSpec& m);

class Window {
 public:
  Window(std::int64_t start, std::size_t metrics) : start_(start), metrics_(metrics) {}

  std::int64_t start() const { return start_; }
  // The cells of the group with canonical key `key` (hash `h`), added when
  // new; nullptr when a new group would be past `max_groups`.
  Cell* group(std::uint64_t h, std::string_view key, std::size_t max_groups);
  std::size_t groups() const { return groups_.size(); }
  std::string_view key(std::size_t g) const { return {keys_.data() + groups_[g].key_off, groups_[g].key_len}; }
  const Cell* cells(std::size_t g) const { return &cells_[g * metrics_]; }
  // Forgets the groups (after they were emitted early); the holds stay.
  void clear_groups();
  // Holds the batch's ack unless a batch of its source is held already.
  void hold(const core::Batch& b);
  std::vector<core::AckHold> take_holds() { return std::move(holds_); }
  std::size_t bytes() const;

 private:
  struct Group {
    std::uint64_t hash;
    std::uint32_t key_off, key_len;
  };
  void rehash(std::size_t slots);

  std::int64_t start_;
  std::size_t metrics_;
  std::vector<Group> groups_;
  std::string keys_;
  std::vector<Cell> cells_;                         // groups x metrics
  std::vector<std::uint32_t> slots_;                // open addressing: group index + 1, 0 empty
  std::vector<core::AckHold> holds_;                // one per source tracker: the first batch that went in
  const core::AckTracker* held_tracker_ = nullptr;  // the batch held or found held last
  std::uint64_t held_seq_ = 0;
};

}  // namespace bifrost::filters::aggregate
