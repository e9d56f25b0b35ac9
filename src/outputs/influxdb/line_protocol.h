// InfluxDB line protocol, exactly as the spec escapes it:
//   measurement: `,` and space escaped with a backslash;
//   tag keys, tag values, field keys: `,`, `=` and space escaped;
//   string field values: in double quotes, `"` and `\` escaped.
// A newline, tab, CR or form feed cannot appear in a name or tag: they are
// written as `\n`, `\t`, `\r`, `\f` (as Telegraf does); in a string field
// they are kept as they are (InfluxDB reads them back unchanged).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/value.h"

namespace bifrost::outputs::influxdb {

void append_measurement(std::string& out, std::string_view s);
void append_key(std::string& out, std::string_view s);  // tag keys, tag values, field keys
void append_string_field(std::string& out, std::string_view s);
// A field value by the event value's type: int -> 12i, float -> 1.5,
// bool -> true, string -> "quoted"; objects and arrays as quoted JSON.
// Returns false (and appends nothing) for null and for NaN or infinity,
// which line protocol cannot hold. A predicate, not a failure (hence a bool
// and not a core::Result): such a field is left out of the point, and the
// caller judges the point by what remains.
bool append_field_value(std::string& out, const core::Value& v);

}  // namespace bifrost::outputs::influxdb
