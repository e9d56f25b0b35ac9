// parse_regex's options, read by a pure function: the patterns are expanded
// (grok.h) and compiled here, so a bad one is a located error at load.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "config/expr_reader.h"
#include "core/strings.h"
#include "filters/parse_regex/grok.h"
#include "filters/parse_regex/parse_regex_filter.h"

namespace bifrost::filters::parse_regex {

namespace {

std::optional<Type> type_of(std::string_view t) {
  if (t == "int") return Type::kInt;
  if (t == "float") return Type::kFloat;
  if (t == "bool") return Type::kBool;
  if (t == "string") return Type::kString;
  return std::nullopt;
}

bool valid_definition_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->field = config::read_field_path(r, "field", "message", "the field to parse");
  auto one = r.get("pattern", "regex", "",
                   "a regular expression with named groups, (?<name>...) or (?P<name>...), and named patterns "
                   "%{NAME:field[:type]}");
  // `patterns` is a list of alternatives (as it always was) or a map of
  // your own named patterns (issue #26's spelling): told apart by the YAML.
  auto many = r.get("patterns", "list or map", "",
                    "a list: patterns tried in order, the first match wins; a map: your own named patterns "
                    "(NAME: regex) for %{NAME} in `pattern`, which may use others and replace a built-in of the "
                    "same name");
  std::optional<config::Node> definitions_node;
  if (many && many->is_map()) {
    definitions_node = std::move(many);
    many.reset();
  }
  std::string engine = r.choice("engine", "auto", {"auto", "pcre2", "re2"},
                                "auto: the one-pass matcher where it can, else PCRE2 (JIT) with RE2 for lines past "
                                "PCRE2's match limits; pcre2: the same without the one-pass matcher; re2: RE2 alone "
                                "(linear time; no lookarounds or backreferences)");
  auto target = r.get("target", "field path", "", "object the captures go into (default: the event root)");
  auto types = r.get("types", "map", "{}", "capture: int | float | bool | string");
  s->on_mismatch = read_on_failure(
      r, "on_mismatch", "keep | tag (<id>_mismatch) | drop (reason regex_mismatch) | reject (to the failed queue)");
  if (r.describing()) return s;
  s->engine = engine == "pcre2" ? EngineChoice::kPcre2 : engine == "re2" ? EngineChoice::kRe2 : EngineChoice::kAuto;

  std::optional<core::FieldPath> target_path;
  if (target) target_path = config::parse_field_path(*target);

  std::map<std::string, std::string> definitions;
  std::map<std::string, config::Node> definition_nodes;
  if (definitions_node) {
    config::each_entry(*definitions_node, "NAME: regex", [&](const config::Node& key, const config::Node& val) {
      std::string name = key.yaml().Scalar();
      if (!valid_definition_name(name)) {
        key.error("a named pattern's name is letters, digits and _, not \"" + name + "\"");
        return;
      }
      auto text = val.scalar("a regular expression");
      if (!text) return;
      definitions[name] = *text;
      definition_nodes.emplace(name, val);
    });
  }
  std::set<std::tuple<std::string, std::size_t, std::string>> reported;  // a definition's error, once
  auto report = [&](const config::Node& pattern_node, const std::vector<GrokError>& errors) {
    for (const GrokError& e : errors) {
      if (!e.definition.empty() && !reported.emplace(e.definition, e.offset, e.message).second) continue;
      const config::Node& where = e.definition.empty() ? pattern_node : definition_nodes.at(e.definition);
      where.error_at(e.offset, e.message);
    }
  };
  {
    std::vector<GrokError> errors;
    for (const auto& [name, _] : definitions) check_definition(name, definitions, errors);
    report(r.node(), errors);
  }

  std::vector<config::Node> pattern_nodes;
  if (one && many) one->error("give pattern or patterns, not both");
  else if (one) pattern_nodes.push_back(*one);
  else if (many) {
    if (!many->is_sequence() || many->yaml().size() == 0) many->error("expected a non-empty list of patterns");
    else
      for (std::size_t i = 0; i < many->yaml().size(); ++i) pattern_nodes.push_back(many->element(i));
  } else {
    r.node().error(definitions_node ? "parse_regex needs `pattern` (`patterns` is a map of named patterns here)"
                                    : "parse_regex needs `pattern` (or a list of `patterns`)");
  }

  std::vector<std::string> names_seen;
  for (const config::Node& n : pattern_nodes) {
    auto text = n.scalar("a regular expression");
    if (!text) continue;
    std::string expanded = *text;
    std::vector<GrokCapture> building_blocks;
    if (has_grok(*text)) {
      std::vector<GrokError> errors;
      GrokExpansion x = expand_grok(*text, definitions, errors);
      if (!errors.empty()) {
        report(n, errors);
        continue;
      }
      expanded = std::move(x.pattern);
      building_blocks = std::move(x.captures);
    }
    std::string error;
    std::size_t offset = 0;
    std::shared_ptr<const CompiledPattern> re = CompiledPattern::compile(expanded, s->engine, error, offset);
    if (!re) {
      if (building_blocks.empty() && expanded == *text) n.error_at(offset, "invalid regular expression: " + error);
      else n.error("invalid regular expression (once the named patterns are expanded): " + error);
      continue;
    }
    if (re->named_groups().empty()) {
      n.error("the pattern has no named group (?<name>...) or %{NAME:field}: it would set no field");
      continue;
    }
    Pattern p{re, {}};
    for (const auto& named : re->named_groups()) {
      const std::string& group = named.first;  // not a structured binding: clang 14 cannot capture one
      const int index = named.second;
      std::string name = group;
      Type type = Type::kString;
      auto block = std::find_if(building_blocks.begin(), building_blocks.end(),
                                [&](const GrokCapture& g) { return g.group == group; });
      if (block != building_blocks.end()) {
        name = block->field;
        if (!block->type.empty()) type = *type_of(block->type);
      }
      auto rel = core::FieldPath::parse(name);
      auto path = core::FieldPath::parse((target_path ? target_path->text() + "." : "") + name);
      if (!rel || !path) {
        n.error("\"" + name + "\" is not a field path");
        continue;
      }
      p.captures.push_back(Capture{index, std::move(*path), type, name});
      names_seen.push_back(name);
    }
    s->patterns.push_back(std::move(p));
  }
  if (types) {
    config::each_entry(*types, "capture: type", [&](const config::Node& key, const config::Node& val) {
      std::string name = key.yaml().Scalar();
      auto t = config::parse_choice(val, {"int", "float", "bool", "string"});
      if (!t) return;
      if (std::find(names_seen.begin(), names_seen.end(), name) == names_seen.end()) {
        std::string msg = "no named group \"" + name + "\" in the pattern(s)";
        if (auto g = core::closest(name, names_seen); !g.empty()) msg += "; did you mean \"" + g + "\"?";
        key.error(msg);
        return;
      }
      for (Pattern& p : s->patterns) {
        for (Capture& c : p.captures) {
          if (c.name == name) c.type = *type_of(*t);
        }
      }
    });
  }
  return s;
}

}  // namespace bifrost::filters::parse_regex
