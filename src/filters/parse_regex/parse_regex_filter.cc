#include "filters/parse_regex/parse_regex_filter.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>

#include "config/expr_reader.h"
#include "core/strings.h"

namespace bifrost::filters::parse_regex {

namespace {

std::optional<core::Value> convert(std::string_view s, Type type) {
  switch (type) {
    case Type::kString: return core::Value::string(s);
    case Type::kInt: {
      std::int64_t v;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
      return core::Value::integer(v);
    }
    case Type::kFloat: {
      double v;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
      return core::Value::number(v);
    }
    case Type::kBool:
      if (s == "true") return core::Value::boolean(true);
      if (s == "false") return core::Value::boolean(false);
      return std::nullopt;
  }
  return std::nullopt;
}

class ParseRegexFilter final : public pipeline::Filter {
 public:
  ParseRegexFilter(const Spec& spec, const std::string& id)
      : spec_(spec), mismatch_tag_(id + "_mismatch"), type_tag_(id + "_type_failure") {
    for (const Pattern& p : spec_.patterns) max_groups_ = std::max(max_groups_, p.groups + 1);
  }

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    thread_local std::vector<re2::StringPiece> groups;
    if (groups.size() < static_cast<std::size_t>(max_groups_)) groups.resize(static_cast<std::size_t>(max_groups_));
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      auto v = core::get_field(e, *spec_.field);
      bool matched = false;
      if (v && v->is_string()) {
        std::string_view text = v->as_string();
        re2::StringPiece input(text.data(), text.size());
        for (const Pattern& p : spec_.patterns) {
          auto fast = p.fast ? p.fast->match(text, groups.data(), p.groups + 1) : LinearPattern::Result::kUndecided;
          if (fast == LinearPattern::Result::kNoMatch) continue;
          if (fast == LinearPattern::Result::kUndecided &&
              !p.re->Match(input, 0, input.size(), re2::RE2::UNANCHORED, groups.data(), p.groups + 1)) {
            continue;
          }
          matched = true;
          bool type_failure = false;
          for (const Capture& c : p.captures) {
            const re2::StringPiece& g = groups[static_cast<std::size_t>(c.group)];
            if (g.data() == nullptr) continue;  // the group took no part in the match
            std::string_view s(g.data(), g.size());
            auto value = convert(s, c.type);
            if (!value) {
              type_failure = true;
              value = core::Value::string(s);
            }
            core::set_field(e, c.path, *value, batch.arena);
          }
          if (type_failure) core::add_tag(e, type_tag_, batch.arena);
          break;
        }
      }
      if (!matched) apply_failure(spec_.on_mismatch, batch, e, mismatch_tag_, "regex_mismatch");
    }
  }

 private:
  const Spec& spec_;
  std::string mismatch_tag_;
  std::string type_tag_;
  int max_groups_ = 1;
};

}  // namespace

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<ParseRegexFilter>(*this, ctx.component);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->field = config::read_field_path(r, "field", "message", "the field to parse");
  auto one = r.get("pattern", "regex", "", "an RE2 pattern with named groups (?P<name>...)");
  auto many = r.get("patterns", "list of regexes", "", "patterns tried in order; the first match wins");
  auto target = r.get("target", "field path", "", "object the captures go into (default: the event root)");
  auto types = r.get("types", "map", "{}", "capture: int | float | bool | string");
  s->on_mismatch = read_on_failure(
      r, "on_mismatch", "keep | tag (<id>_mismatch) | drop (reason regex_mismatch) | reject (to the failed queue)");
  if (r.describing()) return s;

  std::optional<core::FieldPath> target_path;
  if (target) target_path = config::parse_field_path(*target);
  std::vector<config::Node> pattern_nodes;
  if (one && many) one->error("give pattern or patterns, not both");
  else if (one) pattern_nodes.push_back(*one);
  else if (many) {
    if (!many->is_sequence() || many->yaml().size() == 0) many->error("expected a non-empty list of patterns");
    else
      for (std::size_t i = 0; i < many->yaml().size(); ++i) pattern_nodes.push_back(many->element(i));
  } else {
    r.node().error("parse_regex needs `pattern` (or `patterns`)");
  }

  std::vector<std::string> names_seen;
  for (const config::Node& n : pattern_nodes) {
    auto text = n.scalar("a regular expression");
    if (!text) continue;
    auto re = std::make_shared<re2::RE2>(*text, re2::RE2::Quiet);
    if (!re->ok()) {
      n.error("invalid regular expression: " + re->error());
      continue;
    }
    if (re->NamedCapturingGroups().empty()) {
      n.error("the pattern has no named group (?P<name>...): it would set no field");
      continue;
    }
    Pattern p{re, re->NumberOfCapturingGroups(), {}, LinearPattern::compile(*text)};
    if (p.fast && p.fast->captures() != p.groups) p.fast.reset();  // counted differently: trust RE2
    for (const auto& [name, index] : re->NamedCapturingGroups()) {
      auto rel = core::FieldPath::parse(name);
      std::string full = (target_path ? target_path->text() + "." : "") + name;
      auto path = core::FieldPath::parse(full);
      if (!rel || !path) {
        n.error("group name \"" + name + "\" is not a field path");
        continue;
      }
      p.captures.push_back(Capture{index, std::move(*path), Type::kString});
      names_seen.push_back(name);
    }
    // Fields appear in the order of the groups in the pattern.
    std::sort(p.captures.begin(), p.captures.end(),
              [](const Capture& a, const Capture& b) { return a.group < b.group; });
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
      Type type = *t == "int" ? Type::kInt : *t == "float" ? Type::kFloat : *t == "bool" ? Type::kBool : Type::kString;
      for (Pattern& p : s->patterns) {
        for (Capture& c : p.captures) {
          if (c.path.segments().back() == name) c.type = type;
        }
      }
    });
  }
  return s;
}

}  // namespace bifrost::filters::parse_regex
