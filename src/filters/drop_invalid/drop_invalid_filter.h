// Filter `drop_invalid`: drops (or tags) events that fail a check, each
// counted under its reason. Checks run in this order; the first that fails
// names the reason:
//   max_bytes  message longer than this            too_large
//   utf8       message is not valid UTF-8           invalid_utf8
//   json       message is not a JSON document       invalid_json
//   require    a field is missing, null or empty    missing_field
//   types      a field does not read as its type    wrong_type
//   match      the condition does not hold          no_match
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "config/reader.h"
#include "core/event.h"
#include "expr/condition.h"
#include "filters/common/on_failure.h"
#include "pipeline/component.h"

namespace bifrost::filters::drop_invalid {

enum class Type { kInt, kFloat, kBool };

struct Spec final : pipeline::FilterSpec {
  std::uint64_t max_bytes = 0;  // 0: no limit
  bool utf8 = false;
  bool json = false;
  std::vector<core::FieldPath> require;
  std::vector<std::pair<core::FieldPath, Type>> types;
  std::optional<expr::Condition> match;
  OnFailure action = OnFailure::kDrop;  // action: drop | tag | reject
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::drop_invalid
