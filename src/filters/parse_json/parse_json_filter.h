// Filter `parse_json`: `field` (default `message`) holds a JSON document;
// its members become fields, nested objects nested fields (reachable by
// dotted paths), arrays arrays. Integers stay int64 and other numbers
// doubles (an unsigned integer above int64 becomes a double).
//
// Into the root (no `target`) the document must be an object. A `message`
// member that is a string becomes the message; an `@timestamp` member is
// kept as `@timestamp_original` (the event time is set by parse_timestamp).
// With `target`, the whole document (any JSON value) goes there.
#pragma once

#include <memory>
#include <optional>

#include "config/reader.h"
#include "core/event.h"
#include "filters/common/on_failure.h"
#include "pipeline/component.h"

namespace bifrost::filters::parse_json {

struct Spec final : pipeline::FilterSpec {
  std::optional<core::FieldPath> field;
  std::optional<core::FieldPath> target;  // none: the event root
  OnFailure on_failure = OnFailure::kKeep;
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

}  // namespace bifrost::filters::parse_json
