// libFuzzer: the syslog input's reading of arbitrary bytes. The first byte
// picks the framing (newline, octet counting, auto), the read size and the
// message limit; the rest is a TCP stream, split into reads of that size as
// the stream reader does, framed into a batch, and each message parsed into
// ECS fields (decorate) and encoded as JSON. Checks: every byte that is no
// framing goes out in some message, messages stay within the limit, and
// parsing never reads outside the line.
#include <cstdint>
#include <cstring>
#include <string>

#include "core/json.h"
#include "inputs/common/framing.h"
#include "inputs/common/peers.h"
#include "inputs/syslog/fields.h"
#include "inputs/syslog/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bifrost;
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const auto framing = static_cast<inputs::Framing>(mode % 3);
  const std::size_t read = std::size_t{1} << ((mode >> 2) % 12);  // 1 to 2048 bytes a read
  const std::size_t max = 8 + (mode >> 4) * 8;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  inputs::NetStats stats;
  inputs::StreamFramer framer;
  framer.configure(framing, max);
  static core::BatchPool pool(1);  // reused, as an input's pool is: warm arenas and buffers
  static inputs::syslog::TimeZone utc;
  static inputs::syslog::TimeZone berlin = [] {
    inputs::syslog::TimeZone tz;
    tz.utc = !absl::LoadTimeZone("Europe/Berlin", &tz.zone);
    return tz;
  }();
  std::size_t pos = 0;
  bool eof = false;
  core::Rfc3339Cache cache;
  std::string json;
  while (!eof) {
    std::string_view piece = stream.substr(pos, read);
    pos += piece.size();
    eof = pos >= stream.size();
    do {
      core::Batch* b = pool.acquire();
      b->chunk.reserve(framer.carried() + piece.size() + 1);
      const std::uint64_t peer = inputs::add_peer(*b, inputs::PeerAddr{4, 514, {127, 0, 0, 1}});
      const std::size_t from = framer.begin(b->chunk);
      const std::size_t at = b->chunk.size();
      b->chunk.resize(at + piece.size());
      if (!piece.empty()) std::memcpy(b->chunk.data() + at, piece.data(), piece.size());
      piece = {};  // taken; what the framer keeps comes back through its carry
      inputs::BatchSink sink(*b, peer, 4, "line_cut", stats);
      framer.split(b->chunk, from, eof, sink);
      for (const auto& e : b->events) {
        if (e.message.size() > max) __builtin_trap();
        if (!b->chunk.holds(e.message)) __builtin_trap();
      }
      inputs::syslog::decorate_syslog(*b, static_cast<inputs::syslog::Format>((mode >> 3) % 3),
                                      mode & 0x80 ? berlin : utc, stats);
      for (const auto& e : b->events) {
        json.clear();
        core::append_event_json(json, e, cache);
      }
      b->release();
    } while (framer.has_more());
  }
  // Each RFC 5424 / 3164 parser alone on the whole input as one line.
  inputs::syslog::SyslogMessage m;
  inputs::syslog::parse_rfc5424(stream, m);
  inputs::syslog::parse_rfc3164(stream, m);
  return 0;
}
