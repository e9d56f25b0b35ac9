#include <doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/crc32c.h"
#include "core/json.h"
#include "delivery/buffer_record.h"
#include "delivery/disk_buffer.h"
#include "support/temp_dir.h"

using namespace bifrost;

namespace {

// The JSON form of an event, to compare events.
std::string json_of(const core::Event& e) {
  std::string out;
  core::Rfc3339Cache cache;
  core::append_event_json(out, e, cache);
  return out;
}

void fill(core::Batch& b, std::string_view source, std::uint64_t source_id, int first, int n) {
  b.source = std::string(source);
  b.source_id = source_id;
  for (int i = first; i < first + n; ++i) {
    core::Event& e = b.events.emplace_back();
    e.message = b.arena.copy("event " + std::to_string(i));
    e.timestamp_ns = 1'700'000'000'000'000'000 + i;
    e.offset = static_cast<std::uint64_t>(i) * 100;
    e.fields = core::Value::object(b.arena, 1);
    e.fields.append("n", core::Value::integer(i), b.arena);
  }
}

std::string records_of(const core::Batch& b) {
  core::OutputSlot slot;
  for (std::uint32_t i = 0; i < b.events.size(); ++i) slot.selected.push_back(i);
  delivery::encode_buffer_records(b, slot);
  REQUIRE(slot.ends.size() == b.events.size());
  CHECK(slot.ends.back() == slot.encoded.size());
  return slot.encoded;
}

}  // namespace

TEST_CASE("crc32c: the standard check value, in hardware and by table alike") {
  CHECK(core::crc32c_table("123456789") == 0xE3069283u);
  CHECK(core::crc32c("123456789") == 0xE3069283u);
  CHECK(core::crc32c("") == 0u);
  std::string big;
  for (int i = 0; i < 10'000; ++i) big.push_back(static_cast<char>(i * 131 + 7));
  if (core::crc32c_hardware_available()) {
    for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 10'000u}) {
      CHECK(core::crc32c_hardware(std::string_view(big).substr(0, n)) ==
            core::crc32c_table(std::string_view(big).substr(0, n)));
    }
  }
}

TEST_CASE("buffer record: every kind of value, odd bytes and the source come back unchanged") {
  core::Batch in;
  in.source = "/var/log/app.log";
  in.source_id = 0x1234'5678'9abc'def0;
  core::Event& e = in.events.emplace_back();
  e.message = std::string_view("nul\0 \xff\xfe tab\t \"q\"", 17);
  e.timestamp_ns = -5;  // before 1970
  e.offset = 1ull << 40;
  core::Arena& a = in.arena;
  e.fields = core::Value::object(a, 4);
  core::Value nested = core::Value::object(a, 2);
  nested.append("d", core::Value::number(1.5), a);
  nested.append("empty", core::Value::object(a, 0), a);
  core::Value list = core::Value::array(a, 4);
  list.push_back(core::Value::integer(-1), a);
  list.push_back(core::Value::boolean(true), a);
  list.push_back(core::Value(), a);
  list.push_back(core::Value::string("s"), a);
  e.fields.append("nested", nested, a);
  e.fields.append("list", list, a);
  e.fields.append("big", core::Value::integer(INT64_MAX), a);
  in.events.emplace_back().message = "no fields";  // fields stay null

  std::string bytes = records_of(in);
  core::Batch out;
  std::size_t pos = 0;
  for (const core::Event& want : in.events) {
    auto header = delivery::read_record_header(std::string_view(bytes).substr(pos));
    REQUIRE(header);
    const std::uint32_t length = header->length;
    std::string_view payload = std::string_view(bytes).substr(pos + delivery::kRecordHeader, length);
    CHECK(delivery::checksum_matches(payload, header->crc));
    core::Event got;
    delivery::RecordSource source;
    REQUIRE(delivery::decode_buffer_record(payload, got, source, out.arena));
    CHECK(json_of(got) == json_of(want));
    CHECK(got.message == want.message);
    CHECK(got.timestamp_ns == want.timestamp_ns);
    CHECK(got.offset == want.offset);
    CHECK(got.fields.is_null() == want.fields.is_null());
    CHECK(source.id == in.source_id);
    CHECK(source.name == in.source);
    pos += delivery::kRecordHeader + length;
  }
  CHECK(pos == bytes.size());
}

TEST_CASE("buffer record: unsigned integers (line protocol's 12u) come back flagged, small and large") {
  core::Batch in;
  core::Event& e = in.events.emplace_back();
  core::Arena& a = in.arena;
  e.fields = core::Value::object(a, 3);
  e.fields.append("small", core::Value::unsigned_integer(12, a), a);
  e.fields.append("large", core::Value::unsigned_integer(UINT64_MAX, a), a);
  e.fields.append("plain", core::Value::integer(12), a);
  std::string bytes = records_of(in);
  auto header = delivery::read_record_header(bytes);
  REQUIRE(header);
  core::Event got;
  delivery::RecordSource source;
  core::Arena arena;
  REQUIRE(delivery::decode_buffer_record(std::string_view(bytes).substr(delivery::kRecordHeader, header->length), got,
                                         source, arena));
  const core::Value* small = got.fields.find("small");
  const core::Value* large = got.fields.find("large");
  const core::Value* plain = got.fields.find("plain");
  REQUIRE((small && large && plain));
  CHECK((small->is_unsigned() && small->kind() == core::Value::Kind::kInt && small->as_int() == 12));
  CHECK((large->is_unsigned() && large->as_string() == "18446744073709551615"));
  CHECK_FALSE(plain->is_unsigned());
}

TEST_CASE("buffer record: a cut or damaged payload is refused, never read past") {
  core::Batch in;
  fill(in, "src", 7, 0, 1);
  std::string bytes = records_of(in);
  std::string payload = bytes.substr(delivery::kRecordHeader);
  for (std::size_t n = 0; n < payload.size(); ++n) {
    // A copy of exactly n bytes, so ASan sees any read past it.
    std::unique_ptr<char[]> cut(new char[n == 0 ? 1 : n]);
    std::memcpy(cut.get(), payload.data(), n);
    core::Event e;
    delivery::RecordSource source;
    core::Arena arena;
    CHECK_FALSE(delivery::decode_buffer_record(std::string_view(cut.get(), n), e, source, arena));
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {  // every byte damaged in turn: decoded or refused, no crash
    std::string damaged = payload;
    damaged[i] = static_cast<char>(damaged[i] ^ 0xff);
    core::Event e;
    delivery::RecordSource source;
    core::Arena arena;
    (void)delivery::decode_buffer_record(damaged, e, source, arena);
    CHECK_FALSE(delivery::checksum_matches(damaged, core::crc32c(payload)));
  }
}

TEST_CASE("buffer record: a short header and a malformed payload are errors that say so") {
  auto header = delivery::read_record_header("1234567");  // one byte short
  REQUIRE_FALSE(header);
  CHECK(header.error().code == delivery::Errc::kShort);
  core::Batch in;
  fill(in, "src", 7, 0, 1);
  std::string payload = records_of(in).substr(delivery::kRecordHeader);
  payload.push_back('x');
  core::Event e;
  delivery::RecordSource source;
  core::Arena arena;
  auto decoded = delivery::decode_buffer_record(payload, e, source, arena);
  REQUIRE_FALSE(decoded);
  CHECK(decoded.error().code == delivery::Errc::kCorrupt);
  CHECK(decoded.error().message == "bytes after the event");
}

TEST_CASE("disk buffer: read back in order, one source per batch, a damaged record set aside") {
  testing::TempDir tmp("bifrost-buffer");
  const std::string& dir = tmp.path();
  core::ComponentStats stats;
  {
    delivery::DiskBuffer buffer(dir, "buf", {}, delivery::CheckpointStore(dir, "p", "o.buffer", &stats), &stats);
    buffer.open();
    core::Batch a, b;
    fill(a, "a.log", 1, 0, 3);
    fill(b, "b.log", 2, 3, 2);
    auto never = [] { return false; };
    REQUIRE(buffer.append(records_of(a), never) == delivery::DiskBuffer::Put::kStored);
    REQUIRE(buffer.append(records_of(b), never) == delivery::DiskBuffer::Put::kStored);
    buffer.close_writer();
  }
  // Damage the message of event 1 (its checksum no longer matches).
  std::filesystem::path seg;
  for (const auto& f : std::filesystem::directory_iterator(dir + "/buf")) {
    if (f.path().extension() == ".buf") seg = f.path();
  }
  std::string data;
  {
    std::ifstream in(seg, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  CHECK(data.starts_with("bifrost-buffer2\n"));
  data[data.find("event 1") + 6] = 'X';
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << data;

  delivery::DiskBuffer buffer(dir, "buf", {}, delivery::CheckpointStore(dir, "p", "o.buffer", &stats), &stats);
  buffer.open();
  buffer.close_writer();
  std::vector<std::string> got;
  std::vector<std::string> sources;
  core::Batch batch;
  while (!buffer.finished()) {
    std::size_t n = buffer.read(batch, 100, std::chrono::milliseconds(10));
    for (std::size_t i = 0; i < n; ++i) got.emplace_back(batch.events[i].message);
    if (n > 0) sources.push_back(batch.source + "#" + std::to_string(batch.source_id));
    batch.events.clear();
    buffer.commit(buffer.read_position());
  }
  CHECK(got == std::vector<std::string>{"event 0", "event 2", "event 3", "event 4"});
  CHECK(sources == std::vector<std::string>{"a.log#1", "b.log#2"});
  CHECK(stats.dropped_total() == 1);
  std::ifstream q(dir + "/buf/quarantine.ndjson");
  std::string line;
  REQUIRE(std::getline(q, line));
  CHECK(line.find("\"message\":\"event X\"") != std::string::npos);  // set aside as a failed-queue record
  CHECK(line.find("checksum mismatch") != std::string::npos);
}

TEST_CASE("disk buffer: a segment of another format is moved aside whole, and the buffer goes on") {
  testing::TempDir tmp("bifrost-buffer");
  const std::string& dir = tmp.path();
  std::filesystem::create_directories(dir + "/buf");
  std::ofstream(dir + "/buf/00000000000000000001.buf") << "0badc0de {\"ts\":1,\"event\":{\"message\":\"old\"}}\n";
  core::ComponentStats stats;
  delivery::DiskBuffer buffer(dir, "buf", {}, delivery::CheckpointStore(dir, "p", "o.buffer", &stats), &stats);
  buffer.open();
  core::Batch a;
  fill(a, "a.log", 1, 0, 2);
  REQUIRE(buffer.append(records_of(a), [] { return false; }) == delivery::DiskBuffer::Put::kStored);
  buffer.close_writer();
  std::vector<std::string> got;
  core::Batch batch;
  while (!buffer.finished()) {
    std::size_t n = buffer.read(batch, 100, std::chrono::milliseconds(10));
    for (std::size_t i = 0; i < n; ++i) got.emplace_back(batch.events[i].message);
    batch.events.clear();
    buffer.commit(buffer.read_position());
  }
  CHECK(got == std::vector<std::string>{"event 0", "event 1"});
  CHECK(std::filesystem::exists(dir + "/buf/quarantine-00000000000000000001.buf"));
  CHECK(stats.dropped_total() == 1);
}
