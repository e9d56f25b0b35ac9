#include "inputs/http/body.h"

#include <cstring>

#include "core/json_value.h"
#include "core/strings.h"
#include "inputs/common/json_event.h"

namespace bifrost::inputs::http {

namespace {

bool blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

bool fail(core::Batch& b, std::string& reason, std::string why) {
  b.events.clear();
  reason = std::move(why);
  return false;
}

std::string too_many(std::size_t max_events) {
  return core::cat("more than ", max_events, " events in one request (max_events)");
}

}  // namespace

bool decode_body(core::Batch& b, Decoding decoding, std::uint64_t peer, std::size_t max_events, std::string& reason) {
  const char* d = b.chunk.data();
  const std::size_t n = b.chunk.size();
  if (decoding == Decoding::kJson) {
    auto doc = core::parse_json_value({d, n}, b.arena);
    if (!doc) return fail(b, reason, "the body is not valid JSON");
    auto add = [&](const core::Value& v) {
      if (!v.is_object()) return false;
      core::Event& e = b.events.emplace_back();
      e.offset = peer;
      event_from_members(b, e, v.members());
      return true;
    };
    if (doc->is_object()) {
      add(*doc);
      return true;
    }
    if (!doc->is_array()) return fail(b, reason, "the body is neither a JSON array of objects nor an object");
    if (doc->items().size() > max_events) return fail(b, reason, too_many(max_events));
    std::size_t i = 0;
    for (const core::Value& v : doc->items()) {
      if (!add(v)) return fail(b, reason, core::cat("element ", i, " of the array is not a JSON object"));
      ++i;
    }
    return true;
  }
  std::size_t pos = 0, line_no = 0;
  while (pos < n) {
    const char* nl = static_cast<const char*>(std::memchr(d + pos, '\n', n - pos));
    const std::size_t end = nl ? static_cast<std::size_t>(nl - d) : n;
    std::string_view line(d + pos, end - pos);
    ++line_no;
    pos = nl ? end + 1 : n;
    if (decoding == Decoding::kText) {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    } else if (blank(line)) {
      continue;
    }
    if (b.events.size() >= max_events) return fail(b, reason, too_many(max_events));
    core::Event& e = b.events.emplace_back();
    e.offset = peer;
    e.message = line;
    if (decoding == Decoding::kNdjson && !decode_json_event(b, e, line))
      return fail(b, reason, core::cat("line ", line_no, " is not a JSON object"));
  }
  return true;
}

}  // namespace bifrost::inputs::http
