#include "inputs/common/json_event.h"

#include <vector>

#include "core/json_value.h"
#include "inputs/common/rfc3339.h"

namespace bifrost::inputs {

bool decode_json_event(core::Batch& b, core::Event& e, std::string_view text) {
  thread_local std::vector<core::Member> members;
  if (!core::parse_json_members(text, b.arena, b.chunk.holds(text), members)) return false;
  event_from_members(b, e, members);
  return true;
}

void event_from_members(core::Batch& b, core::Event& e, std::span<const core::Member> members) {
  const core::Value before = e.fields;
  core::Value fields = core::Value::object(b.arena, static_cast<std::uint32_t>(members.size()) + 4);
  core::ObjectBuilder out(fields, b.arena, static_cast<std::uint32_t>(members.size()));
  e.message = {};
  for (const core::Member& m : members) {
    if (m.key == "message" && m.value.is_string()) {
      e.message = m.value.as_string();
      continue;
    }
    if (m.key == "@timestamp" && m.value.is_string()) {
      std::int64_t ns;
      if (parse_rfc3339(m.value.as_string(), ns)) {
        e.timestamp_ns = ns;
        continue;
      }
    }
    out.set(m.key, m.value);
  }
  // What the input set before (a cut line's tag) stays.
  if (before.is_object()) {
    for (const core::Member& m : before.members()) fields.set(m.key, m.value, b.arena);
  }
  e.fields = fields;
}

}  // namespace bifrost::inputs
