// The Kafka output's options (kafka_output.h), read by a pure function.
#include <algorithm>
#include <cctype>

#include "config/expr_reader.h"
#include "outputs/kafka/kafka_output.h"

namespace bifrost::outputs::kafka {

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->client = common::kafka::read_client_settings(r);
  s->topic = config::read_template(r, "topic", "", "topic of each record (a template: {{field}}, %Y.%m.%d)", true);
  s->key = config::read_template(r, "key", "", "record key (a template); none when absent or rendered empty");
  auto headers = r.get("headers", "map", "{}", "record headers, name: template");
  s->compression = r.choice("compression", s->compression, {"none", "gzip", "snappy", "lz4", "zstd"},
                            "compression codec of record batches");
  s->acks = r.choice("acks", s->acks, {"all", "1", "0"}, "acknowledgements the leader waits for");
  s->idempotent = r.boolean("idempotent", s->idempotent,
                            "idempotent producer: order kept and no duplicates across librdkafka's retries");
  s->event_time = r.choice("timestamp", "event", {"event", "now"},
                           "record timestamp: the event time, or the time it is produced") == "event";
  s->bounds.max_past_ns = r.duration_ns(
      "max_past", s->bounds.max_past_ns,
      "timestamp: event — an event time older than this is a bad timestamp (past the topic's retention.ms the "
      "broker may delete the record at once; the default is the broker's default retention)");
  s->bounds.max_future_ns = r.duration_ns("max_future", s->bounds.max_future_ns,
                                          "timestamp: event — an event time further ahead than this is a bad "
                                          "timestamp (its segment would not expire until then)");
  s->bounds.reject =
      r.choice("on_bad_timestamp", "now", {"now", "reject"},
               "timestamp: event — a bad timestamp: now (the record gets the produce time, the event "
               "time goes in the header bifrost_event_time) or reject (to the failed queue)") == "reject";
  s->codec = *outputs::codec_from_name(
      r.choice("encoding", "json", {"json", "text"}, "json: the whole event; text: the message only"));
  s->message_timeout_ns = r.duration_ns(
      "message_timeout", s->message_timeout_ns,
      "a record not delivered within this time is reported failed and retried by bifrost (message.timeout.ms)");
  s->transactional = r.boolean("exactly_once", s->transactional,
                               "commit the inputs' positions (kafka offsets, file checkpoints) in Kafka transactions "
                               "with the records: a read_committed consumer sees each event once, after any crash");
  s->transactional_id = r.string("transactional_id", "",
                                 "exactly_once: the producer's transactional.id, stable per instance (default: "
                                 "bifrost.<pipeline>.<output>[.<group_id>].<host>.<hash of data_dir>)");
  s->transaction_interval_ns =
      r.duration_ns("transaction_interval", s->transaction_interval_ns,
                    "exactly_once: how long a transaction gathers records before it commits (the latency a "
                    "read_committed consumer sees, against the cost of a commit)");
  s->offsets_topic = r.string("offsets_topic", "",
                              "exactly_once with file inputs: the compacted topic their checkpoints are committed to "
                              "(default: bifrost-offsets.<transactional_id>)");
  if (r.describing()) return s;
  if (headers) {
    config::each_entry(*headers, "header: template", [&](const config::Node& k, const config::Node& v) {
      if (auto t = config::parse_template(v)) s->headers.emplace_back(k.yaml().Scalar(), std::move(*t));
    });
  }
  for (const char* key : {"max_past", "max_future"}) {
    const std::int64_t v = std::string_view(key) == "max_past" ? s->bounds.max_past_ns : s->bounds.max_future_ns;
    if (auto n = r.node().yaml()[key]; v <= 0 && n.IsDefined()) r.node().child(key, n).error("must be more than 0");
  }
  if (s->acks != "all" && s->idempotent) {
    r.node().error("idempotent: true needs acks: all (set idempotent: false to use acks: " + s->acks + ")");
  }
  if (s->transactional && !s->idempotent) {
    r.node().error("exactly_once: true needs the idempotent producer (idempotent: true, acks: all)");
  }
  if (s->transaction_interval_ns < 1'000'000 || s->transaction_interval_ns > 60'000'000'000) {
    r.node().error(
        "transaction_interval: between 1ms and 1m (a transaction must commit well within the broker's "
        "transaction.timeout.ms)");
  }
  const bool topic_chars = std::all_of(s->offsets_topic.begin(), s->offsets_topic.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (!topic_chars || s->offsets_topic.size() > 249) {
    r.node().error("offsets_topic: a topic name holds at most 249 letters, digits, '.', '_' and '-'");
  }
  if (!s->topic) s->topic = std::get<expr::Template>(expr::Template::parse("-"));
  return s;
}

}  // namespace bifrost::outputs::kafka
