#include "filters/common/json_value.h"

#include <simdjson.h>

#include "core/batch.h"

#include <string>

namespace bifrost::filters {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Converts a parsed element into a Value in the batch's arena (the parser's
// buffers are reused for the next document, so strings are copied).
core::Value to_value(element el, core::Arena& arena) {
  switch (el.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (el.get_object().get(obj) != simdjson::SUCCESS) return core::Value();
      core::Value out = core::Value::object(arena, static_cast<std::uint32_t>(obj.size()));
      core::ObjectBuilder build(out, arena, 0);
      for (auto field : obj) {
        // JSON objects may repeat a key: the last one wins, as in most parsers.
        build.set(arena.copy(field.key), to_value(field.value, arena));
      }
      return out;
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (el.get_array().get(arr) != simdjson::SUCCESS) return core::Value();
      core::Value out = core::Value::array(arena, static_cast<std::uint32_t>(arr.size()));
      for (element item : arr) out.push_back(to_value(item, arena), arena);
      return out;
    }
    case element_type::STRING: {
      std::string_view s;
      if (el.get_string().get(s) != simdjson::SUCCESS) return core::Value();
      return core::Value::string(arena.copy(s));
    }
    case element_type::INT64: {
      std::int64_t v = 0;
      if (el.get_int64().get(v) != simdjson::SUCCESS) return core::Value();
      return core::Value::integer(v);
    }
    case element_type::UINT64: {
      std::uint64_t v = 0;
      if (el.get_uint64().get(v) != simdjson::SUCCESS) return core::Value();
      return core::Value::number(static_cast<double>(v));
    }
    case element_type::DOUBLE: {
      double v = 0;
      if (el.get_double().get(v) != simdjson::SUCCESS) return core::Value();
      return core::Value::number(v);
    }
    case element_type::BOOL: {
      bool v = false;
      if (el.get_bool().get(v) != simdjson::SUCCESS) return core::Value();
      return core::Value::boolean(v);
    }
    case element_type::NULL_VALUE:
      return core::Value();
  }
  return core::Value();
}

// simdjson reads up to SIMDJSON_PADDING bytes past the end: unless the
// caller knows they are there (`padded`: the text lies in a ByteBuffer),
// parse a copy. One parser per thread, whichever way.
simdjson::error_code parse(std::string_view text, bool padded, simdjson::dom::element& doc) {
  static_assert(core::ByteBuffer::kSlack >= simdjson::SIMDJSON_PADDING);
  thread_local simdjson::dom::parser parser;
  if (padded) return parser.parse(text.data(), text.size(), false).get(doc);
  thread_local std::string copy;
  copy.assign(text);
  copy.append(simdjson::SIMDJSON_PADDING, '\0');
  return parser.parse(copy.data(), text.size(), false).get(doc);
}

}  // namespace

bool parse_json_members(std::string_view text, core::Arena& arena, bool padded, std::vector<core::Member>& out) {
  out.clear();
  element doc;
  if (parse(text, padded, doc) != simdjson::SUCCESS) return false;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return false;
  for (auto field : obj) {
    // Filled in place: a Member built aside and copied in made GCC reload
    // the just-stored key as one 16-byte word, a store-forwarding stall.
    core::Member& m = out.emplace_back();
    m.key = arena.copy(field.key);
    m.value = to_value(field.value, arena);
  }
  return true;
}

std::optional<core::Value> parse_json_value(std::string_view text, core::Arena& arena) {
  element doc;
  if (parse(text, false, doc) != simdjson::SUCCESS) return std::nullopt;
  return to_value(doc, arena);
}

bool is_json(std::string_view text) {
  element doc;
  return parse(text, false, doc) == simdjson::SUCCESS;
}

}  // namespace bifrost::filters
