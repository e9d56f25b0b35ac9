#include "filters/parse_regex/compiled_pattern.h"

#include <re2/re2.h>

#include <algorithm>

#include "filters/parse_regex/syntax.h"

namespace bifrost::filters::parse_regex {

std::unique_ptr<CompiledPattern> CompiledPattern::compile(std::string_view pattern, EngineChoice choice,
                                                          std::string& error, std::size_t& error_offset) {
  std::unique_ptr<CompiledPattern> cp(new CompiledPattern());
  std::string pcre2_error;
  std::size_t pcre2_offset = 0;
  if (choice != EngineChoice::kRe2)
    cp->pcre2_ = Pcre2Pattern::compile(pcre2_syntax(pattern), pcre2_error, pcre2_offset);
  auto re = std::make_unique<re2::RE2>(re2_syntax(pattern), re2::RE2::Quiet);
  if (!re->ok()) {
    cp->no_re2_reason_ = re->error();
    re.reset();
  }
  if (choice == EngineChoice::kRe2 && !re) {
    error_offset = 0;
    error = cp->no_re2_reason_;
    // Valid for PCRE2: a construct RE2 lacks, not a typo.
    if (Pcre2Pattern::compile(pcre2_syntax(pattern), pcre2_error, pcre2_offset)) {
      error = "RE2 cannot compile it (" + error +
              "); lookarounds, backreferences, atomic groups and possessive quantifiers need engine auto or pcre2";
    }
    return nullptr;
  }
  if (!cp->pcre2_ && !re) {
    error = pcre2_error;
    error_offset = std::min(pcre2_offset, pattern.size());  // exact unless a rewrite (syntax.h) came before it
    return nullptr;
  }
  if (cp->pcre2_) {
    cp->groups_ = cp->pcre2_->captures();
    cp->names_ = cp->pcre2_->names();
  } else {
    cp->groups_ = re->NumberOfCapturingGroups();
    for (const auto& [name, index] : re->NamedCapturingGroups()) cp->names_.emplace_back(name, index);
  }
  std::sort(cp->names_.begin(), cp->names_.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  if (cp->pcre2_ && re) {
    // RE2 takes over only where it numbers the groups as PCRE2 does.
    std::vector<std::pair<std::string, int>> re2_names;
    for (const auto& [name, index] : re->NamedCapturingGroups()) re2_names.emplace_back(name, index);
    std::sort(re2_names.begin(), re2_names.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    if (re->NumberOfCapturingGroups() != cp->groups_ || re2_names != cp->names_) {
      cp->no_re2_reason_ = "RE2 numbers its groups differently";
      re.reset();
    }
  }
  cp->re2_ = std::move(re);
  if (choice == EngineChoice::kAuto) {
    cp->fast_ = LinearPattern::compile(with_p_names(pattern));
    if (cp->fast_ && cp->fast_->captures() != cp->groups_) cp->fast_.reset();  // counted differently: not ours
  }
  return cp;
}

CompiledPattern::~CompiledPattern() = default;

CompiledPattern::Outcome CompiledPattern::match(std::string_view text, re2::StringPiece* groups, Counts& counts) const {
  const int n = groups_ + 1;
  if (fast_) {
    switch (fast_->match(text, groups, n)) {
      case LinearPattern::Result::kMatch: return Outcome::kMatch;
      case LinearPattern::Result::kNoMatch: return Outcome::kNoMatch;
      case LinearPattern::Result::kUndecided: break;
    }
  }
  if (pcre2_) {
    auto r = pcre2_->match(text, groups, n);
    // Not UTF-8: PCRE2 without its JIT, where an invalid byte matches
    // nothing, as in RE2.
    if (r == Pcre2Pattern::Result::kInvalidUtf8) r = pcre2_->match_any_bytes(text, groups, n);
    switch (r) {
      case Pcre2Pattern::Result::kMatch: return Outcome::kMatch;
      case Pcre2Pattern::Result::kNoMatch: return Outcome::kNoMatch;
      case Pcre2Pattern::Result::kInvalidUtf8:  // cannot come from match_any_bytes
      case Pcre2Pattern::Result::kLimit:
        ++counts.limit_hits;
        if (!re2_) return Outcome::kLimit;
        ++counts.fallbacks;
        break;
    }
  }
  re2::StringPiece input(text.data(), text.size());
  return re2_->Match(input, 0, input.size(), re2::RE2::UNANCHORED, groups, n) ? Outcome::kMatch : Outcome::kNoMatch;
}

std::string_view CompiledPattern::engine_name() const {
  if (fast_) return "one-pass";
  if (pcre2_) return pcre2_->jit() ? "pcre2-jit" : "pcre2";
  return "re2";
}

std::string CompiledPattern::describe() const {
  std::string out(engine_name());
  std::string_view pcre2_name = pcre2_ ? (pcre2_->jit() ? "pcre2-jit" : "pcre2") : "";
  if (fast_) out += std::string(", ") + std::string(pcre2_ ? pcre2_name : "re2") + " for lines it leaves undecided";
  if (pcre2_ && re2_) out += "; re2 for a line past pcre2's match limits";
  if (pcre2_ && !re2_) {
    out += "; no re2 (" + no_re2_reason_ + "): a line past pcre2's match limits is a mismatch";
  }
  return out;
}

}  // namespace bifrost::filters::parse_regex
