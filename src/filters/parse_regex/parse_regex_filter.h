// Filter `parse_regex`: RE2 named groups of `field` become fields.
//
// `pattern`, or `patterns` tried in order (the first match wins); a search
// anywhere in the field unless the pattern anchors itself (^, $). Captures
// are stored without copying (they point into the field's bytes); `types`
// converts them (int, float, bool, string): a capture that does not convert
// is kept as a string and the event tagged `<id>_type_failure`. A group that
// did not take part in the match sets nothing. Patterns that never
// backtrack run on a one-pass matcher (linear_pattern.h) instead of RE2.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "core/event.h"
#include "filters/common/on_failure.h"
#include "filters/parse_regex/linear_pattern.h"
#include "pipeline/component.h"

namespace re2 {
class RE2;
}

namespace bifrost::filters::parse_regex {

enum class Type { kString, kInt, kFloat, kBool };

struct Capture {
  int group;             // RE2 group index
  core::FieldPath path;  // where it goes (target + name)
  Type type;
};

struct Pattern {
  std::shared_ptr<re2::RE2> re;
  int groups = 0;
  std::vector<Capture> captures;
  std::optional<LinearPattern> fast;  // the one-pass matcher, when the pattern allows it
};

struct Spec final : pipeline::FilterSpec {
  std::optional<core::FieldPath> field;
  std::vector<Pattern> patterns;
  OnFailure on_mismatch = OnFailure::kKeep;
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::parse_regex
