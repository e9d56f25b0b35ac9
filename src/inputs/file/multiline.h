// Multiline joining: consecutive lines that belong together (a stack trace,
// a wrapped message) become one event whose message is the lines with their
// newlines. Either `start` (a line matching it begins a new event) or
// `continuation` (a line matching it continues the previous one).
//
// The joined event is the bytes of its lines as they are in the read chunk,
// so joining copies nothing. An event ends at the next line that starts
// one, at max_lines lines, or when it would pass max_line_bytes (both
// tagged multiline_cut; nothing is dropped). The last event of a read may
// still be open: the input carries it to the next read, and sends it once
// `timeout` passes without the line that would end it.
#pragma once

#include <cstdint>
#include <memory>

#include <re2/re2.h>

#include "core/batch.h"

namespace bifrost::inputs::file {

struct MultilineSpec {
  enum class Mode : std::uint8_t { kStart, kContinuation };
  Mode mode = Mode::kStart;
  std::shared_ptr<const re2::RE2> pattern;
  std::int64_t max_lines = 500;
  std::int64_t timeout_ns = 1'000'000'000;
};

inline constexpr std::string_view kMultilineCutTag = "multiline_cut";

// Joins the line events of `batch` in place (lines cut by max_line_bytes,
// tagged line_cut, stay events of their own). Returns the index of the last
// event when it may still grow (the caller decides: carry it or send it),
// else batch.events.size().
std::size_t join_lines(core::Batch& batch, const MultilineSpec& spec, std::uint64_t max_bytes);

}  // namespace bifrost::inputs::file
