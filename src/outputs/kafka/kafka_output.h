// Output `kafka`: produces each event as one record with librdkafka. Topic,
// key and headers are templates; the record timestamp is the event time
// (`timestamp: event`) or the produce time (`now`); the idempotent producer
// (default) keeps order and avoids duplicates across librdkafka's own
// retries.
//
// Pipelined: up to 4 batches are produced before the oldest one's delivery
// reports are awaited, and a batch is finished only when librdkafka has
// reported on every one of its records: delivered; retriable errors
// (brokers down, a record that timed out in librdkafka's queue after
// message_timeout) are retried by the pipeline with backoff, never counted
// as delivered; permanent errors (record too large, not authorised, invalid
// topic) are rejected to the failed queue with librdkafka's reason.
//
// `timestamp: event` guards the broker against event times it would
// misfile: older than `max_past` or further ahead than `max_future`, the
// record gets the produce time (the event time kept in a header) or is
// rejected (`on_bad_timestamp`); timestamps.h.
//
// `exactly_once: true` (exactly_once.cc): a transactional producer commits
// the inputs' positions with the records (pipeline/exactly_once.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/client.h"
#include "config/reader.h"
#include "expr/template.h"
#include "outputs/common/codec.h"
#include "outputs/kafka/timestamps.h"
#include "pipeline/component.h"

namespace bifrost::outputs::kafka {

struct Spec final : pipeline::OutputSpec {
  common::kafka::ClientSettings client;
  std::optional<expr::Template> topic;
  std::optional<expr::Template> key;
  std::vector<std::pair<std::string, expr::Template>> headers;
  std::string compression = "none";
  std::string acks = "all";
  bool idempotent = true;
  bool event_time = true;  // timestamp: event
  TimestampBounds bounds;  // timestamp: event
  outputs::Codec codec = outputs::Codec::kJson;
  std::int64_t message_timeout_ns = 30'000'000'000;
  // exactly_once
  bool transactional = false;
  std::string transactional_id;  // empty: derived (default_transactional_id)
  std::int64_t transaction_interval_ns = 100'000'000;
  std::string offsets_topic;  // empty: derived from the transactional id
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
  bool exactly_once() const override { return transactional; }
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

}  // namespace bifrost::outputs::kafka
