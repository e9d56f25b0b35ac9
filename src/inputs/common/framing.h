// Splits one connection's byte stream into messages (RFC 6587 for syslog
// over TCP; plain lines for the tcp input):
//
//   newline         each message ends with LF (a CR before it is removed)
//   octet_counting  each message is "MSG-LEN SP MSG" (MSG-LEN decimal)
//   auto            decided per connection by its first byte: a digit means
//                   octet counting, anything else newline
//
// The framer works inside a chunk shared by many connections: the input
// copies the connection's carried bytes (a partial message) to the end of
// the chunk, reads after them, and split() hands out the complete messages
// as ranges of the chunk, carries the rest and cuts the chunk back. Nothing
// is copied but the partial message at the end of each read.
//
// A message longer than max_message_bytes is cut into pieces of at most
// that size, each marked `cut` (the input tags them line_cut): memory stays
// bounded and no byte is lost. A bad MSG-LEN (not digits and a space) is a
// framing error: the bytes up to the next LF go out as a message of their
// own, as received, and octet counting resumes after them.
#pragma once

#include <cstdint>
#include <string>

#include "core/batch.h"
#include "inputs/common/net_metrics.h"

namespace bifrost::inputs {

enum class Framing : std::uint8_t { kNewline, kOctetCounting, kAuto };

class StreamFramer {
 public:
  // A complete message: chunk[begin, end). Returns false to stop (the batch
  // is full); the rest stays carried and has_more() says so.
  struct Sink {
    virtual bool message(std::size_t begin, std::size_t end, bool cut) = 0;
    virtual void framing_error(const char* reason) = 0;

   protected:
    ~Sink() = default;
  };

  void configure(Framing framing, std::size_t max_message) {
    framing_ = framing;
    max_ = max_message < 1 ? 1 : max_message;
  }

  std::size_t carried() const { return carry_.size(); }
  // Complete messages may wait in the carry (split() stopped early).
  bool has_more() const { return more_; }
  // Which framing the connection turned out to use (kAuto until its first byte).
  Framing framing() const { return framing_; }

  // Appends the carried bytes to `chunk` (the caller made room) and returns
  // where this connection's bytes start in it.
  std::size_t begin(core::ByteBuffer& chunk) const;
  // Splits chunk[from, end): messages to `sink`, the rest carried, the chunk
  // cut back to the end of the last message. `eof`: the stream ended, a
  // last partial message goes out as it is.
  void split(core::ByteBuffer& chunk, std::size_t from, bool eof, Sink& sink);

 private:
  std::string carry_;
  Framing framing_ = Framing::kNewline;
  std::size_t max_ = 64 * 1024;
  std::uint64_t frame_left_ = 0;  // octet counting: bytes left of a message being cut
  bool cutting_ = false;          // newline: the carried bytes continue a line already cut
  bool more_ = false;
};

// Turns the framer's messages into events of a batch (pointing into its
// chunk, `offset` = the peer's key, see peers.h); a cut piece is tagged and
// counted. Stops the framer when the batch holds max_events.
class BatchSink final : public StreamFramer::Sink {
 public:
  BatchSink(core::Batch& b, std::uint64_t peer, std::size_t max_events, std::string_view cut_tag, NetStats& stats)
      : b_(b), peer_(peer), max_events_(max_events), cut_tag_(cut_tag), stats_(stats) {}
  bool message(std::size_t begin, std::size_t end, bool cut) override;
  void framing_error(const char* reason) override { stats_.parse_errors.add(reason); }

 private:
  core::Batch& b_;
  std::uint64_t peer_;
  std::size_t max_events_;
  std::string_view cut_tag_;
  NetStats& stats_;
};

}  // namespace bifrost::inputs
