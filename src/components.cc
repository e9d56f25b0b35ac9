// The one place where component types are registered: adding one is a new
// folder under inputs/, filters/ or outputs/ and one line here.
#include "common/kafka/statistics.h"
#include "config/registry.h"
#include "filters/aggregate/aggregate_stage.h"
#include "filters/aggregate/metric_families.h"
#include "filters/decode_base64/decode_base64_filter.h"
#include "filters/dedupe/dedupe_stage.h"
#include "filters/dedupe/metric_families.h"
#include "filters/drop/drop_filter.h"
#include "filters/drop_invalid/drop_invalid_filter.h"
#include "filters/modify/modify_filter.h"
#include "filters/parse_influx/parse_influx_filter.h"
#include "filters/parse_json/parse_json_filter.h"
#include "filters/parse_regex/metrics.h"
#include "filters/parse_regex/parse_regex_filter.h"
#include "filters/parse_timestamp/parse_timestamp_filter.h"
#include "filters/throttle/metric_families.h"
#include "filters/throttle/throttle_stage.h"
#include "inputs/common/net_metrics.h"
#include "inputs/file/file_input.h"
#include "inputs/file/metrics.h"
#include "inputs/http/http_input.h"
#include "inputs/http/metrics.h"
#include "inputs/journald/journald_input.h"
#include "inputs/kafka/kafka_input.h"
#include "inputs/kafka/metrics.h"
#include "inputs/stdin/stdin_input.h"
#include "inputs/syslog/syslog_input.h"
#include "inputs/tcp/tcp_input.h"
#include "outputs/elasticsearch/elasticsearch_output.h"
#include "outputs/file/file_output.h"
#include "outputs/http/http_output.h"
#include "outputs/influxdb/influxdb_output.h"
#include "outputs/kafka/kafka_output.h"
#include "outputs/kafka/metrics.h"
#include "outputs/s3/s3_output.h"
#include "outputs/stdout/stdout_output.h"

namespace bifrost::config {

namespace {
Registry make() {
  Registry r;
  r.add_input({"file", "tail files: globs, rotation, multiline, checkpoints", inputs::file::parse, false,
               inputs::file::metric_families()});
  r.add_input({"kafka", "consume Kafka topics as a consumer group; offsets committed after acknowledgement",
               inputs::kafka::parse, false, inputs::kafka::metric_families()});
  r.add_input({"stdin", "lines from standard input, until end of file", inputs::stdin_::parse});
  r.add_input({"http", "events POSTed as NDJSON, a JSON array or lines; answered once delivered", inputs::http::parse,
               false, inputs::http::metric_families()});
  r.add_input({"journald", "the systemd journal (local, or a directory of journal files); resumed by cursor",
               inputs::journald::parse});
  r.add_input({"syslog", "syslog over UDP, TCP or TLS (RFC 5424, RFC 3164; RFC 6587 framing), as ECS fields",
               inputs::syslog::parse, false, inputs::net_metric_families()});
  r.add_input({"tcp", "newline-delimited text, JSON or InfluxDB line protocol over TCP or TLS", inputs::tcp::parse,
               false, inputs::tcp::metric_families()});

  r.add_filter({"modify", "rename, copy, add (templates) and remove fields", filters::modify::parse});
  r.add_filter({"drop", "drop the events matching `when:`", filters::drop::parse, /*requires_when=*/true});
  r.add_filter({"parse_regex", "named groups of a regular expression (PCRE2, RE2) become fields",
                filters::parse_regex::parse, false, filters::parse_regex::metric_families()});
  r.add_filter({"parse_json", "a JSON document in a field becomes fields", filters::parse_json::parse});
  r.add_filter({"parse_influx", "InfluxDB line protocol (Telegraf's) in a field: one event per point",
                filters::parse_influx::parse, false, filters::parse_influx::metric_families()});
  r.add_filter({"parse_timestamp", "a time in a field becomes the event time", filters::parse_timestamp::parse});
  r.add_filter(
      {"drop_invalid", "drop (or tag) events that fail checks, counted by reason", filters::drop_invalid::parse});
  r.add_filter(
      {"decode_base64", "decode a base64 field, optionally as a JSON document", filters::decode_base64::parse});

  r.add_stage({"aggregate", "tumbling windows by event time: counts, sums, percentiles, distinct counts per group",
               filters::aggregate::parse, false, filters::aggregate::metric_families()});
  r.add_stage({"dedupe", "drop events whose key was seen within a window (exact, or a Bloom filter)",
               filters::dedupe::parse, false, filters::dedupe::metric_families()});
  r.add_stage({"throttle", "at most a rate of events per key; the excess dropped or tagged", filters::throttle::parse,
               false, filters::throttle::metric_families()});

  r.add_output({"stdout", "one event per line on standard output", outputs::stdout_::parse});
  r.add_output({"file", "append one event per line to files (templated path)", outputs::file::parse});
  r.add_output({"influxdb", "write points in line protocol to InfluxDB (v1 or v2 API)", outputs::influxdb::parse});
  r.add_output({"kafka", "produce one Kafka record per event (librdkafka, idempotent; exactly once in transactions)",
                outputs::kafka::parse, false, outputs::kafka::metric_families()});
  r.add_output(
      {"elasticsearch", "index events with the bulk API; an outcome per document", outputs::elasticsearch::parse});
  r.add_output({"http", "send events to an HTTP endpoint (webhook), JSON or NDJSON", outputs::http::parse});
  r.add_output({"s3", "objects of events in an S3-compatible bucket, uploaded exactly once, acknowledged when stored",
                outputs::s3::parse, false, outputs::s3::metric_families()});
  return r;
}
}  // namespace

const Registry& components() {
  static const Registry registry = make();
  return registry;
}

}  // namespace bifrost::config
