// Splits a byte stream into line events, batch by batch, for line-based
// inputs (stdin, file). Lines point into the batch's chunk, so splitting
// copies nothing but the partial line at the end of each read, which is
// carried into the next batch.
//
// Lines end with \n (a trailing \r is removed). A line longer than
// max_line_bytes is cut into pieces of at most that size, each tagged
// `line_cut`: memory stays bounded and no byte is lost.
#pragma once

#include <cstdint>
#include <string>

#include "core/batch.h"

namespace bifrost::inputs {

class LineSplitter {
 public:
  static constexpr std::string_view kCutTag = "line_cut";

  explicit LineSplitter(std::uint64_t start_offset = 0) : carry_offset_(start_offset) {}

  void configure(std::uint64_t max_line_bytes, std::size_t max_events) {
    max_line_ = max_line_bytes;
    max_events_ = max_events;
  }

  // Source position just past the last byte handed out in events: what a
  // batch acknowledges once it is finished.
  std::uint64_t offset() const { return carry_offset_; }
  std::size_t pending_bytes() const { return carry_.size(); }
  // Whether the last finish() stopped at max_events with bytes left: the
  // carry may hold complete lines, to be split without reading more.
  bool has_more() const { return more_; }

  // Starts filling `batch`: puts the carried partial line first, then leaves
  // room for about `read_bytes` more.
  void begin(core::Batch& batch, std::size_t read_bytes);
  char* write_ptr(core::Batch& batch) { return batch.chunk.data() + batch.chunk.size(); }
  std::size_t space(const core::Batch& batch) const { return limit_ - batch.chunk.size(); }
  void commit(core::Batch& batch, std::size_t n) { batch.chunk.resize(batch.chunk.size() + n); }
  bool has_complete_line(const core::Batch& batch);

  // Forgets the carried bytes: they are read again from offset() (a file
  // closed while idle, or continued from its rotated copy).
  void rewind() {
    carry_.clear();
    more_ = false;
  }
  // Starts over at `offset` (a file read from its start again).
  void reset(std::uint64_t offset) {
    carry_.clear();
    carry_offset_ = offset;
    cutting_ = false;
    more_ = false;
  }
  // After finish(): takes the events from index `first` on back out of the
  // batch; their bytes are carried again (a multiline event still open).
  void retract(core::Batch& batch, std::size_t first);

  // Turns the complete lines into events (at most max_events; the rest is
  // carried). At end of input a last line without \n is an event too.
  void finish(core::Batch& batch, bool eof);

 private:
  void emit(core::Batch& batch, std::size_t begin, std::size_t end, bool cut);

  std::string carry_;
  std::uint64_t carry_offset_;
  std::uint64_t max_line_ = 16u << 20;
  std::size_t max_events_ = 2048;
  std::size_t limit_ = 0;
  std::size_t scanned_ = 0;
  bool cutting_ = false;  // the carried bytes continue a line already cut
  bool more_ = false;
};

}  // namespace bifrost::inputs
