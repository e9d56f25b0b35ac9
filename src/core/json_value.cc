#include "core/json_value.h"

#include <simdjson.h>

#include "core/batch.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace bifrost::core {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// The strings of one parsed document, moved into the batch's arena with one
// copy. The DOM parser writes every string of a document (keys too),
// unescaped, one after the other into its string buffer (its tape holds
// each as an offset there), which the next document reuses: Values are
// built with views into it, each noted here, and move() copies the span
// they cover at once (with the parser's length prefixes between them) and
// points each at its copy, rather than an arena allocation and a copy per
// string.
class Strings {
 public:
  // `text`: the document, whose size bounds what its strings take.
  explicit Strings(std::string_view text) : bound_(2 * text.size() + 64) {}

  std::string_view note(std::string_view s) {
    if (!s.empty()) {
      lo_ = std::min(lo_, s.data());
      hi_ = std::max(hi_, s.data() + s.size());
    }
    return s;
  }

  void move(std::span<core::Member> members, core::Arena& arena) {
    if (hi_ == nullptr) return;  // no string
    // One span, as the parser lays strings out; should that ever not hold
    // (a span far larger than the document), each string is copied alone.
    const auto span = static_cast<std::size_t>(hi_ - lo_);
    if (span <= bound_) to_ = static_cast<char*>(std::memcpy(arena.allocate(span, 1), lo_, span));
    place(members, arena);
  }

 private:
  std::string_view place(std::string_view s, core::Arena& arena) {
    if (s.empty()) return {};
    if (to_ == nullptr) return arena.copy(s);
    return {to_ + (s.data() - lo_), s.size()};
  }
  void place(core::Value& v, core::Arena& arena) {
    switch (v.kind()) {
      case core::Value::Kind::kString: v = core::Value::string(place(v.as_string(), arena)); break;
      case core::Value::Kind::kArray:
        for (core::Value& item : v.items()) place(item, arena);
        break;
      case core::Value::Kind::kObject: place(v.members(), arena); break;
      default: break;
    }
  }
  void place(std::span<core::Member> members, core::Arena& arena) {
    for (core::Member& m : members) {
      m.key = place(m.key, arena);
      place(m.value, arena);
    }
  }

  std::size_t bound_;
  const char* lo_ = reinterpret_cast<const char*>(~std::uintptr_t{0});
  const char* hi_ = nullptr;
  char* to_ = nullptr;
};

// Converts a parsed element into a Value in the batch's arena, its strings
// still in the parser's buffer (noted in `strings`, moved by the caller).
core::Value to_value(element el, core::Arena& arena, Strings& strings) {
  switch (el.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (el.get_object().get(obj) != simdjson::SUCCESS) return core::Value();
      core::Value out = core::Value::object(arena, static_cast<std::uint32_t>(obj.size()));
      core::ObjectBuilder build(out, arena, 0);
      for (auto field : obj) {
        // JSON objects may repeat a key: the last one wins, as in most parsers.
        build.set(strings.note(field.key), to_value(field.value, arena, strings));
      }
      return out;
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (el.get_array().get(arr) != simdjson::SUCCESS) return core::Value();
      core::Value out = core::Value::array(arena, static_cast<std::uint32_t>(arr.size()));
      for (element item : arr) out.push_back(to_value(item, arena, strings), arena);
      return out;
    }
    case element_type::STRING: {
      std::string_view s;
      if (el.get_string().get(s) != simdjson::SUCCESS) return core::Value();
      return core::Value::string(strings.note(s));
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
    case element_type::NULL_VALUE: return core::Value();
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
  Strings strings(text);
  for (auto field : obj) {
    // Filled in place: a Member built aside and copied in made GCC reload
    // the just-stored key as one 16-byte word, a store-forwarding stall.
    core::Member& m = out.emplace_back();
    m.key = strings.note(field.key);
    m.value = to_value(field.value, arena, strings);
  }
  strings.move(out, arena);
  return true;
}

std::optional<core::Value> parse_json_value(std::string_view text, core::Arena& arena) {
  element doc;
  if (parse(text, false, doc) != simdjson::SUCCESS) return std::nullopt;
  Strings strings(text);
  core::Member root{{}, to_value(doc, arena, strings)};
  strings.move({&root, 1}, arena);
  return root.value;
}

bool is_json(std::string_view text) {
  element doc;
  return parse(text, false, doc) == simdjson::SUCCESS;
}

}  // namespace bifrost::core
