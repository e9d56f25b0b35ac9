#include <doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "inputs/common/framing.h"
#include "inputs/common/json_event.h"
#include "inputs/common/net_address.h"
#include "inputs/common/peers.h"
#include "inputs/common/rfc3339.h"

using namespace bifrost;
using namespace bifrost::inputs;

namespace {

// Feeds `reads` to one framer as successive reads into fresh batches (as
// the stream reader does), and returns every message, "!" before a cut one.
struct Framed {
  std::vector<std::string> messages;
  std::shared_ptr<NetStats> stats = std::make_shared<NetStats>();
};

Framed frame(Framing f, std::size_t max, const std::vector<std::string>& reads, bool eof = true,
             std::size_t max_events = 1000) {
  Framed out;
  StreamFramer framer;
  framer.configure(f, max);
  core::BatchPool pool(1);
  auto run = [&](std::string_view data, bool end) {
    do {
      core::Batch* b = pool.acquire();
      b->chunk.reserve(framer.carried() + data.size() + 16);
      const std::size_t from = framer.begin(b->chunk);
      const std::size_t at = b->chunk.size();
      b->chunk.resize(at + data.size());
      if (!data.empty()) std::memcpy(b->chunk.data() + at, data.data(), data.size());
      data = {};
      BatchSink sink(*b, 7, max_events, "line_cut", *out.stats);
      framer.split(b->chunk, from, end, sink);
      for (const auto& e : b->events) {
        const core::Value* tags = e.fields.is_object() ? e.fields.find("tags") : nullptr;
        out.messages.push_back((tags ? "!" : "") + std::string(e.message));
        CHECK(e.offset == 7);
      }
      b->release();
    } while (framer.has_more());
  };
  for (std::size_t i = 0; i < reads.size(); ++i) run(reads[i], eof && i + 1 == reads.size());
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("framing newline: lines across reads, CR removed, the last partial line at the end") {
  CHECK(frame(Framing::kNewline, 100, {"a\r\nb", "c\nd", "\n\ne"}).messages == V{"a", "bc", "d", "", "e"});
  CHECK(frame(Framing::kNewline, 100, {"a\nb"}, /*eof=*/false).messages == V{"a"});
}

TEST_CASE("framing newline: a line longer than the maximum is cut into tagged pieces, no byte lost") {
  CHECK(frame(Framing::kNewline, 4, {"abcdefghij\nxy\n"}).messages == V{"!abcd", "!efgh", "!ij", "xy"});
  // Cut exactly at its end: no empty piece.
  CHECK(frame(Framing::kNewline, 4, {"abcd", "efgh\nz\n"}).messages == V{"!abcd", "!efgh", "z"});
}

TEST_CASE("framing octet counting: messages across reads, the length itself split") {
  CHECK(frame(Framing::kOctetCounting, 100, {"5 hello3 abc", "1", "1 hello world"}).messages ==
        V{"hello", "abc", "hello world"});
  // Stray LFs between messages (some senders add one) are skipped.
  CHECK(frame(Framing::kOctetCounting, 100, {"2 ab\n2 cd\r\n"}).messages == V{"ab", "cd"});
  // Messages may hold newlines.
  CHECK(frame(Framing::kOctetCounting, 100, {"7 a\nb\nc\n"}).messages == V{"a\nb\nc\n"});
}

TEST_CASE("framing octet counting: a message over the maximum is cut as it comes; a bad length is an error") {
  CHECK(frame(Framing::kOctetCounting, 4, {"10 abcdefghij2 ok"}).messages == V{"!abcd", "!efgh", "!ij", "ok"});
  CHECK(frame(Framing::kOctetCounting, 4, {"10 abcde", "fghij2 ok"}).messages == V{"!abcd", "!efgh", "!ij", "ok"});
  Framed bad = frame(Framing::kOctetCounting, 100, {"x7 oops\n3 abc"});
  CHECK(bad.messages == V{"x7 oops", "abc"});
  CHECK(bad.stats->parse_errors.get("octet_count") == 1);
  // Cut short by the end of the stream: what came, counted.
  Framed short_ = frame(Framing::kOctetCounting, 100, {"10 abc"});
  CHECK(short_.messages == V{"abc"});
  CHECK(short_.stats->parse_errors.get("octet_count_short") == 1);
}

TEST_CASE("framing auto: decided by the connection's first byte") {
  CHECK(frame(Framing::kAuto, 100, {"3 abc4 defg"}).messages == V{"abc", "defg"});
  CHECK(frame(Framing::kAuto, 100, {"<13>a\n<13>b\n"}).messages == V{"<13>a", "<13>b"});
}

TEST_CASE("framing: a full batch stops the framer; the rest waits in its carry") {
  Framed f = frame(Framing::kNewline, 100, {"a\nb\nc\nd\n"}, true, 2);
  CHECK(f.messages == V{"a", "b", "c", "d"});
}

TEST_CASE("listen addresses: IPv4, [IPv6], localhost; anything else is an error naming the form") {
  auto a = parse_listen("127.0.0.1:5514");
  REQUIRE(a);
  CHECK(format_address(reinterpret_cast<const sockaddr*>(&a->addr)) == "127.0.0.1:5514");
  auto b = parse_listen("[::1]:0");
  REQUIRE(b);
  CHECK(format_address(reinterpret_cast<const sockaddr*>(&b->addr)) == "[::1]:0");
  CHECK(parse_listen("localhost:80"));
  for (const char* bad : {"5514", ":5514", "host.example:514", "1.2.3.4:70000", "1.2.3.4:x", "[::1:5"}) {
    CAPTURE(bad);
    auto r = parse_listen(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("HOST:PORT") != std::string::npos);
  }
}

TEST_CASE("RFC 3339 times, with fractions and offsets") {
  std::int64_t ns = 0;
  REQUIRE(parse_rfc3339("1985-04-12T23:20:50.52Z", ns));
  CHECK(ns == 482196050'520000000);
  REQUIRE(parse_rfc3339("1996-12-19T16:39:57-08:00", ns));
  CHECK(ns == 851042397'000000000);
  REQUIRE(parse_rfc3339("2024-02-29T00:00:00.123456789123+00:00", ns));
  CHECK(ns % 1'000'000'000 == 123456789);
  for (const char* bad : {"2023-02-29T00:00:00Z", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00", "2024-01-01T24:00:00Z",
                          "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00Zjunk"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rfc3339(bad, ns));
  }
}

TEST_CASE("peers travel in batch.source and come back as frozen source objects; the table is cleared") {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  const auto k1 = add_peer(*b, PeerAddr{4, 1000, {192, 168, 1, 2}});
  PeerAddr v6{6, 2000, {}};
  v6.ip[15] = 1;
  const auto k2 = add_peer(*b, v6, "CN=client");
  std::vector<PeerFields> peers;
  take_peers(*b, peers);
  CHECK(b->source.empty());
  REQUIRE(peers.size() == 2);
  std::size_t hint = 0;
  REQUIRE(find_peer(peers, k2, hint));
  CHECK(find_peer(peers, k2, hint)->tls.frozen_json() == R"({"client":{"subject":"CN=client"}})");
  CHECK(find_peer(peers, k1, hint)->source.frozen_json() == R"({"ip":"192.168.1.2","port":1000})");
  CHECK(find_peer(peers, k1, hint)->tls.is_null());
  CHECK(find_peer(peers, k2, hint)->source.frozen_json() == R"({"ip":"::1","port":2000})");
  CHECK(find_peer(peers, 12345, hint) == nullptr);
  b->release();
}

TEST_CASE("decoding json: an object becomes message, @timestamp and fields; anything else is refused") {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  core::Event& e = b->events.emplace_back();
  e.timestamp_ns = 5;
  REQUIRE(
      decode_json_event(*b, e, R"({"message":"m","@timestamp":"2024-01-01T00:00:00Z","a":{"b":1},"@timestamp2":"x"})"));
  std::string out;
  core::Rfc3339Cache cache;
  core::append_event_json(out, e, cache);
  CHECK(out == R"({"@timestamp":"2024-01-01T00:00:00.000000000Z","message":"m","a":{"b":1},"@timestamp2":"x"})");
  core::Event& f = b->events.emplace_back();
  f.message = "[1,2]";
  CHECK_FALSE(decode_json_event(*b, f, "[1,2]"));
  CHECK_FALSE(decode_json_event(*b, f, "{broken"));
  CHECK(f.message == "[1,2]");
  b->release();
}
