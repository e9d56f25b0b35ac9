#include "config/node.h"

#include <cstdlib>

namespace bifrost::config {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::optional<std::string> substitute_env(const std::string& in, const EnvLookup& env, std::string& error,
                                          std::size_t& error_offset) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '$' || i + 1 >= in.size()) {
      out.push_back(c);
      continue;
    }
    if (in[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (in[i + 1] != '{') {
      out.push_back(c);
      continue;
    }
    std::size_t close = in.find('}', i + 2);
    if (close == std::string::npos) {
      error = "unclosed \"${\" (write $$ for a literal $)";
      error_offset = i;
      return std::nullopt;
    }
    std::string body = in.substr(i + 2, close - i - 2);
    std::string name = body;
    std::optional<std::string> fallback;
    if (std::size_t sep = body.find(":-"); sep != std::string::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    bool valid = !name.empty();
    for (char n : name) valid = valid && (std::isalnum(static_cast<unsigned char>(n)) || n == '_');
    if (!valid) {
      error = "invalid environment variable name \"" + name + "\" in ${...}";
      error_offset = i;
      return std::nullopt;
    }
    std::optional<std::string> value = env(name);
    if (!value || (value->empty() && fallback)) value = fallback;
    if (!value) {
      error = "environment variable " + name + " is not set (give a default with ${" + name + ":-default})";
      error_offset = i;
      return std::nullopt;
    }
    out += *value;
    i = close;
  }
  return out;
}

Location Node::location() const {
  YAML::Mark m = yaml_.Mark();
  Location loc{source_ ? source_->file : std::string("<config>"), 0, 0};
  if (m.line >= 0) {
    loc.line = m.line + 1;
    loc.col = m.column + 1;
  }
  return loc;
}

Location Node::location_in_scalar(std::size_t offset) const {
  Location loc = location();
  if (loc.line == 0 || !source_ || !yaml_.IsScalar()) return loc;
  YAML::Mark m = yaml_.Mark();
  if (m.pos < 0 || static_cast<std::size_t>(m.pos) >= source_->text.size()) return loc;
  // An anchored or tagged scalar starts at its `&name` or `!tag`: skip them.
  std::size_t start = static_cast<std::size_t>(m.pos);
  const std::string& text = source_->text;
  while (start < text.size() && (text[start] == '&' || text[start] == '!')) {
    while (start < text.size() && text[start] != ' ' && text[start] != '\n') ++start;
    while (start < text.size() && text[start] == ' ') ++start;
  }
  if (start >= text.size() || text.find('\n', static_cast<std::size_t>(m.pos)) < start) return loc;
  loc.col += static_cast<int>(start - static_cast<std::size_t>(m.pos));
  m.pos = static_cast<int>(start);
  char first = source_->text[static_cast<std::size_t>(m.pos)];
  if (first == '|' || first == '>') return loc;  // block scalar: start is good enough
  std::size_t lead = (first == '\'' || first == '"') ? 1 : 0;
  // Only exact while the scalar stays on its line.
  std::size_t eol = source_->text.find('\n', static_cast<std::size_t>(m.pos));
  if (eol != std::string::npos && static_cast<std::size_t>(m.pos) + lead + offset > eol) return loc;
  loc.col += static_cast<int>(lead + offset);
  return loc;
}

std::string Node::through() const { return source_ ? source_->through(path_) : std::string(); }

void Node::error(const std::string& message) const { diag().error(location(), path_, message + through()); }

void Node::warning(const std::string& message) const { diag().warning(location(), path_, message + through()); }

void Node::error_at(std::size_t offset, const std::string& message) const {
  diag().error(location_in_scalar(offset), path_, message + through());
}

std::string Node::kind_name() const {
  if (!yaml_.IsDefined() || yaml_.IsNull()) return "nothing";
  if (yaml_.IsMap()) return "a map";
  if (yaml_.IsSequence()) return "a list";
  return "\"" + yaml_.Scalar() + "\"";
}

std::optional<std::string> Node::scalar(const char* expected) const {
  if (!yaml_.IsScalar()) {
    error(std::string("expected ") + expected + ", got " + kind_name());
    return std::nullopt;
  }
  std::string err;
  std::size_t off = 0;
  auto v = substitute_env(yaml_.Scalar(), ctx_->env, err, off);
  if (!v) error_at(off, err);
  return v;
}

Node Node::child(const std::string& key, const YAML::Node& value) const {
  return Node(value, source_, path_.empty() ? key : path_ + "." + key, ctx_);
}

Node Node::element(std::size_t index) const {
  return Node(yaml_[index], source_, path_ + "[" + std::to_string(index) + "]", ctx_);
}

}  // namespace bifrost::config
