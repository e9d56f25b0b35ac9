// Filter `parse_timestamp`: reads a time from `field` with the first of
// `formats` that fits, and sets `target` (default `@timestamp`, the event
// time). Formats: strftime directives (%Y %m %d %H %M %S %b %a %y %j %z %Z
// ...) plus %f for fractional seconds (1 to 9 digits, after whatever
// separator the format puts before it: %S.%f, %S,%f), or one of the names
// rfc3339, unix, unix_ms, unix_us, unix_ns. A format without a zone uses
// `timezone` (IANA, default UTC); a local time that does not exist or
// exists twice (a DST change) takes the offset in force before the change.
// A format without a year (syslog's "Dec 10 06:55:46") gets the year that
// does not put the time more than a day in the future.
//
// Guard: a time more than `max_past` before or `max_future` after now is
// clamped to that bound, tagged (`<id>_out_of_range`) or dropped (reason
// `timestamp_out_of_range`), per `action`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/time/time.h>

#include "config/reader.h"
#include "core/event.h"
#include "core/result.h"
#include "filters/common/on_failure.h"
#include "pipeline/component.h"

namespace bifrost::filters::parse_timestamp {

struct Format {
  enum class Kind { kStrftime, kUnix, kUnixMs, kUnixUs, kUnixNs };
  Kind kind = Kind::kStrftime;
  std::string absl_format;  // kStrftime: the format as absl::ParseTime reads it
  bool has_year = true;
};

enum class GuardAction { kClamp, kTag, kDrop };

struct Spec final : pipeline::FilterSpec {
  std::optional<core::FieldPath> field;
  std::optional<core::FieldPath> target;
  std::vector<Format> formats;
  absl::TimeZone zone = absl::UTCTimeZone();
  OnFailure on_failure = OnFailure::kKeep;
  std::int64_t max_past_ns = 0;    // 0: no bound
  std::int64_t max_future_ns = 0;  // 0: no bound
  GuardAction guard = GuardAction::kClamp;
  std::unique_ptr<pipeline::Filter> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r);

// Parses `text` with `f`; `now_ns` decides the year of a year-less format.
std::optional<std::int64_t> parse_time(const Format& f, std::string_view text, const absl::TimeZone& zone,
                                       std::int64_t now_ns);
enum class Errc : std::uint8_t {
  kBadFormat,  // not a time format (the message says why)
};
using Error = core::Error<Errc>;

// Translates a format (strftime + %f, or a name) for parse_time.
core::Result<Format, Error> compile_format(const std::string& text);

}  // namespace bifrost::filters::parse_timestamp
