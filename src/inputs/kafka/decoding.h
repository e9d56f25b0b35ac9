// How a Kafka record becomes events (`decoding`): text (the record is the
// message), json (bifrost's JSON event: message, @timestamp, fields) or
// influx (line protocol, each line one event as parse_influx makes them).
// Runs on the input's thread, one record at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/influx/metrics.h"
#include "core/batch.h"
#include "core/stats.h"
#include "inputs/kafka/kafka_input.h"

namespace bifrost::inputs::kafka {

class RecordDecoder {
 public:
  RecordDecoder(const Spec& spec, const std::string& id) : spec_(spec), id_(id) {}
  // Once, on the input's thread, before the first record.
  void start(core::ComponentStats* stats);
  // Appends the events of one record (its value in the batch's memory) to
  // `b`, each holding `meta` as its `kafka` field.
  void decode(core::Batch& b, std::uint64_t offset, std::int64_t time_ns, std::string_view value, core::Value meta);
  // As `b` is published: the warning and the counts of its bad lines.
  void published(const core::Batch& b);

 private:
  void decode_json(core::Batch& b, core::Event& e, std::string_view value);
  void decode_influx(core::Batch& b, std::uint64_t offset, std::int64_t time_ns, std::string_view text,
                     core::Value meta);

  const Spec& spec_;
  const std::string& id_;
  std::unique_ptr<common::influx::PointCounters> influx_;  // decoding: influx
  std::uint64_t bad_in_batch_ = 0;                         // lines that were not points, in the batch being filled
  std::string first_bad_;                                  // why the first of them was not
};

}  // namespace bifrost::inputs::kafka
