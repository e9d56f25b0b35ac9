#include "inputs/kafka/kafka_input.h"

#include <absl/time/time.h>

#include "core/strings.h"
#include "core/time.h"
#include "inputs/kafka/consumer.h"

namespace bifrost::inputs::kafka {

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<KafkaInput>(*this, ctx);
}

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->client = common::kafka::read_client_settings(r);
  s->topics = r.string_list("topics", "topic names, or ^regex patterns", /*required=*/true);
  s->group_id =
      r.string("group_id", s->group_id, "consumer group: members share the partitions, offsets are the group's");
  auto start = r.get("start_at", "string", "earliest",
                     "where a partition without a committed offset starts: earliest, latest, an RFC 3339 time, "
                     "or a negative duration such as -2h");
  s->reset =
      r.boolean("reset", s->reset, "start every partition at start_at even when the group has a committed offset");
  const std::string decoding =
      r.choice("decoding", "text", {"text", "json", "influx"},
               "text: the record value is the message; json: it is a JSON event (message, @timestamp, fields); "
               "influx: InfluxDB line protocol (Telegraf's), each line one event, as parse_influx makes them");
  s->decoding = decoding == "json"     ? Spec::Decoding::kJson
                : decoding == "influx" ? Spec::Decoding::kInflux
                                       : Spec::Decoding::kText;
  s->precision = *common::influx::parse_precision(
      r.choice("precision", "ns", {"ns", "us", "ms", "s"},
               "decoding: influx: the unit of the points' times (Telegraf writes ns)"));
  s->batch_events = r.integer("batch_events", s->batch_events, 1, 1 << 20, "records per batch at most");
  if (r.describing()) return s;
  if (start) {
    if (auto text = start->scalar("earliest, latest, a time or a negative duration")) {
      std::int64_t ns = 0;
      absl::Time t;
      if (*text == "earliest" || *text == "latest") {
        s->start_at = *text;
      } else if (text->size() > 1 && (*text)[0] == '-' && core::parse_duration_ns(text->substr(1), ns)) {
        s->start_at = "time";
        s->start_ago_ns = ns;
      } else if (absl::ParseTime(absl::RFC3339_full, *text, &t, nullptr)) {
        s->start_at = "time";
        s->start_time_ms = absl::ToUnixMillis(t);
      } else {
        start->error(
            "expected earliest, latest, an RFC 3339 time (2026-11-21T06:00:00Z) or a negative duration "
            "(-2h), got \"" +
            *text + "\"");
      }
    }
  }
  return s;
}

}  // namespace bifrost::inputs::kafka
