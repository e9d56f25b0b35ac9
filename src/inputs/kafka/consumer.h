// The Kafka input's runtime (see kafka_input.h): one consumer group member
// on the input's thread. consumer.cc reads records into batches;
// group.cc follows the group (assignments, revocations, where partitions
// start), stores and commits acknowledged offsets, and in a pipeline with
// an exactly-once output hands them to its transactions instead.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/ack.h"
#include "core/clock.h"
#include "inputs/kafka/decoding.h"
#include "inputs/kafka/kafka_input.h"
#include "pipeline/exactly_once.h"

namespace bifrost::inputs::kafka {

struct PartitionKey {
  std::string topic;
  std::int32_t partition;
  auto operator<=>(const PartitionKey&) const = default;
};

// What the input keeps per assigned partition.
struct PartitionState {
  std::shared_ptr<core::AckTracker> tracker;  // made at the first record read (of the epoch)
  std::int64_t stored = -1;                   // last offset handed to offsets_store
  std::string source;                         // "topic/partition"
  std::uint64_t epoch = 0;                    // exactly once: the epoch its tracker belongs to
  std::int64_t start = -1;                    // the first offset read since it was assigned
};

class KafkaInput final : public pipeline::Input, public pipeline::PositionSource {
 public:
  KafkaInput(const Spec& spec, const pipeline::BuildContext& ctx);
  ~KafkaInput() override;

  void run(pipeline::InputContext& ctx) override;
  // Every batch is finished or given up: store and commit what was
  // acknowledged (unless a transaction commits it), then leave the group.
  void drained() override;
  void decorate(core::Batch& batch) const override;
  // Exactly once, on the committer's thread: the acknowledged offsets of the
  // partitions read in `epoch`, with the group's metadata now.
  bool positions(std::uint64_t epoch, pipeline::InputPositions& out) override;

 private:
  // consumer.cc
  bool create();
  void close_consumer();
  rd_kafka_message_t* peek(int timeout_ms);
  void serve();
  void drop_read();
  void append(const rd_kafka_message_t* m);
  void publish(pipeline::InputContext& ctx);
  void set_paused(bool pause);
  void publish_lag();

  // group.cc
  PartitionState& partition(const std::string& topic, std::int32_t p);
  bool store_acknowledged();
  void commit_sync(const char* why);
  void assign(rd_kafka_topic_partition_list_t* parts);
  void revoke(rd_kafka_topic_partition_list_t* parts);
  // Exactly once: the committer started a new epoch (an aborted
  // transaction, a revocation): what was read is dropped and every assigned
  // partition goes back to its group's committed offset.
  void rewind();
  // Offsets are committed by this input (not by a transaction).
  bool commits() const { return eo_ == nullptr; }
  static void on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque);
  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void* opaque);
  static int on_statistics(rd_kafka_t*, char* json, std::size_t len, void* opaque);
  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  Spec spec_;
  std::string id_;
  core::Clock& clock_;  // the pipeline's
  pipeline::ExactlyOnce* eo_;
  std::uint64_t epoch_ = 0;  // exactly once: what this thread's batches are stamped with
  core::ComponentStats* stats_ = nullptr;
  pipeline::InputContext* ctx_ = nullptr;  // while run() runs
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer's queue
  static constexpr std::size_t kReadAtOnce = 1024;
  std::vector<rd_kafka_message_t*> read_;   // read from it; [next_, end) not yet in a batch
  std::vector<rd_kafka_message_t*> fetch_;  // where consume_batch_queue writes
  std::size_t next_ = 0;
  core::Batch* batch_ = nullptr;  // being filled: records of one partition
  rd_kafka_topic_t* batch_rkt_ = nullptr;
  std::int32_t batch_partition_ = -1;
  bool paused_ = false;
  int held_waits_ = 0;                          // waits of 100 ms for a batch in a row, not yet paused
  static constexpr int kWaitsBeforePause = 10;  // 1 s
  std::int64_t start_ms_ = 0;
  // Changed on the input's thread; under mu_ where the committer reads it
  // (positions()).
  std::mutex mu_;
  std::map<PartitionKey, PartitionState> partitions_;
  std::set<PartitionKey> reset_done_;
  RecordDecoder decoder_;
};

}  // namespace bifrost::inputs::kafka
