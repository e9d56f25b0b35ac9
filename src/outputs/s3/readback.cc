#include "outputs/s3/readback.h"

#include <charconv>

#include "core/json_value.h"
#include "core/time.h"

namespace bifrost::outputs::s3 {

namespace {

// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", as bifrost writes @timestamp.
bool parse_time(std::string_view s, std::int64_t& ns) {
  if (s.size() != core::kRfc3339NsLen || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[19] != '.' || s[29] != 'Z')
    return false;
  auto num = [&](std::size_t at, std::size_t n, int& v) {
    auto [p, ec] = std::from_chars(s.data() + at, s.data() + at + n, v);
    return ec == std::errc() && p == s.data() + at + n;
  };
  int y, mo, d, h, mi, se, frac;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, se) ||
      !num(20, 9, frac))
    return false;
  const std::int64_t days = core::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  ns = ((days * 86400 + h * 3600 + mi * 60 + se) * 1'000'000'000LL) + frac;
  return true;
}

}  // namespace

void append_line_event(core::Batch& batch, std::string_view line, Codec codec) {
  core::Event& e = batch.events.emplace_back();
  e.offset = batch.events.size() - 1;
  if (codec == Codec::kText) {
    e.message = batch.arena.copy(line);
    return;
  }
  auto v = core::parse_json_value(line, batch.arena);
  if (!v || !v->is_object()) {
    e.message = batch.arena.copy(line);
    return;
  }
  e.fields = core::Value::object(batch.arena, static_cast<std::uint32_t>(v->members().size()));
  for (const core::Member& m : v->members()) {
    if (m.key == "message" && m.value.is_string()) {
      e.message = m.value.as_string();
    } else if (m.key == "@timestamp" && m.value.is_string() && parse_time(m.value.as_string(), e.timestamp_ns)) {
      continue;
    } else {
      e.fields.append(m.key, m.value, batch.arena);
    }
  }
}

}  // namespace bifrost::outputs::s3
