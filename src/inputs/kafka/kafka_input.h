// Input `kafka`: a consumer group member (librdkafka's high-level consumer)
// reading `topics` (names, or `^regex` patterns).
//
// Each batch holds records of one partition, in offset order. Offsets are
// stored only for acknowledged batches (every output finished with them)
// and committed every second, on rebalance before partitions go, and at
// stop; so after a crash only records of unacknowledged batches come again.
// When the pipeline holds the input back for more than a second, the
// consumer pauses its partitions and keeps polling (it stays in the group).
//
// Where a partition starts: the group's committed offset; without one (or
// always, with `reset: true`), `start_at`: earliest, latest, an RFC 3339
// time or a negative duration such as -2h (resolved per partition with
// offsets-for-times, against the record timestamps).
//
// `decoding`: text (the record is the message), json (bifrost's JSON event)
// or influx (line protocol, as Telegraf's Kafka output writes it: each line
// of a record one event, as parse_influx makes them, all acknowledged with
// the record; a line that is not a point stays as text, tagged
// kafka_influx_invalid and counted by reason).
// Exactly once (an output of the pipeline with `exactly_once: true`): the
// input commits nothing itself; the output's transactions commit its
// acknowledged offsets with the group's metadata (pipeline/exactly_once.h),
// a revocation waits for the open transaction to end, and after an aborted
// one the input seeks back to the committed offsets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/influx/point.h"
#include "common/kafka/client.h"
#include "config/reader.h"
#include "pipeline/component.h"

namespace bifrost::inputs::kafka {

struct Spec final : pipeline::InputSpec {
  common::kafka::ClientSettings client;
  std::vector<std::string> topics;
  std::string group_id = "bifrost";
  std::string start_at = "earliest";  // earliest | latest | time
  std::int64_t start_time_ms = -1;    // an absolute time, in ms since the epoch
  std::int64_t start_ago_ns = 0;      // a negative duration: now minus this, resolved at start
  bool reset = false;
  enum class Decoding : std::uint8_t { kText, kJson, kInflux };
  Decoding decoding = Decoding::kText;
  common::influx::Precision precision = common::influx::Precision::kNs;  // decoding: influx
  std::int64_t batch_events = 2048;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
  bool supports_exactly_once() const override { return true; }
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

}  // namespace bifrost::inputs::kafka
