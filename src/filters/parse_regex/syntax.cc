#include "filters/parse_regex/syntax.h"

namespace bifrost::filters::parse_regex {

namespace {

enum class Dialect { kOnePass, kRe2, kPcre2 };

// Copies `p`, rewriting what `d` reads differently. Tracks escapes, \Q...\E
// and character classes, so only real group openings and escapes change.
std::string rewrite(std::string_view p, Dialect d) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  std::size_t class_start = 0;  // where the class's items begin (after [ or [^)
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[++i];
      if (e == 'Q') {  // literal up to \E
        std::size_t end = p.find("\\E", i + 1);
        if (end == std::string_view::npos) end = p.size();
        else end += 2;
        out.append(p.substr(i - 1, end - (i - 1)));
        i = end - 1;
        continue;
      }
      if (d == Dialect::kRe2 && e == 's') {
        out += in_class ? "\\t\\n\\v\\f\\r " : "[\\t\\n\\v\\f\\r ]";
        continue;
      }
      if (d == Dialect::kRe2 && e == 'S') {
        out += in_class ? "[:^space:]" : "[^\\t\\n\\v\\f\\r ]";
        continue;
      }
      if (d == Dialect::kPcre2 && e == 'v') {
        out += "\\x0b";
        continue;
      }
      out += c;
      out += e;
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:] inside a class
        std::size_t end = p.find(":]", i + 2);
        if (end != std::string_view::npos) {
          out.append(p.substr(i, end + 2 - i));
          i = end + 1;
          continue;
        }
      }
      if (c == ']' && i > class_start) in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      class_start = i + 1;  // a ] right here is a literal
      continue;
    }
    if (c == '(' && d != Dialect::kPcre2 && p.substr(i).starts_with("(?<") && i + 3 < p.size() && p[i + 3] != '=' &&
        p[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string with_p_names(std::string_view pattern) { return rewrite(pattern, Dialect::kOnePass); }
std::string re2_syntax(std::string_view pattern) { return rewrite(pattern, Dialect::kRe2); }
std::string pcre2_syntax(std::string_view pattern) { return rewrite(pattern, Dialect::kPcre2); }

}  // namespace bifrost::filters::parse_regex
