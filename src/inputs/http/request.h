// HTTP/1.1 requests as the http input reads them: the head (request line
// and headers, at most kMaxHeadBytes) parsed from a complete block, and a
// chunked body decoded incrementally. Only what a push endpoint needs:
// Content-Length or chunked bodies, keep-alive, Expect: 100-continue.
// Pure; fuzzed (tests/fuzz/fuzz_http.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/batch.h"

namespace bifrost::inputs::http {

inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;

struct RequestHead {
  std::string_view method, target;
  bool http11 = true;
  bool keep_alive = true;
  bool chunked = false;
  bool expect_continue = false;
  std::int64_t content_length = -1;  // -1: none given
  std::string_view authorization, content_encoding;
};

// Where the head ends in `data` (just past the blank line), or 0 when it
// is not complete yet.
std::size_t head_end(std::string_view data);

// Parses a complete head; on failure the status to answer (400, 501, 505)
// and the reason.
bool parse_head(std::string_view head, RequestHead& out, int& status, std::string& reason);

// Decodes a chunked body as its bytes arrive. Data goes to `out` (nullptr:
// discarded) up to `max_body` bytes in all.
class ChunkedDecoder {
 public:
  enum class Status : std::uint8_t { kMore, kDone, kTooLarge, kBad };
  void reset() { *this = ChunkedDecoder{}; }
  // Consumes a prefix of `in` (`consumed` bytes; the rest belongs to the
  // next request once kDone).
  Status feed(std::string_view in, std::size_t& consumed, core::ByteBuffer* out, std::size_t max_body);
  std::uint64_t body_bytes() const { return total_; }

 private:
  enum class State : std::uint8_t { kSize, kExt, kSizeLf, kData, kDataCr, kDataLf, kTrailer, kTrailerLf, kDone };
  State state_ = State::kSize;
  std::uint64_t left_ = 0;
  std::uint64_t total_ = 0;
  std::size_t line_ = 0;  // bytes of the current size or trailer line (bounded)
  int digits_ = 0;
};

}  // namespace bifrost::inputs::http
