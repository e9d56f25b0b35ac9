// InfluxDB line protocol, the reading half (writer.h is the other): text
// as Telegraf and the InfluxDB clients send it becomes points (point.h),
// one a line, read as InfluxDB 1.x reads them, so that what bifrost passes
// on is what the server would have stored:
//   <measurement>[,<tag key>=<tag value>...] <field key>=<value>[,...] [<time>]
// - A backslash before a character that element escapes stands for that
//   character (measurement: `,` space `=` `"`; tag keys and values: `,`
//   space `=`; field keys: `,` space `=` `"`); any other backslash is
//   itself (`C:\new` is 6 characters, as InfluxDB stores it).
// - Field values: `12i` int, `12u` unsigned (kept exactly), `1.5`, `1`,
//   `-1e3` float, t T true True TRUE f F false False FALSE, and "strings"
//   in which `\"` and `\\` stand for `"` and `\` (any other backslash is
//   itself; a newline is part of the string, not the end of the line).
// - The time: an integer in `precision` units; without one, none (the
//   event keeps its time).
// - Blank lines, `#` comments, spaces around the sections, a CR before the
//   newline are skipped.
// Strings point into the text where they need no unescaping, else into the
// arena: both must outlive the points. No allocation per point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/influx/point.h"
#include "core/arena.h"
#include "core/result.h"

namespace bifrost::common::influx {

// Why a line is not a point. Each is counted by its reason().
enum class Errc : std::uint8_t {
  kNoFields,            // no field set (a measurement and tags, then the end of the line)
  kUnterminatedString,  // a string field value without its closing quote
  kBadValue,            // a field value that is not a number, a boolean or a string (1.2.3, 12x, +1, nan)
  kBadTime,             // a time that is not an integer, or out of range in ns
  kBadSyntax,           // the rest: no measurement, a tag without `=`, an empty key or tag value
};
inline constexpr std::size_t kErrcCount = 5;
using Error = core::Error<Errc>;

// "no_fields", "unterminated_string", "bad_value", "bad_time", "bad_syntax":
// the metric label, and the reason of a dropped or rejected point (static).
const char* reason(Errc e);

// One line of the text: its bytes (without the newline) and its point, or
// why it is none (the message names the column).
struct Line {
  std::string_view text;
  core::Result<Point, Error> point;
};

class Reader {
 public:
  Reader(std::string_view text, Precision precision, core::Arena& arena)
      : p_(text.data()), end_(text.data() + text.size()), unit_(unit_ns(precision)), arena_(arena) {}

  // The next line that is a point or tried to be one; nothing at the end.
  // A bad line ends where InfluxDB would end it (its first newline after
  // the fault, or after the quote an unterminated string opened), and the
  // lines after it are read as usual.
  std::optional<Line> next();

 private:
  const char* p_;
  const char* end_;
  std::int64_t unit_;
  core::Arena& arena_;
};

}  // namespace bifrost::common::influx
