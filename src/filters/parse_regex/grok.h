// Named building blocks in a pattern, grok-style:
//
//   %{NAME}               the pattern NAME, captured nowhere
//   %{NAME:field}         ... captured into `field` (a field path)
//   %{NAME:field:type}    ... converted to int, float, bool or string
//
// NAME is one of `patterns` (a map) (the user's, which may use others
// and replace a built-in of the same name) or a built-in (builtin_patterns()).
// Expansion is textual: %{NAME} becomes (?:definition), %{NAME:field} a
// named group of a generated name (GrokCapture::group) that maps to the
// field. A %{ inside a character class, after a backslash or inside
// \Q...\E is left as written.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bifrost::filters::parse_regex {

struct BuiltinPattern {
  const char* name;
  const char* definition;
};
// The built-in set, in the order docs/filters.md lists it.
std::span<const BuiltinPattern> builtin_patterns();

struct GrokCapture {
  std::string group;  // the named group's name in the expanded pattern
  std::string field;  // as written
  std::string type;   // int | float | bool | string, or empty
};

struct GrokError {
  std::string message;
  std::size_t offset;      // in the text it was found in
  std::string definition;  // that text: empty for the pattern itself, else the user definition's name
};

struct GrokExpansion {
  std::string pattern;
  std::vector<GrokCapture> captures;
};

// Upper bound on an expanded pattern (definitions that use each other twice
// over grow exponentially).
inline constexpr std::size_t kMaxExpandedBytes = 1 << 20;

bool has_grok(std::string_view pattern);

// Expands `pattern`; errors (an unknown name with a "did you mean", a
// definition that uses itself, a bad type) go to `errors`, and then the
// result is not to be used.
GrokExpansion expand_grok(std::string_view pattern, const std::map<std::string, std::string>& definitions,
                          std::vector<GrokError>& errors);

// Checks one user definition on its own (unknown names, cycles), so a typo
// in a definition no pattern uses yet is found too.
void check_definition(const std::string& name, const std::map<std::string, std::string>& definitions,
                      std::vector<GrokError>& errors);

}  // namespace bifrost::filters::parse_regex
