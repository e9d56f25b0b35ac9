// Output `influxdb`: events become points in line protocol (see
// common/influx/writer.h), written with the v1 API (/write?db=&rp=, basic auth)
// or the v2 API (/api/v2/write?org=&bucket=, an API token:
// `auth: {api_key: T}`, sent as "Authorization: Token T").
//
// A request gathers the points of consecutive batches up to batch.max_events
// / max_bytes; two requests are on their way at once (points are keyed by
// series and time, so the order of requests does not change what is
// stored). Outcomes: 2xx delivered; 400 (bad points) and 413 (too large): the
// request is split in halves until the bad points are alone, the rest is
// delivered and each bad point is rejected with the server's message (a
// point InfluxDB 1.x wrote in a "partial write" is written again: the same
// series and time overwrite, no duplicate); 408, 429, 5xx, a refused
// connection or a timeout: retried; other statuses rejected. An event that
// cannot be a point (no field; a name or tag value ending in a backslash)
// is rejected with that reason.
//
// Which point an event is (`point`): `passthrough` writes the point the
// event holds (common/influx/point.h: measurement, tags, fields, as
// parse_influx and `decoding: influx` make them); `mapped` makes it with
// `measurement`, `tags` and `fields`; `auto` (the default) passes through
// an event that holds a point and maps the others (rejected when no
// mapping is given). The guard (`max_past`, `max_future`) rejects a point
// whose time is further from now, to the failed queue, counted.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/influx/metrics.h"
#include "common/influx/point.h"
#include "common/influx/time_guard.h"
#include "config/reader.h"
#include "core/event.h"
#include "core/result.h"
#include "expr/template.h"
#include "outputs/common/http_settings.h"
#include "pipeline/component.h"

namespace bifrost::outputs::influxdb {

enum class PointMode : std::uint8_t { kAuto, kPassthrough, kMapped };

struct Spec final : pipeline::OutputSpec {
  std::string url;
  std::string scheme_host_port;
  std::string base_path;  // the URL's path, without a trailing '/'
  bool v2 = false;
  std::string database, retention_policy;  // v1
  std::string org, bucket;                 // v2
  std::optional<expr::Template> measurement;
  std::vector<std::pair<std::string, expr::Template>> tags;     // tag key -> template (a list: key = the field)
  std::vector<std::pair<std::string, core::FieldPath>> fields;  // field key -> event field
  std::string precision = "ns";
  common::influx::Precision unit = common::influx::Precision::kNs;
  PointMode point = PointMode::kAuto;
  common::influx::TimeGuard guard;
  HttpSettings http;  // compression, auth (v1: basic; v2: api_key, sent as "Token"), tls, batch, timeouts
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
  // A point written again (same measurement, tags and time) replaces itself.
  bool idempotent() const override { return true; }
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

enum class Errc : std::uint8_t {
  kNotAPoint,  // the event cannot be a point (the message says why)
};
using Error = core::Error<Errc>;

// One event as one line of line protocol, with its '\n', as `point` says
// (passed through or mapped). When the event cannot be a point (no field to
// write, a tag ending in a backslash, no point of its own to pass through)
// appends nothing and returns kNotAPoint with why. The guard is the
// caller's (encode()).
core::Result<void, Error> encode_point(const Spec& spec, const core::Event& e, std::string& out, std::string& scratch);

}  // namespace bifrost::outputs::influxdb
