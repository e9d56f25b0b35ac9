#include "inputs/journald/state.h"

#include "core/arena.h"
#include "core/json.h"
#include "core/json_value.h"

namespace bifrost::inputs::journald {

std::string encode_state(std::string_view cursor) {
  std::string out = "{\"cursor\":";
  core::append_json_string(out, cursor);
  out += "}";
  return out;
}

core::Result<std::string, Error> decode_state(std::string_view body) {
  if (body.empty()) return std::string();
  core::Arena arena;
  auto v = core::parse_json_value(body, arena);
  if (!v || !v->is_object()) return core::fail(Errc::kBadState, "the journald checkpoint is not a JSON object");
  const core::Value* c = v->find("cursor");
  if (!c || !c->is_string()) return core::fail(Errc::kBadState, "the journald checkpoint has no cursor string");
  return std::string(c->as_string());
}

}  // namespace bifrost::inputs::journald
