// What the stateful stages (aggregate, dedupe, throttle) share to keep their
// state across restarts: the state file, its encoding, and which events a
// restarted stage sees again.
//
// After a crash an input reads again from its checkpoint, so a stage sees
// again events it processed before its state was saved. Each state file
// carries, per source, the offset of the last event the stage had processed
// when the state was taken (SourcePositions); a stage loading it knows an
// event of that source at or below that offset as one it has seen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/batch.h"
#include "core/stats.h"
#include "delivery/checkpoint_store.h"
#include "pipeline/component.h"

namespace bifrost::filters {

// Little-endian fixed-width fields of a state body.
class StateWriter {
 public:
  void u64(std::uint64_t v);
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v);
  void bytes(std::string_view b);  // length, then the bytes
  // Like bytes(), but `b` is written from where it is (it must stay as it
  // is until the body is saved): a Bloom filter's bits are not copied.
  void bytes_in_place(std::string_view b);
  // The body, in parts: what was written, with the in-place bytes between.
  std::vector<std::string_view> parts() const;

 private:
  std::string out_;
  std::vector<std::pair<std::size_t, std::string_view>> in_place_;  // after out_[0, first)
};

// Reads what a StateWriter wrote; any read past the end (or a length that
// does not fit) turns ok() false for good.
class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in) {}
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  std::string_view bytes();
  // A count of things each at least `min_bytes` long: 0 (and not ok) when
  // the body cannot hold that many.
  std::uint64_t count(std::size_t min_bytes);
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && in_.empty(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

// The identity of the source a batch came from: the input's stable id (a
// file's device, inode and first bytes) or, when it has none, its name (a
// Kafka topic/partition; a stage's id for what a stage emitted).
std::uint64_t source_key(const core::Batch& b);

// Per source, the offset of the last event the stage processed.
class SourcePositions {
 public:
  // Every batch, in order, after its events went through the stage.
  void note(const core::Batch& b);
  // Whether an event of `src` at `offset` came before these positions.
  bool covers(std::uint64_t src, std::uint64_t offset) const {
    auto it = last_.find(src);
    return it != last_.end() && offset <= it->second;
  }
  bool empty() const { return last_.empty(); }
  std::size_t size() const { return last_.size(); }
  template <class F>
  void each_source(F&& f) const {
    for (const auto& [src, _] : last_) f(src);
  }
  void encode(StateWriter& w) const;
  bool decode(StateReader& r);

 private:
  std::unordered_map<std::uint64_t, std::uint64_t> last_;
};

// A stateful stage's state file, data_dir/state/<pipeline>/<component>.state
// (written atomically: delivery/checkpoint_store.h). Without a data_dir
// (`bifrost test`) there is none and nothing is kept.
class StateFile {
 public:
  // `errors` counts files that cannot be read or written; `on_corrupt` says
  // what the stage does without its state (the log line of a corrupt file).
  StateFile(const pipeline::BuildContext& ctx, core::Counter* errors, std::string on_corrupt);

  bool enabled() const { return store_.has_value(); }
  // The saved body; nothing when there is none (first start), or it cannot
  // be read (reported, counted; a corrupt file is moved aside).
  std::optional<std::string> load();
  bool save(const StateWriter& body);
  // A body that load() returned but the stage cannot decode: moved aside,
  // reported and counted like a corrupt file. Never a failed start.
  void set_aside(std::string_view why);

 private:
  std::optional<delivery::CheckpointStore> store_;
};

}  // namespace bifrost::filters
