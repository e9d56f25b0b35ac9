// libFuzzer: the http input's request reading. The first byte picks what:
// a request head (parsed when complete), a chunked body fed in pieces of a
// size the byte also picks (the decoded body never over the limit, every
// byte consumed or left for the next request), or a body decoded as
// ndjson, json or text into events (each within the body, encodable).
#include <cstdint>
#include <cstring>
#include <string>

#include "core/json.h"
#include "inputs/http/body.h"
#include "inputs/http/request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bifrost::inputs::http;
  namespace core = bifrost::core;
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode % 3) {
    case 0: {
      const std::size_t end = head_end(in);
      if (end > in.size()) __builtin_trap();
      RequestHead h;
      int status = 0;
      std::string why;
      if (!parse_head(in.substr(0, end ? end : in.size()), h, status, why) && why.empty()) __builtin_trap();
      return 0;
    }
    case 1: {
      ChunkedDecoder d;
      core::ByteBuffer out;
      const std::size_t step = 1 + (mode >> 2) % 64;
      const std::size_t max = 16 + (mode >> 2) * 4;
      std::string pending;
      std::size_t pos = 0;
      auto st = ChunkedDecoder::Status::kMore;
      while (st == ChunkedDecoder::Status::kMore && (pos < in.size() || !pending.empty())) {
        pending.append(in.substr(pos, step));
        pos += step;
        std::size_t used = 0;
        st = d.feed(pending, used, &out, max);
        if (used > pending.size()) __builtin_trap();
        if (used == 0 && st == ChunkedDecoder::Status::kMore && pos >= in.size()) break;
        pending.erase(0, used);
      }
      if (out.size() > max) __builtin_trap();
      return 0;
    }
    default: {
      static core::BatchPool pool(1);
      core::Batch* b = pool.acquire();
      b->chunk.resize(in.size());
      if (!in.empty()) std::memcpy(b->chunk.data(), in.data(), in.size());
      std::string reason;
      const auto decoding = static_cast<Decoding>((mode >> 2) % 3);
      const bool ok = decode_body(*b, decoding, 0, 1000, reason);
      if (!ok && (reason.empty() || !b->events.empty())) __builtin_trap();
      core::Rfc3339Cache cache;
      std::string json;
      for (const auto& e : b->events) {
        if (decoding == Decoding::kText && !b->chunk.holds(e.message)) __builtin_trap();
        json.clear();
        core::append_event_json(json, e, cache);
      }
      b->release();
      return 0;
    }
  }
}
