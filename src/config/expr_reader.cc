#include "config/expr_reader.h"

namespace bifrost::config {

namespace {
// Whether environment substitution changed the text (then offsets inside
// it no longer match the file, and errors point at the value's start).
bool substituted(const Node& n, const std::string& text) { return n.yaml().Scalar() != text; }
}  // namespace

std::optional<expr::Condition> parse_condition(const Node& n) {
  auto text = n.scalar("a condition");
  if (!text) return std::nullopt;
  auto parsed = expr::Condition::parse(*text);
  if (auto* e = std::get_if<expr::ParseError>(&parsed)) {
    n.error_at(substituted(n, *text) ? 0 : e->offset, "invalid condition: " + e->message);
    return std::nullopt;
  }
  return std::move(std::get<expr::Condition>(parsed));
}

std::optional<expr::Template> parse_template(const Node& n) {
  auto text = n.scalar("a template");
  if (!text) return std::nullopt;
  auto parsed = expr::Template::parse(*text);
  if (auto* e = std::get_if<expr::ParseError>(&parsed)) {
    n.error_at(substituted(n, *text) ? 0 : e->offset, "invalid template: " + e->message);
    return std::nullopt;
  }
  return std::move(std::get<expr::Template>(parsed));
}

std::optional<core::FieldPath> parse_field_path(const Node& n) {
  auto text = n.scalar("a field path");
  if (!text) return std::nullopt;
  auto p = core::FieldPath::parse(*text);
  if (!p) n.error("invalid field path \"" + *text + "\" (names separated by dots, such as http.request.method)");
  return p;
}

std::optional<expr::Condition> read_condition(MapReader& r, const std::string& key, const std::string& description) {
  auto n = r.get(key, "condition", "", description);
  if (!n) return std::nullopt;
  return parse_condition(*n);
}

std::optional<expr::Template> read_template(MapReader& r, const std::string& key, const std::string& def,
                                            const std::string& description, bool required) {
  auto n = r.get(key, "template", def.empty() ? "" : "\"" + def + "\"", description, required);
  if (!n) {
    if (def.empty()) return std::nullopt;
    auto parsed = expr::Template::parse(def);
    return std::move(std::get<expr::Template>(parsed));
  }
  return parse_template(*n);
}

std::optional<core::FieldPath> read_field_path(MapReader& r, const std::string& key, const std::string& def,
                                               const std::string& description) {
  auto n = r.get(key, "field path", def, description, def.empty());
  if (!n) return def.empty() ? std::nullopt : core::FieldPath::parse(def);
  return parse_field_path(*n);
}

std::vector<core::FieldPath> read_field_path_list(MapReader& r, const std::string& key,
                                                  const std::string& description) {
  std::vector<core::FieldPath> out;
  auto n = r.get(key, "list of field paths", "[]", description);
  if (!n) return out;
  if (!n->is_sequence()) {
    n->error("expected a list of field paths, got " + n->kind_name());
    return out;
  }
  for (std::size_t i = 0; i < n->yaml().size(); ++i) {
    if (auto p = parse_field_path(n->element(i))) out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace bifrost::config
