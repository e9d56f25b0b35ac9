#include "config/reader.h"

#include <charconv>

#include "core/secrets.h"
#include "core/strings.h"

namespace bifrost::config {

MapReader::MapReader(const Node& node, std::vector<OptionDoc>* docs) : node_(node), docs_(docs) {
  if (!node_.is_null() && !node_.is_map()) node_.error("expected a map of options, got " + node_.kind_name());
}

std::optional<Node> MapReader::get(const std::string& key, const std::string& type, const std::string& default_text,
                                   const std::string& description, bool required) {
  known_.push_back(key);
  if (docs_) {
    OptionDoc d;
    d.key = key;
    d.type = type;
    d.default_text = default_text;
    d.description = description;
    d.required = required;
    docs_->push_back(std::move(d));
  }
  if (record_ && !docs_) {
    YAML::Node given = node_.is_map() ? node_.yaml()[key] : YAML::Node();
    Setting s{record_prefix_ + key, default_text, given.IsDefined() && !given.IsNull()};
    if (s.given && given.IsScalar()) {
      std::string err;
      std::size_t off = 0;
      s.value = substitute_env(given.Scalar(), node_.context().env, err, off).value_or(given.Scalar());
    } else if (s.given) {
      s.value = given.IsMap() ? "(a map)" : "(a list)";
    }
    record_->push_back(std::move(s));
  }
  if (!node_.is_map()) {
    if (required && !docs_ && !node_.is_null()) return std::nullopt;  // already reported: not a map
    if (required && !docs_) node_.error("missing required key \"" + key + "\"");
    return std::nullopt;
  }
  YAML::Node v = node_.yaml()[key];
  if (!v.IsDefined() || v.IsNull()) {
    if (required && !docs_) node_.error("missing required key \"" + key + "\" (" + description + ")");
    return std::nullopt;
  }
  return node_.child(key, v);
}

std::optional<std::int64_t> parse_int(const Node& n) {
  auto s = n.scalar("an integer");
  if (!s) return std::nullopt;
  std::int64_t v = 0;
  auto r = std::from_chars(s->data(), s->data() + s->size(), v);
  if (r.ec != std::errc() || r.ptr != s->data() + s->size()) {
    n.error("expected an integer, got \"" + *s + "\"");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> parse_bool(const Node& n) {
  auto s = n.scalar("true or false");
  if (!s) return std::nullopt;
  if (*s == "true") return true;
  if (*s == "false") return false;
  n.error("expected true or false, got \"" + *s + "\"");
  return std::nullopt;
}

std::optional<std::int64_t> parse_duration(const Node& n) {
  auto s = n.scalar("a duration");
  if (!s) return std::nullopt;
  std::int64_t ns = 0;
  if (!core::parse_duration_ns(*s, ns)) {
    n.error("expected a duration such as 500ms, 5s, 2m or 1h, got \"" + *s + "\"");
    return std::nullopt;
  }
  return ns;
}

std::optional<std::uint64_t> parse_size(const Node& n) {
  auto s = n.scalar("a size");
  if (!s) return std::nullopt;
  std::uint64_t v = 0;
  if (!core::parse_bytes(*s, v)) {
    n.error("expected a size such as 65536, 64KiB, 16MiB or 1GiB, got \"" + *s + "\"");
    return std::nullopt;
  }
  return v;
}

std::string format_duration(std::int64_t ns) {
  if (ns % 1'000'000'000 == 0) {
    std::int64_t s = ns / 1'000'000'000;
    if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
    if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
    return std::to_string(s) + "s";
  }
  return std::to_string(ns / 1'000'000) + "ms";
}

std::string format_size(std::uint64_t bytes) {
  constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (const auto& [unit, name] : kUnits) {
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + name;
  }
  return std::to_string(bytes);
}

std::string MapReader::string(const std::string& key, const std::string& def, const std::string& description) {
  auto n = get(key, "string", def.empty() ? "" : "\"" + def + "\"", description);
  if (!n) return def;
  return n->scalar().value_or(def);
}

std::string MapReader::secret(const std::string& key, const std::string& description) {
  auto n = get(key, "string", "", description);
  if (!n) return "";
  if (record_ && !docs_) record_->back().value = "(secret)";
  std::string value = n->scalar().value_or("");
  core::secrets::add(value);
  if (!value.empty() && value.size() < core::secrets::kMinMasked) {
    n->warning("shorter than " + std::to_string(core::secrets::kMinMasked) +
               " characters: too short to be masked in bifrost's log and errors");
  }
  return value;
}

std::string MapReader::file(const std::string& key, const std::string& description, bool secret) {
  auto n = get(key, "string", "", description);
  if (!n) return "";
  std::string path = n->scalar().value_or("");
  if (path.empty()) {
    n->error("must not be empty");
  } else if (auto* files = n->context().files) {
    files->push_back(FileRef{n->location(), n->path(), path, secret});
  }
  return path;
}

std::optional<std::string> MapReader::required_string(const std::string& key, const std::string& description) {
  auto n = get(key, "string", "", description, true);
  if (!n) return std::nullopt;
  return n->scalar();
}

std::int64_t MapReader::integer(const std::string& key, std::int64_t def, std::int64_t min, std::int64_t max,
                                const std::string& description) {
  auto n = get(key, "integer", std::to_string(def), description);
  if (docs_) {
    docs_->back().min = min;
    docs_->back().max = max;
  }
  if (!n) return def;
  auto v = parse_int(*n);
  if (!v) return def;
  if (*v < min || *v > max) {
    n->error("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + std::to_string(*v));
    return def;
  }
  return *v;
}

bool MapReader::boolean(const std::string& key, bool def, const std::string& description) {
  auto n = get(key, "bool", def ? "true" : "false", description);
  if (!n) return def;
  return parse_bool(*n).value_or(def);
}

std::int64_t MapReader::duration_ns(const std::string& key, std::int64_t def_ns, const std::string& description) {
  auto n = get(key, "duration", format_duration(def_ns), description);
  if (!n) return def_ns;
  return parse_duration(*n).value_or(def_ns);
}

std::uint64_t MapReader::bytes(const std::string& key, std::uint64_t def, const std::string& description) {
  auto n = get(key, "size", format_size(def), description);
  if (!n) return def;
  return parse_size(*n).value_or(def);
}

std::optional<std::string> parse_choice(const Node& n, const std::vector<std::string>& options) {
  auto s = n.scalar();
  if (!s) return std::nullopt;
  for (const auto& o : options) {
    if (*s == o) return s;
  }
  std::string list;
  for (const auto& o : options) list += (list.empty() ? "" : " | ") + o;
  std::string msg = "\"" + *s + "\" is not one of " + list;
  if (std::string guess = core::closest(*s, options); !guess.empty()) msg += "; did you mean \"" + guess + "\"?";
  n.error(msg);
  return std::nullopt;
}

std::string MapReader::choice(const std::string& key, const std::string& def, const std::vector<std::string>& options,
                              const std::string& description) {
  std::string type;
  for (const auto& o : options) type += (type.empty() ? "" : " | ") + o;
  auto n = get(key, type, def, description);
  if (docs_) docs_->back().choices = options;
  if (!n) return def;
  return parse_choice(*n, options).value_or(def);
}

std::vector<std::string> MapReader::string_list(const std::string& key, const std::string& description, bool required) {
  std::vector<std::string> out;
  auto n = get(key, "list of strings", required ? "" : "[]", description, required);
  if (!n) return out;
  if (n->is_scalar()) {
    if (auto s = n->scalar()) out.push_back(*s);
    return out;
  }
  if (!n->is_sequence()) {
    n->error("expected a list of strings, got " + n->kind_name());
    return out;
  }
  for (std::size_t i = 0; i < n->yaml().size(); ++i) {
    if (auto s = n->element(i).scalar()) out.push_back(*s);
  }
  if (required && out.empty()) n->error("must not be empty");
  return out;
}

void MapReader::finish() { report_unknown(false); }
void MapReader::finish_near_misses() { report_unknown(true); }

void MapReader::report_unknown(bool near_misses_only) {
  if (docs_ || !node_.is_map()) return;
  for (auto it = node_.yaml().begin(); it != node_.yaml().end(); ++it) {
    std::string key = it->first.Scalar();
    bool found = false;
    for (const auto& k : known_) found = found || k == key;
    if (found) continue;
    Node key_node(it->first, node_.source(), node_.path().empty() ? key : node_.path() + "." + key, &node_.context());
    std::string msg = "unknown key \"" + key + "\"";
    std::string guess = core::closest(key, known_);
    if (near_misses_only && guess.empty()) continue;
    if (!guess.empty()) msg += "; did you mean \"" + guess + "\"?";
    key_node.error(msg);
  }
}

}  // namespace bifrost::config
