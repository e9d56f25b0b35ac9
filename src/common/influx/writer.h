// InfluxDB line protocol, the writing half (reader.h reads it back): the
// influxdb output's points, whether mapped from an event's fields or passed
// through from parse_influx. Escaped as InfluxDB 1.x reads it (checked
// against the real server), so that what it stores, and what reader.h
// reads back, is exactly the event's:
//   measurement: `,` and space escaped; `=` and `"` too after a backslash
//     of the name (InfluxDB would take that backslash as an escape);
//   tag keys and values: `,`, `=` and space escaped;
//   field keys: `,`, `=` and space escaped; `"` too after a backslash;
//   string field values: in double quotes, `"` and `\` escaped.
// A newline cannot be in a name: it is written as `\n`, as Telegraf does,
// and read back as those two characters (the one change a round trip
// makes). A name ending in a backslash cannot be written at all (it would
// escape the delimiter after it). In a string field, a newline is kept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/influx/point.h"
#include "core/result.h"
#include "core/value.h"

namespace bifrost::common::influx {

void append_measurement(std::string& out, std::string_view s);
void append_key(std::string& out, std::string_view s);  // tag keys and values
void append_field_key(std::string& out, std::string_view s);
void append_string_field(std::string& out, std::string_view s);
// A field value by the event value's type: int -> 12i, unsigned
// (core::Value::unsigned_integer) -> 12u, float -> 1.5, bool -> true,
// string -> "quoted"; objects and arrays as quoted JSON.
// Returns false (and appends nothing) for null and for NaN or infinity,
// which line protocol cannot hold: a predicate the caller decides on (the
// field is left out), not an error of the data path.
bool append_field_value(std::string& out, const core::Value& v);

// Whether line protocol can hold `s` as a name: not empty, and not ending
// in a backslash.
bool writable_name(std::string_view s);

enum class WriteErrc : std::uint8_t {
  kNotAPoint,  // the point cannot be written (the message says why)
};
using WriteError = core::Error<WriteErrc>;

// A point as one line with its '\n', its time (when it has one) in
// `precision` units, truncated. Tag values that are not strings are written
// as their text, empty ones left out (line protocol has none); null, NaN
// and infinite fields are left out; a field key starting with a tab is not
// written first (InfluxDB would skip the tab). When it cannot be a point (no field
// left, an empty name, a name ending in a backslash, a measurement starting
// with `#`, a tab or a CR) appends nothing and
// says why. `scratch` is the caller's, reused.
core::Result<void, WriteError> append_point(std::string& out, const Point& p, Precision precision,
                                            std::string& scratch);

}  // namespace bifrost::common::influx
