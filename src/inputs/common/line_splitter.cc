#include "inputs/common/line_splitter.h"

#include <cstring>

namespace bifrost::inputs {

void LineSplitter::begin(core::Batch& batch, std::size_t read_bytes) {
  // When the carry already holds complete lines (a batch filled up before
  // the chunk was split), read only up to read_bytes in all: otherwise the
  // carry would grow by the unsplit rest every batch.
  std::size_t room = read_bytes;
  if (more_) room = read_bytes > carry_.size() ? read_bytes - carry_.size() : 0;
  limit_ = carry_.size() + room;
  batch.chunk.reserve(limit_);
  batch.chunk.resize(carry_.size());
  if (!carry_.empty()) std::memcpy(batch.chunk.data(), carry_.data(), carry_.size());
  scanned_ = 0;
}

bool LineSplitter::has_complete_line(const core::Batch& batch) {
  const char* d = batch.chunk.data();
  std::size_t n = batch.chunk.size();
  if (scanned_ < n && std::memchr(d + scanned_, '\n', n - scanned_) != nullptr) return true;
  scanned_ = n;
  return false;
}

void LineSplitter::emit(core::Batch& batch, std::size_t begin, std::size_t end, bool cut) {
  core::Event& e = batch.events.emplace_back();
  e.message = std::string_view(batch.chunk.data() + begin, end - begin);
  e.offset = carry_offset_ + begin;
  if (cut) core::add_tag(e, kCutTag, batch.arena);
}

void LineSplitter::finish(core::Batch& batch, bool eof) {
  const char* d = batch.chunk.data();
  const std::size_t n = batch.chunk.size();
  std::size_t pos = 0;
  while (pos < n && batch.events.size() < max_events_) {
    const char* nl = static_cast<const char*>(std::memchr(d + pos, '\n', n - pos));
    std::size_t end = nl ? static_cast<std::size_t>(nl - d) : n;
    if (!nl && !eof && end - pos < max_line_) break;  // partial line: carry it
    // Cut what is over the limit; the rest of an unterminated line waits.
    while (end - pos > max_line_ && batch.events.size() < max_events_) {
      emit(batch, pos, pos + max_line_, true);
      pos += max_line_;
      cutting_ = true;
    }
    if (end - pos > max_line_ || batch.events.size() >= max_events_) break;
    if (!nl && !eof) break;  // the remainder of a cut line, still unterminated
    std::size_t line_end = end;
    if (nl && line_end > pos && d[line_end - 1] == '\r') --line_end;
    if (line_end > pos || (nl && !cutting_)) emit(batch, pos, line_end, cutting_);
    cutting_ = false;
    pos = nl ? end + 1 : end;
  }
  more_ = batch.events.size() >= max_events_ && pos < n;
  carry_.assign(d + pos, n - pos);
  if (carry_.capacity() > (1u << 20) && carry_.size() < (64u << 10)) carry_.shrink_to_fit();
  carry_offset_ += pos;
}

void LineSplitter::retract(core::Batch& batch, std::size_t first) {
  if (first >= batch.events.size()) return;
  const char* d = batch.chunk.data();
  const std::size_t n = batch.chunk.size();
  const std::size_t begin = static_cast<std::size_t>(batch.events[first].message.data() - d);
  const std::size_t pos = n - carry_.size();  // where finish() stopped
  carry_.assign(d + begin, n - begin);
  carry_offset_ -= pos - begin;
  batch.events.resize(first);
}

}  // namespace bifrost::inputs
