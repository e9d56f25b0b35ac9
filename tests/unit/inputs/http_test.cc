#include <doctest.h>

#include <cstring>
#include <string>

#include "config/model.h"
#include "core/json.h"
#include "inputs/http/body.h"
#include "inputs/http/request.h"

using namespace bifrost;
using namespace bifrost::inputs::http;

TEST_CASE("http: a request head is parsed: method, target, length, keep-alive, expect, auth") {
  const std::string head =
      "POST /ingest?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nAuthorization: Bearer t\r\n"
      "Expect: 100-continue\r\nConnection: keep-alive\r\n\r\n";
  REQUIRE(head_end(head + "body") == head.size());
  CHECK(head_end("POST / HTTP/1.1\r\nHost: a\r\n") == 0);
  RequestHead h;
  int status = 0;
  std::string why;
  REQUIRE(parse_head(head, h, status, why));
  CHECK((h.method == "POST" && h.target == "/ingest?x=1" && h.content_length == 12 && !h.chunked));
  CHECK((h.keep_alive && h.expect_continue && h.authorization == "Bearer t"));
  REQUIRE(parse_head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", h, status, why));
  CHECK((h.chunked && !h.keep_alive && !h.http11));
  REQUIRE(parse_head("POST / HTTP/1.1\r\nConnection: close\r\ncontent-length: 0\r\n\r\n", h, status, why));
  CHECK((!h.keep_alive && h.content_length == 0));
}

TEST_CASE("http: a bad head is refused with the status to answer and why") {
  struct Case {
    const char* head;
    int status;
  };
  const Case cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"POST / HTTP/2.0\r\n\r\n", 505},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nExpect: magic\r\n\r\n", 417},
      {"POST / HTTP/1.1\r\nno colon\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n folded: x\r\n\r\n", 400},
      {"P(ST / HTTP/1.1\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    CAPTURE(c.head);
    RequestHead h;
    int status = 0;
    std::string why;
    CHECK_FALSE(parse_head(c.head, h, status, why));
    CHECK(status == c.status);
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("http: a chunked body is decoded as it arrives, extensions and trailers included") {
  const std::string body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (std::size_t step : {1u, 3u, 7u, 1000u}) {
    CAPTURE(step);
    ChunkedDecoder d;
    core::ByteBuffer out;
    std::size_t pos = 0;
    ChunkedDecoder::Status st = ChunkedDecoder::Status::kMore;
    std::string pending;
    while (st == ChunkedDecoder::Status::kMore && pos < body.size()) {
      pending += body.substr(pos, step);
      pos += step;
      std::size_t used = 0;
      st = d.feed(pending, used, &out, 1000);
      pending.erase(0, used);
    }
    REQUIRE(st == ChunkedDecoder::Status::kDone);
    CHECK(std::string(out.data(), out.size()) == "hello world");
    CHECK(pending + (pos < body.size() ? body.substr(pos) : "") == "NEXT");
  }
}

TEST_CASE("http: a chunked body over the limit, or malformed, stops the decoder") {
  ChunkedDecoder d;
  std::size_t used = 0;
  CHECK(d.feed("10\r\n0123456789abcdef\r\n", used, nullptr, 8) == ChunkedDecoder::Status::kTooLarge);
  d.reset();
  CHECK(d.feed("zz\r\n", used, nullptr, 8) == ChunkedDecoder::Status::kBad);
  d.reset();
  CHECK(d.feed("3\r\nabcX", used, nullptr, 8) == ChunkedDecoder::Status::kBad);
  d.reset();
  CHECK(d.feed("ffffffffffffffffff\r\n", used, nullptr, 8) == ChunkedDecoder::Status::kBad);
}

namespace {
struct Decoded {
  bool ok;
  std::string reason;
  std::vector<std::string> events;  // as JSON
};

Decoded decode(Decoding d, std::string_view body, std::size_t max_events = 100) {
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  b->chunk.resize(body.size());
  if (!body.empty()) std::memcpy(b->chunk.data(), body.data(), body.size());
  Decoded out;
  out.ok = decode_body(*b, d, 3, max_events, out.reason);
  core::Rfc3339Cache cache;
  for (const auto& e : b->events) {
    CHECK(e.offset == 3);
    std::string j;
    core::append_event_json(j, e, cache);
    out.events.push_back(j.substr(j.find(",\"message\"") + 1));  // without the time
  }
  b->release();
  return out;
}
}  // namespace

TEST_CASE("http bodies: ndjson, a json array or object, text lines") {
  auto n = decode(Decoding::kNdjson, "{\"message\":\"a\",\"x\":1}\n\n  \r\n{\"y\":[true]}");
  REQUIRE(n.ok);
  CHECK(n.events == std::vector<std::string>{R"("message":"a","x":1})", R"("message":"","y":[true]})"});
  auto j = decode(Decoding::kJson, R"([{"message":"a"},{"message":"b","k":"v"}])");
  REQUIRE(j.ok);
  CHECK(j.events == std::vector<std::string>{R"("message":"a"})", R"("message":"b","k":"v"})"});
  auto one = decode(Decoding::kJson, R"({"message":"solo"})");
  REQUIRE(one.ok);
  CHECK(one.events.size() == 1);
  auto t = decode(Decoding::kText, "a\r\nb\n\nc");
  REQUIRE(t.ok);
  CHECK(t.events ==
        std::vector<std::string>{R"("message":"a"})", R"("message":"b"})", R"("message":""})", R"("message":"c"})"});
  CHECK(decode(Decoding::kText, "").events.empty());
}

TEST_CASE("http bodies: what cannot be read is refused with the reason, and nothing is kept") {
  auto n = decode(Decoding::kNdjson, "{\"a\":1}\n{\"a\":\n");
  CHECK_FALSE(n.ok);
  CHECK(n.reason == "line 2 is not a JSON object");
  CHECK(n.events.empty());
  CHECK(decode(Decoding::kNdjson, "[1]\n").reason == "line 1 is not a JSON object");
  CHECK(decode(Decoding::kJson, "[{},1]").reason == "element 1 of the array is not a JSON object");
  CHECK(decode(Decoding::kJson, "\"str\"").reason == "the body is neither a JSON array of objects nor an object");
  CHECK(decode(Decoding::kJson, "{").reason == "the body is not valid JSON");
  CHECK(decode(Decoding::kText, "a\nb\nc\n", 2).reason == "more than 2 events in one request (max_events)");
  CHECK(decode(Decoding::kJson, "[{},{},{}]", 2).reason == "more than 2 events in one request (max_events)");
}
