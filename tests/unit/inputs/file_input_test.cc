#include <doctest.h>

#include <cstring>

#include "inputs/common/line_splitter.h"
#include "inputs/file/identity.h"
#include "inputs/file/multiline.h"
#include "inputs/file/state.h"

using namespace bifrost;
using namespace bifrost::inputs::file;

namespace {

void fill(inputs::LineSplitter& s, core::Batch& b, std::string_view data) {
  s.begin(b, data.size() + 16);
  std::memcpy(s.write_ptr(b), data.data(), data.size());
  s.commit(b, data.size());
}

std::vector<std::string> messages(const core::Batch& b) {
  std::vector<std::string> out;
  for (const auto& e : b.events) out.emplace_back(e.message);
  return out;
}

MultilineSpec start_spec(const char* re, std::int64_t max_lines = 500) {
  MultilineSpec m;
  m.mode = MultilineSpec::Mode::kStart;
  m.pattern = std::make_shared<re2::RE2>(re);
  m.max_lines = max_lines;
  return m;
}

}  // namespace

TEST_CASE("fingerprint: a prefix matches at the fingerprint's own length") {
  Fingerprint short_fp = fingerprint_of("abc");
  CHECK(prefix_matches("abcdef", short_fp));
  CHECK_FALSE(prefix_matches("ab", short_fp));   // shorter than what was hashed
  CHECK_FALSE(prefix_matches("abX", short_fp));  // other bytes: another file
  CHECK(fingerprint_of("abcdef").len == 6);
  CHECK(hash_bytes("") == 0xcbf29ce484222325ull);  // stored: it must never change
  CHECK(source_id({1, 2}, short_fp) != source_id({1, 3}, short_fp));
}

TEST_CASE("state: entries round-trip through the checkpoint body") {
  std::vector<SavedFile> in = {
      {{2049, 77}, {1024, 0xdeadbeefcafef00dull}, 5120, 0x1234, "/var/log/a \"quoted\".log", 1700000000, false},
      {{}, {12, 42}, 7, 0xffffffffffffffffull, "/var/log/b.log", 1700000001, true},
  };
  auto out = decode_state(encode_state(in));
  REQUIRE(out);
  REQUIRE(out->size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK((*out)[i].id == in[i].id);
    CHECK((*out)[i].fp == in[i].fp);
    CHECK((*out)[i].offset == in[i].offset);
    CHECK((*out)[i].source == in[i].source);
    CHECK((*out)[i].path == in[i].path);
    CHECK((*out)[i].seen_unix == in[i].seen_unix);
    CHECK((*out)[i].detached == in[i].detached);
  }
  auto lacking = decode_state("{\"files\":[{\"dev\":1}]}");
  CHECK_FALSE(lacking);
  CHECK(lacking.error().message == "an entry lacks a field or has a wrong type");
  CHECK_FALSE(decode_state("not json"));
  CHECK_FALSE(
      decode_state("{\"files\":[{\"dev\":1,\"ino\":2,\"fp_len\":3,\"fp\":\"zz\",\"offset\":1,"
                   "\"source\":\"0000000000000000\",\"seen\":1,\"detached\":false,\"path\":\"p\"}]}"));
}

TEST_CASE("splitter: has_more when the event limit leaves complete lines in the carry") {
  inputs::LineSplitter s;
  s.configure(1 << 20, 2);
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  fill(s, *b, "a\nb\nc\nd");
  s.finish(*b, false);
  CHECK(messages(*b) == std::vector<std::string>{"a", "b"});
  CHECK(s.has_more());
  b->release();
  b = pool.acquire();
  s.begin(*b, 16);  // nothing new read: the carry alone
  s.finish(*b, false);
  CHECK(messages(*b) == std::vector<std::string>{"c"});
  CHECK_FALSE(s.has_more());  // only the partial "d" is left
  CHECK(s.offset() == 6);
  b->release();
}

TEST_CASE("multiline: start pattern joins, the last event stays open, retract carries it") {
  inputs::LineSplitter s;
  s.configure(1 << 20, 100);
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  fill(s, *b, "E1\n  x\n  y\nE2\n  z\n");
  s.finish(*b, false);
  auto spec = start_spec("^E");
  std::size_t open = join_lines(*b, spec, 1 << 20);
  CHECK(messages(*b) == std::vector<std::string>{"E1\n  x\n  y", "E2\n  z"});
  CHECK(open == 1);
  s.retract(*b, open);
  CHECK(messages(*b) == std::vector<std::string>{"E1\n  x\n  y"});
  CHECK(s.offset() == 11);  // E2 starts there: acknowledged up to it only
  CHECK(s.pending_bytes() == 7);
  b->release();
  b = pool.acquire();
  s.begin(*b, 64);
  const char more[] = "  w\nE3\n";
  std::memcpy(s.write_ptr(*b), more, 7);
  s.commit(*b, 7);
  s.finish(*b, false);
  open = join_lines(*b, spec, 1 << 20);
  CHECK(messages(*b) == std::vector<std::string>{"E2\n  z\n  w", "E3"});
  CHECK(b->events[0].offset == 11);
  CHECK(open == 1);
  b->release();
}

TEST_CASE("multiline: max_lines and max bytes cut an event, tagged, nothing lost") {
  inputs::LineSplitter s;
  s.configure(1 << 20, 100);
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  fill(s, *b, "E\n1\n2\n3\n4\n");
  s.finish(*b, true);
  auto spec = start_spec("^E", 3);
  join_lines(*b, spec, 1 << 20);
  CHECK(messages(*b) == std::vector<std::string>{"E\n1\n2", "3\n4"});
  CHECK(b->events[0].fields.find("tags") != nullptr);
  CHECK(b->events[1].fields.find("tags") != nullptr);
  b->release();

  b = pool.acquire();
  inputs::LineSplitter s2;
  s2.configure(1 << 20, 100);
  fill(s2, *b, "E 123\n456\n789\n");
  s2.finish(*b, true);
  auto unlimited = start_spec("^E");
  join_lines(*b, unlimited, 9);  // "E 123\n456" is 9 bytes; adding "\n789" is too many
  CHECK(messages(*b) == std::vector<std::string>{"E 123\n456", "789"});
  b->release();
}

TEST_CASE("multiline: continuation mode; cut lines stay events of their own") {
  inputs::LineSplitter s;
  s.configure(4, 100);
  core::BatchPool pool(1);
  core::Batch* b = pool.acquire();
  fill(s, *b, "ab\n cd\nlongline\n e\n");
  s.finish(*b, true);
  MultilineSpec m;
  m.mode = MultilineSpec::Mode::kContinuation;
  m.pattern = std::make_shared<re2::RE2>("^ ");
  std::size_t open = join_lines(*b, m, 64);
  // "longline" is cut into "long" + "line" (tagged line_cut); " e" starts after a cut piece.
  CHECK(messages(*b) == std::vector<std::string>{"ab\n cd", "long", "line", " e"});
  CHECK(open == 3);
  b->release();
}
