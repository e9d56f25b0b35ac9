// One pattern, written once by the user, read alike by three engines: PCRE2,
// RE2 and the one-pass matcher. Where their dialects differ on something
// both accept, the pattern is rewritten so all three mean the same:
//
//   (?<name>...)  RE2 (2022) knows only (?P<name>...): renamed for RE2 and
//                 the one-pass matcher.
//   \s \S         Perl's and PCRE2's \s takes the vertical tab (\x0B), RE2's
//                 does not: RE2 gets [\t\n\v\f\r ] (and [:^space:] inside a
//                 class for \S), so \s is the same set on every engine.
//   \v            a vertical tab in RE2, any vertical space in PCRE2: PCRE2
//                 gets \x0B.
//
// Everything else goes through as written; what one engine rejects (a
// lookaround or backreference for RE2) is that engine's error, and the
// engine choice (compiled_pattern.h) decides what follows from it.
#pragma once

#include <string>
#include <string_view>

namespace bifrost::filters::parse_regex {

// (?<name> becomes (?P<name>; the rest as written (for the one-pass matcher).
std::string with_p_names(std::string_view pattern);
// The pattern as RE2 should read it.
std::string re2_syntax(std::string_view pattern);
// The pattern as PCRE2 should read it.
std::string pcre2_syntax(std::string_view pattern);

}  // namespace bifrost::filters::parse_regex
