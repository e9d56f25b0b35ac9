#include "filters/parse_regex/grok.h"

#include <algorithm>

#include "core/strings.h"

namespace bifrost::filters::parse_regex {

namespace {

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

const char* builtin(std::string_view name) {
  for (const BuiltinPattern& b : builtin_patterns()) {
    if (name == b.name) return b.definition;
  }
  return nullptr;
}

class Expander {
 public:
  Expander(const std::map<std::string, std::string>& definitions, std::vector<GrokError>& errors)
      : definitions_(definitions), errors_(errors) {}

  std::vector<GrokCapture> captures;

  // Appends `text` (the pattern, or the definition named `where`) to `out`,
  // expanded. False once an error made the result unusable. Errors point
  // at `pin` in `where` when given (inside a built-in: at its use).
  bool expand(std::string_view text, const std::string& where, std::string& out,
              std::size_t pin = std::string_view::npos) {
    bool in_class = false;
    std::size_t class_start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '\\' && i + 1 < text.size()) {
        std::size_t end = i + 2;
        if (text[i + 1] == 'Q') {
          end = text.find("\\E", i + 2);
          end = end == std::string_view::npos ? text.size() : end + 2;
        }
        out.append(text.substr(i, end - i));
        i = end - 1;
        continue;
      }
      if (in_class) {
        if (c == ']' && i > class_start) in_class = false;
        out += c;
        continue;
      }
      if (c == '[') {
        in_class = true;
        out += c;
        if (i + 1 < text.size() && text[i + 1] == '^') out += text[++i];
        class_start = i + 1;
        continue;
      }
      if (c != '%' || i + 1 >= text.size() || text[i + 1] != '{') {
        out += c;
        continue;
      }
      std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) return fail(where, pin_or(pin, i), "%{ without a closing }");
      if (!reference(text.substr(i + 2, close - i - 2), where, pin_or(pin, i + 2), pin, out)) return false;
      if (out.size() > kMaxExpandedBytes) {
        return fail(where, pin_or(pin, i),
                    "the named patterns expand to more than " + std::to_string(kMaxExpandedBytes >> 20) +
                        " MiB of regular expression");
      }
      i = close;
    }
    return true;
  }

 private:
  static std::size_t pin_or(std::size_t pin, std::size_t offset) {
    return pin != std::string_view::npos ? pin : offset;
  }

  // One %{NAME[:field[:type]]}; `at` is where NAME starts in `where`'s text.
  bool reference(std::string_view spec, const std::string& where, std::size_t at, std::size_t pin, std::string& out) {
    std::vector<std::string_view> parts;
    for (std::size_t from = 0;;) {
      std::size_t colon = spec.find(':', from);
      parts.push_back(spec.substr(from, colon == std::string_view::npos ? std::string_view::npos : colon - from));
      if (colon == std::string_view::npos) break;
      from = colon + 1;
    }
    std::string_view name = parts[0];
    if (parts.size() > 3 || name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
      return fail(where, at,
                  "a named pattern is %{NAME}, %{NAME:field} or %{NAME:field:type}, not %{" + std::string(spec) + "}");
    }
    std::string_view field = parts.size() > 1 ? parts[1] : std::string_view();
    std::string_view type = parts.size() > 2 ? parts[2] : std::string_view();
    if (parts.size() > 1 && field.empty()) return fail(where, pin_or(pin, at + name.size() + 1), "empty field name");
    if (parts.size() > 2 && type != "int" && type != "float" && type != "bool" && type != "string") {
      std::string msg = "\"" + std::string(type) + "\" is not one of int | float | bool | string";
      if (auto g = core::closest(type, {"int", "float", "bool", "string"}); !g.empty()) {
        msg += "; did you mean \"" + g + "\"?";
      }
      return fail(where, pin_or(pin, at + name.size() + field.size() + 2), msg);
    }
    const std::string key(name);
    const char* definition = nullptr;
    if (auto it = definitions_.find(key); it != definitions_.end()) definition = it->second.c_str();
    if (definition == nullptr) definition = builtin(key);
    if (definition == nullptr) {
      std::vector<std::string> known;
      for (const auto& [n, _] : definitions_) known.push_back(n);
      for (const BuiltinPattern& b : builtin_patterns()) known.emplace_back(b.name);
      std::string msg = "unknown named pattern \"" + key + "\"";
      if (auto g = core::closest(key, known); !g.empty()) msg += "; did you mean \"" + g + "\"?";
      return fail(where, at, msg + " (see docs/filters.md for the built-in ones, a map under `patterns` for your own)");
    }
    if (std::find(stack_.begin(), stack_.end(), key) != stack_.end()) {
      return fail(where, at, "named pattern \"" + key + "\" uses itself");
    }
    if (field.empty()) {
      out += "(?:";
    } else {
      std::string group = "bifrost_grok_" + std::to_string(captures.size() + 1);
      out += "(?P<" + group + ">";
      captures.push_back(GrokCapture{group, std::string(field), std::string(type)});
    }
    // Errors inside a built-in cannot happen (tested); inside a user
    // definition they point into that definition.
    const bool user = definitions_.count(key) != 0;
    stack_.push_back(key);
    bool ok = user ? expand(definition, key, out) : expand(definition, where, out, at);
    stack_.pop_back();
    out += ')';
    return ok;
  }

  bool fail(const std::string& where, std::size_t offset, std::string message) {
    for (const GrokError& e : errors_) {
      if (e.definition == where && e.offset == offset && e.message == message) return false;  // seen via another use
    }
    errors_.push_back(GrokError{std::move(message), offset, where});
    return false;
  }

  const std::map<std::string, std::string>& definitions_;
  std::vector<GrokError>& errors_;
  std::vector<std::string> stack_;
};

}  // namespace

bool has_grok(std::string_view pattern) { return pattern.find("%{") != std::string_view::npos; }

GrokExpansion expand_grok(std::string_view pattern, const std::map<std::string, std::string>& definitions,
                          std::vector<GrokError>& errors) {
  Expander x(definitions, errors);
  GrokExpansion out;
  x.expand(pattern, "", out.pattern);
  out.captures = std::move(x.captures);
  return out;
}

void check_definition(const std::string& name, const std::map<std::string, std::string>& definitions,
                      std::vector<GrokError>& errors) {
  auto it = definitions.find(name);
  if (it == definitions.end()) return;
  Expander x(definitions, errors);
  std::string out;
  x.expand(it->second, name, out);
}

}  // namespace bifrost::filters::parse_regex
