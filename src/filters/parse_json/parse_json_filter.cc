#include "filters/parse_json/parse_json_filter.h"

#include <simdjson.h>

#include "config/expr_reader.h"

namespace bifrost::filters::parse_json {

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
      for (auto field : obj) {
        // JSON objects may repeat a key: the last one wins, as in most parsers.
        out.set(arena.copy(field.key), to_value(field.value, arena), arena);
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

class ParseJsonFilter final : public pipeline::Filter {
 public:
  ParseJsonFilter(const Spec& spec, const std::string& id) : spec_(spec), tag_(id + "_failure") {}

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    // One parser per worker thread: its buffers grow to the largest document
    // seen and are reused, so parsing allocates nothing once warm.
    thread_local simdjson::dom::parser parser;
    thread_local std::string padded;
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      auto v = core::get_field(e, *spec_.field);
      if (!v || !v->is_string() || !apply(batch, e, v->as_string(), parser, padded)) {
        apply_failure(spec_.on_failure, batch, e, tag_, "json_failure");
      }
    }
  }

 private:
  bool apply(core::Batch& batch, core::Event& e, std::string_view text, simdjson::dom::parser& parser,
             std::string& padded) const {
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a copy.
    padded.assign(text);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    element doc;
    if (parser.parse(padded.data(), text.size(), false).get(doc) != simdjson::SUCCESS) return false;
    if (spec_.target) {
      core::set_field(e, *spec_.target, to_value(doc, batch.arena), batch.arena);
      return true;
    }
    // A local object: iterating the temporary get_object() result would
    // dangle (the loop would outlive it).
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return false;
    if (!e.fields.is_object()) e.fields = core::Value::object(batch.arena, 8);
    for (auto field : obj) {
      core::Value value = to_value(field.value, batch.arena);
      if (field.key == "message" && value.is_string()) {
        e.message = value.as_string();
      } else if (field.key == "@timestamp" || field.key == "message") {
        e.fields.set(field.key == "message" ? "message_original" : "@timestamp_original", value, batch.arena);
      } else {
        e.fields.set(batch.arena.copy(field.key), value, batch.arena);
      }
    }
    return true;
  }

  const Spec& spec_;
  std::string tag_;
};

}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ParseJsonFilter>(*this, ctx.component);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->field = config::read_field_path(r, "field", "message", "the field holding the JSON document");
  if (auto t = r.get("target", "field path", "", "where the document goes (default: merged into the event root)")) {
    s->target = config::parse_field_path(*t);
  }
  s->on_failure = read_on_failure(r, "on_failure", "keep | tag (<id>_failure) | drop (reason json_failure)");
  return s;
}

}  // namespace bifrost::filters::parse_json
