#include "config/schema.h"

#include <charconv>

#include "config/describe.h"
#include "config/registry.h"
#include "core/json.h"

namespace bifrost::config {

namespace {

// A JSON value to print, keys in the order they were added.
struct J {
  enum class K { kNull, kBool, kInt, kStr, kArr, kObj } k = K::kNull;
  bool b = false;
  std::int64_t i = 0;
  std::string s;
  std::vector<J> a;
  std::vector<std::pair<std::string, J>> o;

  static J str(std::string v) {
    J j;
    j.k = K::kStr;
    j.s = std::move(v);
    return j;
  }
  static J integer(std::int64_t v) {
    J j;
    j.k = K::kInt;
    j.i = v;
    return j;
  }
  static J boolean(bool v) {
    J j;
    j.k = K::kBool;
    j.b = v;
    return j;
  }
  static J array(std::vector<J> v = {}) {
    J j;
    j.k = K::kArr;
    j.a = std::move(v);
    return j;
  }
  static J object() {
    J j;
    j.k = K::kObj;
    return j;
  }
  static J strings(const std::vector<std::string>& v) {
    J j = array();
    for (const auto& x : v) j.a.push_back(str(x));
    return j;
  }
  J& operator[](const std::string& key) {
    k = K::kObj;
    for (auto& [name, v] : o) {
      if (name == key) return v;
    }
    o.emplace_back(key, J{});
    return o.back().second;
  }
};

void dump(const J& j, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  switch (j.k) {
    case J::K::kNull: out += "null"; break;
    case J::K::kBool: out += j.b ? "true" : "false"; break;
    case J::K::kInt: out += std::to_string(j.i); break;
    case J::K::kStr: core::append_json_string(out, j.s); break;
    case J::K::kArr: {
      bool simple = true;
      for (const J& x : j.a) simple = simple && x.k != J::K::kArr && x.k != J::K::kObj;
      out += '[';
      for (std::size_t n = 0; n < j.a.size(); ++n) {
        out += n ? (simple ? ", " : ",\n" + pad) : (simple ? "" : "\n" + pad);
        dump(j.a[n], out, indent + 2);
      }
      if (!simple && !j.a.empty()) out += "\n" + std::string(static_cast<std::size_t>(indent), ' ');
      out += ']';
      break;
    }
    case J::K::kObj:
      if (j.o.empty()) {
        out += "{}";
        break;
      }
      out += "{\n";
      for (std::size_t n = 0; n < j.o.size(); ++n) {
        out += pad;
        core::append_json_string(out, j.o[n].first);
        out += ": ";
        dump(j.o[n].second, out, indent + 2);
        out += n + 1 < j.o.size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<std::size_t>(indent), ' ') + '}';
      break;
  }
}

// Any scalar may come from the environment: `${VAR}` somewhere in a string.
constexpr const char* kEnv = ".*\\$\\{.*";

bool is_int(const std::string& s) {
  std::int64_t v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

J types(std::initializer_list<const char*> names, bool optional) {
  J t = J::array();
  for (const char* n : names) t.a.push_back(J::str(n));
  if (optional) t.a.push_back(J::str("null"));  // `key:` with nothing is the same as no key
  return t;
}

// A scalar of a given kind, written plainly or as a string (quoted, or
// from ${VAR}) that `pattern` says reads as one.
J typed_scalar(const char* json_type, const std::string& pattern, bool optional) {
  J s = J::object();
  s["type"] = types({json_type, "string"}, optional);
  s["pattern"] = J::str("^(" + pattern + "|" + kEnv + ")$");
  return s;
}

// The default as JSON, when it reads as a value of the option's type.
std::optional<J> default_of(const OptionDoc& d, const J& schema) {
  const std::string& t = d.default_text;
  if (t.empty() || d.required) return std::nullopt;
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') return J::str(t.substr(1, t.size() - 2));
  if (d.type == "integer" && is_int(t)) return J::integer(std::stoll(t));
  if (d.type == "bool" && (t == "true" || t == "false")) return J::boolean(t == "true");
  if (t == "[]") return J::array();
  if (t == "{}") return J::object();
  // A map or list's default said in words ("off"): no JSON default.
  for (const auto& [key, value] : schema.o) {
    if (key != "type") continue;
    for (const J& x : value.a) {
      if (x.s == "object" || x.s == "array") return std::nullopt;
    }
  }
  return J::str(t);
}

J option_schema(const OptionDoc& d);

// The `properties`, `required` and `additionalProperties: false` of a map
// of options.
void add_options(J& obj, const std::vector<OptionDoc>& docs) {
  obj["type"] = J::str("object");
  J& props = obj["properties"] = J::object();
  J required = J::array();
  for (const OptionDoc& d : docs) {
    props[d.key] = option_schema(d);
    if (d.required) required.a.push_back(J::str(d.key));
  }
  if (!required.a.empty()) obj["required"] = std::move(required);
  obj["additionalProperties"] = J::boolean(false);
}

J ref_to(const std::string& def) {
  J r = J::object();
  r["$ref"] = J::str("#/$defs/" + def);
  return r;
}

// The value schema of one option, from its type text and what the typed
// accessors recorded. Unknown type texts accept anything: the schema must
// not refuse what the loader accepts.
J option_schema(const OptionDoc& d) {
  const bool opt = !d.required;
  const std::string& t = d.type;
  J s = J::object();
  if (!d.options.empty()) {
    J obj = J::object();
    add_options(obj, d.options);
    if (opt) obj["type"] = types({"object"}, true);
    s = std::move(obj);
  } else if (!d.choices.empty()) {
    // A choice reads the scalar's text: `2` and "2" are the same choice.
    J values = J::strings(d.choices);
    for (const auto& c : d.choices) {
      if (is_int(c)) values.a.push_back(J::integer(std::stoll(c)));
      if (c == "true" || c == "false") values.a.push_back(J::boolean(c == "true"));
    }
    if (opt) values.a.push_back(J{});
    J one = J::object();
    one["enum"] = std::move(values);
    J env = J::object();
    env["type"] = J::str("string");
    env["pattern"] = J::str(std::string("^") + kEnv + "$");
    s["anyOf"] = J::array({std::move(one), std::move(env)});
  } else if (t == "integer") {
    s = typed_scalar("integer", "-?[0-9]+", opt);
    if (d.min) s["minimum"] = J::integer(*d.min);
    if (d.max) s["maximum"] = J::integer(*d.max);
  } else if (t == "bool") {
    s = typed_scalar("boolean", "true|false", opt);
  } else if (t == "duration") {
    s = typed_scalar("number", " *[0-9.]+ *(ns|us|ms|s|m|h|d)? *", opt);
    s["minimum"] = J::integer(0);
  } else if (t == "size") {
    s = typed_scalar("number", " *[0-9.]+ *(B|KiB|MiB|GiB|kB|KB|MB|GB)? *", opt);
    s["minimum"] = J::integer(0);
  } else if (t == "string" || t == "regex" || t == "template" || t == "condition" || t == "field path" ||
             t == "component id") {
    s["type"] = types({"string", "number", "boolean"}, opt);
  } else if (t == "list of inputs" || t == "list of filters" || t == "list of outputs" || t == "list of tests") {
    s["type"] = types({"array"}, opt);
    s["items"] = ref_to(t.substr(8, t.size() - 9));  // "list of outputs" -> "output"
  } else if (t == "map of pipelines") {
    s["type"] = types({"object"}, opt);
    J name = J::object();
    name["pattern"] = J::str("^[A-Za-z0-9_-]+$");
    s["propertyNames"] = std::move(name);
    s["additionalProperties"] = ref_to("pipeline");
  } else if (t == "list") {
    s["type"] = types({"array"}, opt);
  } else if (t == "map") {
    s["type"] = types({"object"}, opt);
  } else if (t == "list or map") {
    s["type"] = types({"array", "object"}, opt);
  } else if (t.starts_with("list of ")) {
    // Such lists also take a single value (list of strings, of formats, of URLs).
    s["type"] = types({"array", "string", "number", "boolean"}, opt);
    J item = J::object();
    item["type"] = types({"string", "number", "boolean"}, false);
    s["items"] = std::move(item);
  }
  std::string text = d.description;
  if (!d.default_text.empty() && !d.required) text += " (default: " + d.default_text + ")";
  J out = J::object();
  out["description"] = J::str(text);
  for (auto& [key, value] : s.o) out[key] = std::move(value);
  if (auto def = default_of(d, out)) out["default"] = std::move(*def);
  return out;
}

// One type of a kind's list, as the schema shows it.
struct TypeSchema {
  std::string name, summary;
  std::vector<OptionDoc> options;
};

template <class Spec>
void add_types(std::vector<TypeSchema>& out, const KindInfo& kind, const std::vector<std::string>& names,
               const std::vector<ComponentType<Spec>>& types) {
  for (const auto& t : types) out.push_back({t.name, t.summary, describe_component(kind, names, t)});
}

void add_kind(J& defs, const KindInfo& kind, const std::vector<std::string>& names,
              const std::vector<TypeSchema>& types) {
  J any = J::object();
  const std::string article = std::string("aeiou").find(kind.kind[0]) != std::string::npos ? "an " : "a ";
  any["description"] = J::str(article + kind.kind + ": `id`, `type`, and the options of its type");
  any["type"] = J::str("object");
  J type = J::object();
  type["enum"] = J::strings(names);
  any["properties"]["type"] = std::move(type);
  any["required"] = J::strings({"id", "type"});
  J all = J::array();
  for (const TypeSchema& t : types) {
    const std::string def = kind.kind + "." + t.name;
    J one = J::object();
    one["description"] = J::str(kind.kind + " " + t.name + ": " + t.summary);
    add_options(one, t.options);
    J is = J::object();
    is["const"] = J::str(t.name);
    J& type_key = one["properties"]["type"];
    type_key = J::object();
    type_key["description"] = J::str("the kind of " + kind.kind);
    type_key["const"] = J::str(t.name);
    defs[def] = std::move(one);
    J cond = J::object();
    cond["properties"]["type"] = std::move(is);
    cond["required"] = J::strings({"type"});
    J branch = J::object();
    branch["if"] = std::move(cond);
    branch["then"] = ref_to(def);
    all.a.push_back(std::move(branch));
  }
  any["allOf"] = std::move(all);
  defs[kind.kind] = std::move(any);
}

}  // namespace

std::string json_schema() {
  const ConfigDocs docs = describe_config();
  const Registry& reg = components();
  J root = J::object();
  root["$schema"] = J::str("https://json-schema.org/draft/2020-12/schema");
  root["title"] = J::str("bifrost configuration");
  root["description"] = J::str(
      "The YAML config of bifrost, a log shipper: pipelines of inputs, filters and outputs. Made by `bifrost schema` "
      "from the same option tables as `bifrost describe`.");
  std::vector<OptionDoc> top = docs.globals;
  top.insert(top.end(), docs.top.begin(), docs.top.end());
  add_options(root, top);
  J anchors = J::object();
  anchors["description"] = J::str("ignored by bifrost: a place for YAML anchors (x-defaults: &defaults {...})");
  root["patternProperties"]["^x-"] = std::move(anchors);
  J& defs = root["$defs"] = J::object();
  J pipeline = J::object();
  pipeline["description"] = J::str("a pipeline: inputs, then filters in order, then outputs");
  add_options(pipeline, docs.pipeline);
  defs["pipeline"] = std::move(pipeline);
  J test = J::object();
  test["description"] = J::str("a test run by `bifrost test`: events that enter, the fields expected where they leave");
  add_options(test, docs.test);
  defs["test"] = std::move(test);
  const auto& kinds = component_kinds();
  for (const KindInfo& kind : kinds) {
    const std::vector<std::string> names = type_names_of(kind, reg);
    std::vector<TypeSchema> types;
    if (kind.kind == "input") add_types(types, kind, names, reg.inputs());
    if (kind.kind == "filter") {
      add_types(types, kind, names, reg.filters());
      add_types(types, kind, names, reg.stages());  // written in `filters:` too
    }
    if (kind.kind == "output") add_types(types, kind, names, reg.outputs());
    add_kind(defs, kind, names, types);
  }
  std::string out;
  dump(root, out, 0);
  out += '\n';
  return out;
}

}  // namespace bifrost::config
