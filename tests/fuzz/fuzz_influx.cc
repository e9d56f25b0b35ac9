// libFuzzer: InfluxDB line protocol, both halves of the grammar
// (common/influx/reader.h, writer.h).
//   1. The bytes as line protocol: reading ends, each line is a piece of
//      the input, and every point read is written back (never refused: a
//      point read always has a name line protocol can hold) and read back
//      to the same point.
//   2. The bytes as a point's names and values (split at NUL bytes): what
//      the writer writes reads back the same (a newline in a name as \n),
//      and what it refuses is what line protocol cannot hold.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/influx/reader.h"
#include "common/influx/writer.h"
#include "core/json.h"

namespace {

using namespace bifrost;
using namespace bifrost::common::influx;

std::string json(const core::Value& v) {
  std::string out;
  core::append_json_value(out, v);
  return out;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// `b` read back from `line` is the same point as `a` (fields by key: a
// field key starting with a tab is not written first).
void same(const Point& a, const Point& b, std::string_view measurement) {
  check(b.measurement == measurement);
  check(json(a.tags) == json(b.tags));
  check(a.fields.members().size() == b.fields.members().size());
  for (const core::Member& m : a.fields.members()) {
    const core::Value* v = b.fields.find(m.key);
    check(v != nullptr && json(*v) == json(m.value) && v->kind() == m.value.kind() &&
          v->is_unsigned() == m.value.is_unsigned());
  }
  check(a.time_ns == b.time_ns);
}

void read_write_read(std::string_view text, Precision precision) {
  core::Arena arena;
  Reader reader(text, precision, arena);
  std::string line, scratch;
  std::size_t lines = 0;
  while (auto l = reader.next()) {
    check(++lines <= text.size());
    check(l->text.data() >= text.data() && l->text.data() + l->text.size() <= text.data() + text.size());
    if (!l->point) continue;
    const Point& p = *l->point;
    line.clear();
    check(append_point(line, p, Precision::kNs, scratch).has_value());
    Reader again(line, Precision::kNs, arena);
    auto back = again.next();
    check(back && back->point);
    same(p, *back->point, p.measurement);
    check(!again.next());
  }
}

void write_read(std::string_view data) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0; parts.size() < 6;) {
    const std::size_t nul = data.find('\0', start);
    parts.push_back(data.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  while (parts.size() < 6) parts.emplace_back("x");
  core::Arena arena;
  Point p;
  p.measurement = parts[0];
  p.tags = core::Value::object(arena, 1);
  if (!parts[1].empty()) p.tags.append(parts[1], core::Value::string(parts[2]), arena);
  p.fields = core::Value::object(arena, 3);
  p.fields.append(parts[3], core::Value::string(parts[4]), arena);
  if (parts[5] != parts[3]) p.fields.append(parts[5], core::Value::unsigned_integer(data.size() * 977, arena), arena);
  p.time_ns = static_cast<std::int64_t>(data.size()) - 5;
  std::string line, scratch;
  auto wrote = append_point(line, p, Precision::kNs, scratch);
  auto newline_as_written = [](std::string_view s) {
    std::string out;
    for (char c : s) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
  };
  if (!wrote) {
    // Only what line protocol cannot hold.
    bool unholdable = !writable_name(p.measurement) || p.measurement.front() == '#' || p.measurement.front() == '\t' ||
                      p.measurement.front() == '\r';
    for (const core::Member& m : p.tags.members())
      unholdable |= !writable_name(m.key) || m.value.as_string().ends_with('\\');
    bool all_tabbed = true;
    for (const core::Member& m : p.fields.members()) {
      unholdable |= !writable_name(m.key);
      all_tabbed &= !m.key.empty() && m.key.front() == '\t';
    }
    check(unholdable || all_tabbed);
    return;
  }
  // The names as written: newlines become \n; compare with those.
  core::Value tags = core::Value::object(arena, 1);
  std::vector<std::string> keep;
  keep.reserve(8);
  for (const core::Member& m : p.tags.members()) {
    if (m.value.as_string().empty()) continue;  // left out
    const std::string& k = keep.emplace_back(newline_as_written(m.key));
    tags.append(k, core::Value::string(keep.emplace_back(newline_as_written(m.value.as_string()))), arena);
  }
  core::Value fields = core::Value::object(arena, 3);
  for (const core::Member& m : p.fields.members()) {
    const std::string& k = keep.emplace_back(newline_as_written(m.key));
    if (!fields.find(k)) fields.append(k, m.value, arena);
  }
  Reader reader(line, Precision::kNs, arena);
  auto back = reader.next();
  check(back && back->point);
  Point want{p.measurement, tags, fields, p.time_ns};
  // Two field keys that differ only by a newline and \n would be one: skip.
  if (fields.members().size() != p.fields.members().size()) return;
  same(want, *back->point, newline_as_written(p.measurement));
  check(!reader.next());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: read_write_read(text, Precision::kNs); break;
    case 1: read_write_read(text, Precision::kS); break;
    case 2: write_read(text); break;
    default: read_write_read(text, Precision::kNs); break;
  }
  return 0;
}
