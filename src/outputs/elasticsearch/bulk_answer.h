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

#include "pipeline/component.h"

namespace bifrost::outputs::elasticsearch {

// `items`: the report indexes of the request's documents, in order. False
// when the answer is not one (not JSON, or not an item per document): every
// document is then to be retried, and nothing after them may go ahead.
bool judge_bulk_answer(std::string_view answer, std::span<const std::uint32_t> items, bool create_with_auto_ids,
                       simdjson::dom::parser& parser, pipeline::DeliveryReport& report);

}  // namespace bifrost::outputs::elasticsearch
