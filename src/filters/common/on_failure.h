// What a parsing filter does with an event it cannot parse, shared by the
// parse_* filters so the choice reads and behaves the same everywhere.
//   keep: leave the event as it is
//   tag:  add a `tags` entry naming the filter (`<id>_failure`) and keep it
//   drop: drop it, counted under the filter's reason
//   reject: park it in the filter's failed queue (data_dir/failed/<pipeline>/<filter>/)
#pragma once

#include <optional>
#include <string>

#include "config/reader.h"
#include "core/batch.h"

namespace bifrost::filters {

enum class OnFailure { kKeep, kTag, kDrop, kReject };

// Reads `key` (on_mismatch, on_failure) as keep | tag | drop | reject.
OnFailure read_on_failure(config::MapReader& r, const std::string& key, const std::string& description);

// Applies the choice to event `e` of `batch`.
void apply_failure(OnFailure action, core::Batch& batch, core::Event& e, std::string_view tag, const char* reason);

}  // namespace bifrost::filters
