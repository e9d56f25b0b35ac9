#include "inputs/common/framing.h"

#include <algorithm>
#include <cstring>

namespace bifrost::inputs {

std::size_t StreamFramer::begin(core::ByteBuffer& chunk) const {
  const std::size_t from = chunk.size();
  if (!carry_.empty()) {
    chunk.resize(from + carry_.size());
    std::memcpy(chunk.data() + from, carry_.data(), carry_.size());
  }
  return from;
}

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

void StreamFramer::split(core::ByteBuffer& chunk, std::size_t from, bool eof, Sink& sink) {
  const char* d = chunk.data();
  const std::size_t n = chunk.size();
  std::size_t pos = from;
  bool stopped = false;
  if (framing_ == Framing::kAuto && pos < n) framing_ = is_digit(d[pos]) ? Framing::kOctetCounting : Framing::kNewline;
  while (pos < n && !stopped) {
    if (framing_ == Framing::kOctetCounting) {
      if (frame_left_ > 0) {  // the rest of a message being cut
        const std::size_t avail = n - pos;
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(frame_left_, avail));
        if (take < frame_left_ && take < max_ && !eof) break;  // wait for a full piece
        const std::size_t piece = std::min(take, max_);
        stopped = !sink.message(pos, pos + piece, true);
        pos += piece;
        frame_left_ -= piece;
        continue;
      }
      // Between messages: a sender's stray LF (or CR, NUL, space) is skipped.
      if (d[pos] == '\n' || d[pos] == '\r' || d[pos] == '\0' || d[pos] == ' ') {
        ++pos;
        continue;
      }
      std::size_t p = pos;
      std::uint64_t len = 0;
      while (p < n && p - pos < 10 && is_digit(d[p])) len = len * 10 + static_cast<unsigned>(d[p++] - '0');
      const std::size_t digits = p - pos;
      if (p == n && digits < 10 && !eof) break;  // the length is still coming
      const bool good = digits > 0 && d[pos] != '0' && p < n && d[p] == ' ';
      if (!good) {
        // Not "MSG-LEN SP": what comes up to the next LF is a message as it is.
        const char* nl = static_cast<const char*>(std::memchr(d + pos, '\n', n - pos));
        std::size_t end = nl ? static_cast<std::size_t>(nl - d) : n;
        if (!nl && !eof && end - pos < max_) break;
        end = std::min(end, pos + max_);
        sink.framing_error("octet_count");
        std::size_t e = end;
        if (e > pos && d[e - 1] == '\r') --e;
        stopped = !sink.message(pos, e, false);
        pos = end < n && d[end] == '\n' ? end + 1 : end;
        continue;
      }
      const std::size_t body = p + 1;
      if (len > max_) {  // too long to keep whole: cut it as it comes
        pos = body;
        frame_left_ = len;
        continue;
      }
      if (n - body >= len) {
        stopped = !sink.message(body, body + len, false);
        pos = body + len;
        continue;
      }
      if (eof) {  // the stream ended inside a message: what came of it
        sink.framing_error("octet_count_short");
        stopped = !sink.message(body, n, false);
        pos = n;
        continue;
      }
      break;
    }
    // Newline framing.
    const char* nl = static_cast<const char*>(std::memchr(d + pos, '\n', n - pos));
    const std::size_t end = nl ? static_cast<std::size_t>(nl - d) : n;
    if (end - pos > max_) {
      stopped = !sink.message(pos, pos + max_, true);
      pos += max_;
      cutting_ = true;
      continue;
    }
    if (!nl && !eof) break;  // partial line: carried
    std::size_t line_end = end;
    if (nl && line_end > pos && d[line_end - 1] == '\r') --line_end;
    // The empty remainder of a line cut exactly at its end is no message.
    if (line_end > pos || (nl && !cutting_)) stopped = !sink.message(pos, line_end, cutting_);
    cutting_ = false;
    pos = nl ? end + 1 : end;
  }
  more_ = stopped && pos < n;
  carry_.assign(d + pos, n - pos);
  if (carry_.capacity() > (1u << 20) && carry_.size() < (64u << 10)) carry_.shrink_to_fit();
  chunk.resize(pos);
}

bool BatchSink::message(std::size_t begin, std::size_t end, bool cut) {
  core::Event& e = b_.events.emplace_back();
  e.message = std::string_view(b_.chunk.data() + begin, end - begin);
  e.offset = peer_;
  if (cut) {
    core::add_tag(e, cut_tag_, b_.arena);
    stats_.parse_errors.add("message_cut");
  }
  return b_.events.size() < max_events_;
}

}  // namespace bifrost::inputs
