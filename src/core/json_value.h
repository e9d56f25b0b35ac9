// Parsing a JSON document into a Value in a batch's arena, for every part
// that reads JSON events: the filters (parse_json, decode_base64,
// drop_invalid), the Kafka input, the failed queue's records (delivery, and
// bifrost replay) and `bifrost test`. One simdjson parser per thread,
// reused: nothing is allocated per event once warm.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "core/value.h"

namespace bifrost::core {

// The document as a Value (strings copied into `arena`), or nothing when
// `text` is not valid JSON.
std::optional<core::Value> parse_json_value(std::string_view text, core::Arena& arena);

// When `text` is a JSON object: its members, in order (a repeated key
// comes as often as it is there), values in `arena`, appended to `out`
// (cleared first). False, and nothing in `out`, when it is not valid JSON or
// not an object. `padded`: 64 readable bytes follow `text` (it lies in a
// core::ByteBuffer), so it is parsed in place rather than copied.
bool parse_json_members(std::string_view text, core::Arena& arena, bool padded, std::vector<core::Member>& out);

// Whether `text` is valid JSON (no Value is built).
bool is_json(std::string_view text);

}  // namespace bifrost::core
