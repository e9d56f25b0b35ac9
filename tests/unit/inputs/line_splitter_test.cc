#include <doctest.h>

#include <cstring>

#include "inputs/common/line_splitter.h"

using namespace bifrost;

namespace {
// Feeds `data` in reads of `step` bytes, one batch per read.
struct Run {
  std::vector<std::string> lines;
  std::vector<std::uint64_t> offsets;
  std::vector<bool> cut;
  std::uint64_t acked = 0;
};

Run feed(const std::string& data, std::size_t step, std::uint64_t max_line = 1 << 20, std::size_t max_events = 1000) {
  Run r;
  inputs::LineSplitter s;
  s.configure(max_line, max_events);
  core::BatchPool pool(1);
  std::size_t pos = 0;
  bool eof = false;
  while (!eof || s.pending_bytes() > 0) {
    core::Batch* b = pool.acquire();
    s.begin(*b, step);
    std::size_t n = std::min(step, data.size() - pos);
    std::memcpy(s.write_ptr(*b), data.data() + pos, n);
    s.commit(*b, n);
    pos += n;
    eof = pos == data.size();
    s.finish(*b, eof);
    for (const auto& e : b->events) {
      r.lines.emplace_back(e.message);
      r.offsets.push_back(e.offset);
      r.cut.push_back(e.fields.is_object() && e.fields.find("tags") != nullptr);
    }
    r.acked = s.offset();
    b->release();
    if (eof && b->events.empty() && s.pending_bytes() == 0) break;
  }
  return r;
}
}  // namespace

TEST_CASE("lines split across reads come out whole, with their offsets") {
  for (std::size_t step : {1, 3, 7, 64, 4096}) {
    Run r = feed("alpha\nbeta\r\n\ngamma", step);
    REQUIRE(r.lines.size() == 4);
    CHECK(r.lines[0] == "alpha");
    CHECK(r.lines[1] == "beta");  // \r removed
    CHECK(r.lines[2] == "");
    CHECK(r.lines[3] == "gamma");  // last line without \n, at end of input
    CHECK(r.offsets == std::vector<std::uint64_t>{0, 6, 12, 13});
    CHECK(r.acked == 18);
  }
}

TEST_CASE("a line over max_line_bytes is cut into tagged pieces and nothing is lost") {
  std::string big(100, 'x');
  Run r = feed("ok\n" + big + "\nnext\n", 16, 40);
  REQUIRE(r.lines.size() == 5);
  CHECK(r.lines[0] == "ok");
  CHECK(r.lines[1] == std::string(40, 'x'));
  CHECK(r.lines[2] == std::string(40, 'x'));
  CHECK(r.lines[3] == std::string(20, 'x'));
  CHECK(r.cut == std::vector<bool>{false, true, true, true, false});
  CHECK(r.lines[4] == "next");
  CHECK(r.offsets[4] == 104);
}

TEST_CASE("a batch holds at most max_events lines; the rest waits for the next batch") {
  Run r = feed("a\nb\nc\nd\ne\n", 100, 1 << 20, 2);
  CHECK(r.lines == std::vector<std::string>{"a", "b", "c", "d", "e"});
}

TEST_CASE("while the carry holds complete lines, a read only tops the chunk up to read_bytes") {
  // 1000 lines of 10 bytes; reads of 1000 bytes; 10 lines per batch: each
  // batch splits only a tenth of a read. The chunk must stay at one read's
  // size instead of growing by the unsplit rest every batch.
  inputs::LineSplitter s;
  s.configure(1 << 20, 10);
  core::BatchPool pool(1);
  std::string data;
  for (int i = 0; i < 1000; ++i) data += "line " + std::to_string(100 + i) + "\n";
  std::size_t pos = 0, got = 0, biggest = 0;
  while (got < 1000) {
    core::Batch* b = pool.acquire();
    s.begin(*b, 1000);
    std::size_t n = std::min(s.space(*b), data.size() - pos);
    std::memcpy(s.write_ptr(*b), data.data() + pos, n);
    s.commit(*b, n);
    pos += n;
    biggest = std::max(biggest, b->chunk.size());
    s.finish(*b, pos == data.size());
    for (const auto& e : b->events) CHECK(e.message == "line " + std::to_string(100 + got++));
    b->release();
  }
  CHECK(got == 1000);
  CHECK(biggest <= 1000);
}
