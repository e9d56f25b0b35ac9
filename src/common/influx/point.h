// A line-protocol point as bifrost's events carry it, the one shape that
// the reader (reader.h: parse_influx, `decoding: influx`) makes and the
// influxdb output's passthrough writes (writer.h):
//   measurement  a non-empty string
//   tags         an object of strings (empty when the point has none)
//   fields       a non-empty object: int (12i), unsigned (12u, see
//                core::Value::unsigned_integer), float, bool or string
//   @timestamp   the point's time (the event's own time when it had none)
// at the top of the event's fields, beside whatever else the event holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/event.h"

namespace bifrost::common::influx {

enum class Precision : std::uint8_t { kNs, kUs, kMs, kS };

// Nanoseconds in one unit of `p`.
constexpr std::int64_t unit_ns(Precision p) {
  switch (p) {
    case Precision::kNs: return 1;
    case Precision::kUs: return 1'000;
    case Precision::kMs: return 1'000'000;
    case Precision::kS: return 1'000'000'000;
  }
  return 1;
}

// "ns", "us", "ms", "s" (as the config and the InfluxDB v2 API spell them).
std::optional<Precision> parse_precision(std::string_view text);

struct Point {
  std::string_view measurement;
  core::Value tags;    // an object
  core::Value fields;  // an object
  std::optional<std::int64_t> time_ns;
};

// Sets `e`'s measurement, tags and fields (replacing fields of those names,
// keeping the others) and, when the point has one, its time.
void set_point(core::Event& e, const Point& p, core::Arena& arena);

// The point an event holds, when it has one: `measurement` a non-empty
// string, `fields` a non-empty object and `tags` absent or an object.
// Anything else (no measurement, a `tags` array of bifrost's tags) is not
// a point. time_ns is the event's time.
std::optional<Point> point_of(const core::Event& e);

}  // namespace bifrost::common::influx
