// Filter `parse_regex`: the named groups of a regular expression matched on
// `field` become fields.
//
// `pattern`, or `patterns` tried in order (the first match wins); a search
// anywhere in the field unless the pattern anchors itself (^, $). Patterns
// may use named building blocks, %{NAME:field[:type]} (grok.h), from the
// built-in set or `patterns` (a map). Which engine runs a pattern is
// compiled_pattern.h's rule (`engine: auto | pcre2 | re2`); each pattern's
// engine is logged when the daemon starts. Captures are stored without
// copying (they point into the field's bytes); `types` (or a :type suffix)
// converts them (int, float, bool, string): a capture that does not convert
// is kept as a string and the event tagged `<id>_type_failure`. A group that
// did not take part in the match sets nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "core/event.h"
#include "filters/common/on_failure.h"
#include "filters/parse_regex/compiled_pattern.h"
#include "pipeline/component.h"

namespace bifrost::filters::parse_regex {

enum class Type { kString, kInt, kFloat, kBool };

struct Capture {
  int group;             // capture index in the pattern
  core::FieldPath path;  // where it goes (target + name)
  Type type;
  std::string name;  // as `types` names it: the group's name, or a building block's field
};

struct Pattern {
  std::shared_ptr<const CompiledPattern> re;
  std::vector<Capture> captures;
};

struct Spec final : pipeline::FilterSpec {
  std::optional<core::FieldPath> field;
  std::vector<Pattern> patterns;
  EngineChoice engine = EngineChoice::kAuto;
  OnFailure on_mismatch = OnFailure::kKeep;
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::parse_regex
