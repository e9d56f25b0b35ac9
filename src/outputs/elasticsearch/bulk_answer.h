// Reading a 2xx answer of the bulk API: an outcome for every document of
// the request. 2xx delivered; 409 on `create` with automatic ids delivered
// (the document is there from an earlier attempt); 429, 5xx and an item
// without a status to retry (alone, never the whole request); any other
// status rejected with Elasticsearch's error type and reason.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.h"
#include "pipeline/component.h"

namespace bifrost::outputs::elasticsearch {

enum class Errc : std::uint8_t {
  kNotAnAnswer,  // a 2xx whose body is not a bulk answer (not JSON, or not an item per document)
};
using Error = core::Error<Errc>;

// `items`: the report indexes of the request's documents, in order.
// kNotAnAnswer, saying why, when the answer is not one: every document is
// then to be retried (the report says so, with that reason), and nothing
// after them may go ahead.
core::Result<void, Error> judge_bulk_answer(std::string_view answer, std::span<const std::uint32_t> items,
                                            bool create_with_auto_ids, simdjson::dom::parser& parser,
                                            pipeline::DeliveryReport& report);

}  // namespace bifrost::outputs::elasticsearch
