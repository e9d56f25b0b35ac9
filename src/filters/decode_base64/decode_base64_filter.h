// Filter `decode_base64`: decodes `field` (standard or URL alphabet,
// padding optional) into `target` (default: the same field). With
// `parse_json`, the decoded bytes are a JSON document and `target` gets its
// value. Decoded bytes that are not valid UTF-8 are never put into a string
// field: the original stays and the event is tagged `<id>_not_utf8`.
#pragma once

#include <memory>
#include <optional>

#include "config/reader.h"
#include "core/event.h"
#include "filters/common/on_failure.h"
#include "pipeline/component.h"

namespace bifrost::filters::decode_base64 {

struct Spec final : pipeline::FilterSpec {
  std::optional<core::FieldPath> field;
  std::optional<core::FieldPath> target;  // none: `field`
  bool url = false;
  bool parse_json = false;
  OnFailure on_failure = OnFailure::kKeep;
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

// Decodes `in` into `out` (room for in.size() * 3 / 4 + 3 bytes). Returns the
// decoded length, or nothing when `in` is not base64 of that alphabet.
std::optional<std::size_t> decode(std::string_view in, bool url, char* out);

}  // namespace bifrost::filters::decode_base64
