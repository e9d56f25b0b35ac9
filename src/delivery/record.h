// One failed-queue record: an NDJSON line holding the event (as bifrost's
// JSON event), why it failed, how many attempts were made, by which
// component, and when.
//
//   {"time":"2026-11-21T04:00:00.000000000Z","pipeline":"web","component":"es",
//    "attempts":3,"error":"HTTP 400: mapper_parsing_exception","ts":1763697600000000000,
//    "event":{"@timestamp":"...","message":"...","status":500}}
//
// `ts` is the event time in nanoseconds, so replay restores it exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/time.h"
#include "delivery/errors.h"

namespace bifrost::delivery {

struct RecordMeta {
  std::string_view pipeline;
  std::string_view component;
  std::string_view error;
  std::int64_t attempts = 0;
  std::int64_t now_ns = 0;
};

// Appends one record line (with its \n) for `e`.
void append_record(std::string& out, const core::Event& e, const RecordMeta& meta, core::Rfc3339Cache& cache);

struct DecodedRecord {
  std::int64_t attempts = 0;
  std::string error;
};

// Reads a record line back: appends its event to `batch` (strings in the
// batch's arena) and returns the rest. kCorrupt (and `batch` untouched) when
// the line is not a record.
Result<DecodedRecord> decode_record(std::string_view line, core::Batch& batch);

}  // namespace bifrost::delivery
