#include <doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/influx/reader.h"
#include "core/json.h"

using namespace bifrost;
using namespace bifrost::common::influx;

namespace {

std::string json(const core::Value& v) {
  std::string out;
  core::append_json_value(out, v);
  return out;
}

struct Read {
  std::vector<std::string> lines;   // each line's text
  std::vector<std::string> points;  // "measurement tags fields time" or "! reason"
};

Read read(std::string_view text, Precision p = Precision::kNs) {
  core::Arena arena;
  Reader reader(text, p, arena);
  Read r;
  while (auto line = reader.next()) {
    r.lines.emplace_back(line->text);
    if (line->point) {
      const Point& pt = *line->point;
      r.points.push_back(std::string(pt.measurement) + " " + json(pt.tags) + " " + json(pt.fields) + " " +
                         (pt.time_ns ? std::to_string(*pt.time_ns) : "-"));
    } else {
      r.points.push_back(std::string("! ") + reason(line->point.error().code));
    }
  }
  return r;
}

}  // namespace

TEST_CASE("influx reader: a line as Telegraf writes it, every field type") {
  auto r = read(
      "cpu,cpu=cpu-total,host=web-1 usage_idle=98.5,usage_user=1.25,n=12i,neg=-3i,u=12u,"
      "big=18446744073709551615u,ok=true,msg=\"hi \\\"there\\\" \\\\o/\" 1700000000000000000\n");
  REQUIRE(r.points.size() == 1);
  CHECK(r.points[0] ==
        "cpu {\"cpu\":\"cpu-total\",\"host\":\"web-1\"} "
        "{\"usage_idle\":98.5,\"usage_user\":1.25,\"n\":12,\"neg\":-3,\"u\":12,\"big\":\"18446744073709551615\","
        "\"ok\":true,\"msg\":\"hi \\\"there\\\" \\\\o/\"} 1700000000000000000");
  core::Arena arena;
  Reader reader("m u=12u,big=18446744073709551615u,i=12i", Precision::kNs, arena);
  auto line = reader.next();
  REQUIRE((line && line->point));
  CHECK(line->point->fields.find("u")->is_unsigned());
  CHECK(line->point->fields.find("big")->is_unsigned());
  CHECK_FALSE(line->point->fields.find("i")->is_unsigned());
}

TEST_CASE("influx reader: booleans in all their spellings, floats as InfluxDB takes them") {
  auto r = read(
      "m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE\n"
      "m a=1,b=1.,c=.5,d=-1.5e+3,e=2E-2,f=-0\n");
  REQUIRE(r.points.size() == 2);
  CHECK(r.points[0] ==
        "m {} {\"a\":true,\"b\":true,\"c\":true,\"d\":true,\"e\":true,\"f\":false,\"g\":false,\"h\":false,"
        "\"i\":false,\"j\":false} -");
  CHECK(r.points[1] == "m {} {\"a\":1.0,\"b\":1.0,\"c\":0.5,\"d\":-1500.0,\"e\":0.02,\"f\":-0.0} -");
  for (const char* bad :
       {"m a=tru", "m a=yes", "m a=+1", "m a=inf", "m a=nan", "m a=1.2.3", "m a=12x", "m a=1e", "m a=", "m a=12.5i",
        "m a=-12u", "m a=99999999999999999999i", "m a=18446744073709551616u", "m a=1e999", "m a=i", "m a=\"x\"y"}) {
    CAPTURE(bad);
    CHECK(read(bad).points == std::vector<std::string>{"! bad_value"});
  }
}

TEST_CASE("influx reader: several lines, blank lines, comments, CRLF, spaces, with and without a time") {
  auto r = read(
      "# written by telegraf\n\n  cpu,host=a v=1i 10\r\n\t\nmem,host=a used=5i\nmem,host=b  used=6i   20  \n"
      "disk v=1i");
  CHECK(r.lines == std::vector<std::string>{"cpu,host=a v=1i 10", "mem,host=a used=5i", "mem,host=b  used=6i   20  ",
                                            "disk v=1i"});
  CHECK(r.points == std::vector<std::string>{"cpu {\"host\":\"a\"} {\"v\":1} 10", "mem {\"host\":\"a\"} {\"used\":5} -",
                                             "mem {\"host\":\"b\"} {\"used\":6} 20", "disk {} {\"v\":1} -"});
}

TEST_CASE("influx reader: a bad line is reported with its reason and the lines after it go on") {
  auto r = read(
      "cpu,host=a\n"                    // no field set
      "cpu,host=a 1234\n"               // no field set either: a key without =
      "ok v=1i 1\n"                     // fine
      "cpu s=\"open 1\n"                // unterminated: the line ends at its newline
      "ok v=2i 2\n"                     // fine
      "cpu v=1.2.3 3\n"                 // bad value
      "cpu v=1 12:00\n"                 // bad time
      "cpu v=1 1 2\n"                   // bad time (more after it)
      "cpu v=1 99999999999999999999\n"  // bad time (out of range)
      ",host=a v=1\n"                   // no measurement
      "cpu,host v=1\n"                  // a tag without =
      "cpu,host= v=1\n"                 // an empty tag value
      "cpu,=a v=1\n"                    // an empty tag key
      "cpu,a=b=c v=1\n"                 // an = in a tag value
      "cpu v=1,=2\n"                    // an empty field key
      "cpu v=1,w\n"                     // a field without =
      "ok v=3i 3");
  CHECK(r.points == std::vector<std::string>{"! no_fields", "! no_fields", "ok {} {\"v\":1} 1", "! unterminated_string",
                                             "ok {} {\"v\":2} 2", "! bad_value", "! bad_time", "! bad_time",
                                             "! bad_time", "! bad_syntax", "! bad_syntax", "! bad_syntax",
                                             "! bad_syntax", "! bad_syntax", "! bad_syntax", "! bad_syntax",
                                             "ok {} {\"v\":3} 3"});
  CHECK(r.lines[3] == "cpu s=\"open 1");
  core::Arena arena;
  Reader reader("cpu v=1.2.3", Precision::kNs, arena);
  CHECK(reader.next()->point.error().message == "bad_value at column 7");
}

TEST_CASE("influx reader: a string field may hold newlines; one never closed ends at its first") {
  auto r = read("log msg=\"line 1\nline 2\",n=1i 5\nlog msg=\"never closed\nlog n=2i 6\nlog n=3i 7\n");
  CHECK(r.points == std::vector<std::string>{"log {} {\"msg\":\"line 1\\nline 2\",\"n\":1} 5", "! unterminated_string",
                                             "log {} {\"n\":2} 6", "log {} {\"n\":3} 7"});
  CHECK(r.lines[1] == "log msg=\"never closed");
  // A quote further on closes it, as it would for InfluxDB: one bad line.
  CHECK(read("log msg=\"a\nlog msg=\"b\" 1\nlog n=1i 2").points ==
        std::vector<std::string>{"! bad_value", "log {} {\"n\":1} 2"});
}

TEST_CASE("influx reader: the time in the given precision, refused when it overflows in ns") {
  CHECK(read("m v=1 1700000000", Precision::kS).points[0] == "m {} {\"v\":1.0} 1700000000000000000");
  CHECK(read("m v=1 1700000000000", Precision::kMs).points[0] == "m {} {\"v\":1.0} 1700000000000000000");
  CHECK(read("m v=1 1700000000000000", Precision::kUs).points[0] == "m {} {\"v\":1.0} 1700000000000000000");
  CHECK(read("m v=1 -5", Precision::kNs).points[0] == "m {} {\"v\":1.0} -5");
  CHECK(read("m v=1 10000000000", Precision::kS).points[0] == "! bad_time");
}

TEST_CASE("influx reader: escapes as InfluxDB 1.x reads them (checked against the real server)") {
  // Each: a line, and what InfluxDB 1.6 stored (measurement, tag or field key).
  auto r = read(
      "m\\ 1\\,x\\=y\\\"z v=1\n"                       // measurement: `\ ` `\,` `\=` `\"` all unescaped
      "m\\\\1 v=1\n"                                   // `\\` is two backslashes
      "m,t=a\\\\b v=1\n"                               // in a tag value too
      "m,t=c\\b v=1\n"                                 // a lone backslash is itself
      "m,t=d\\\\\\,e v=1\n"                            // `\\\,` : a backslash, then an escaped comma
      "m,t=g\\\"h v=1\n"                               // tags keep `\"`
      "m,t=i\\nj v=1\n"                                // `\n` is not a newline
      "m,t=l\\\\\\ m v=1\n"                            // `\\\ ` : two backslashes, then an escaped space
      "m,a\\\"b=1 v=1\n"                               // tag keys keep `\"`
      "m f\\\"k=1,f\\\\k=2,f\\=k=3,f\\ k=4,f\\,k=5\n"  // field keys unescape `\"` `\=` `\ ` `\,`
      "m,t=a\tb\rc\fd f\te=1\n");                      // tabs, CRs and form feeds inside names are kept
  CHECK(r.points == std::vector<std::string>{
                        "m 1,x=y\"z {} {\"v\":1.0} -",
                        "m\\\\1 {} {\"v\":1.0} -",
                        "m {\"t\":\"a\\\\\\\\b\"} {\"v\":1.0} -",
                        "m {\"t\":\"c\\\\b\"} {\"v\":1.0} -",
                        "m {\"t\":\"d\\\\\\\\,e\"} {\"v\":1.0} -",
                        "m {\"t\":\"g\\\\\\\"h\"} {\"v\":1.0} -",
                        "m {\"t\":\"i\\\\nj\"} {\"v\":1.0} -",
                        "m {\"t\":\"l\\\\\\\\ m\"} {\"v\":1.0} -",
                        "m {\"a\\\\\\\"b\":\"1\"} {\"v\":1.0} -",
                        "m {} {\"f\\\"k\":1.0,\"f\\\\\\\\k\":2.0,\"f=k\":3.0,\"f k\":4.0,\"f,k\":5.0} -",
                        "m {\"t\":\"a\\tb\\rc\\fd\"} {\"f\\te\":1.0} -",
                    });
}

TEST_CASE("influx reader: a repeated tag or field keeps the last value") {
  CHECK(read("m,t=1,t=2 v=1i,v=2i").points[0] == "m {\"t\":\"2\"} {\"v\":2} -");
}
