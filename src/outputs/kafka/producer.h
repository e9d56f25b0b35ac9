// The Kafka output's runtime (kafka_output.h), on the output's thread:
// producer.cc produces batches and collects their delivery reports;
// exactly_once.cc runs the transactions of `exactly_once: true`;
// offsets_topic.cc keeps file inputs' checkpoints in Kafka;
// timestamps.h (TimestampGuard) guards record times and reads the topics'
// retention.
#pragma once

#include <librdkafka/rdkafka.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/kafka/statistics.h"
#include "core/ack.h"
#include "core/clock.h"
#include "core/time.h"
#include "outputs/kafka/kafka_output.h"
#include "outputs/kafka/timestamps.h"
#include "pipeline/exactly_once.h"

namespace bifrost::outputs::kafka {

// The derived transactional.id (when `transactional_id` is not set):
// stable across restarts of one instance (a restart fences the instance it
// replaces and aborts its open transaction at once), distinct between
// instances on the same host (their data_dir differs).
std::string default_transactional_id(const std::string& pipeline, const std::string& output,
                                     const std::vector<std::string>& groups, const std::string& host,
                                     const std::string& data_dir);
// The default offsets topic of a transactional id: a valid topic name.
std::string default_offsets_topic(const std::string& transactional_id);

class KafkaOutput final : public pipeline::Output {
 public:
  KafkaOutput(const Spec& spec, const pipeline::BuildContext& ctx);
  ~KafkaOutput() override;

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override;
  // Up to kInFlight batches produced at once; one more ring slot for a
  // retry's write() while they are on their way.
  std::size_t in_flight() const override { return kInFlight; }
  std::uint64_t begin(const core::Batch& batch, const core::OutputSlot& slot) override;
  void end(std::uint64_t ticket, pipeline::DeliveryReport& report) override;
  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    end(begin(batch, slot), report);
  }
  void flush() override;
  // Exactly once: the transaction interval (at most 100ms), so an idle
  // output still commits, gets ready at start and answers a rebalance
  // within it.
  std::chrono::milliseconds flush_interval() const override;
  void close() override;

 private:
  struct Flight {
    pipeline::DeliveryReport report;
    std::size_t outstanding = 0;
    bool used = false;
    const core::Batch* batch = nullptr;  // valid until end()
    const core::OutputSlot* slot = nullptr;
    std::uint64_t order = 0;  // begin() order
    // exactly once
    bool deferred = false;  // begun while the transaction was sealed: produced once it has ended
    bool discard = false;   // of an old epoch: nothing of it is sent (its events are read again)
    std::uint64_t txn = 0;  // the transaction its records went into
  };
  static constexpr std::size_t kInFlight = 4;
  // Delivery-report tag of the records of no flight (the offsets topic's).
  static constexpr std::uint64_t kOwnRecord = ~0ull;
  // The series group of the transactions' counters (group 0 is the
  // timestamp guard's, kStatisticsGroup librdkafka's).
  static constexpr std::size_t kTransactionsGroup = common::kafka::kStatisticsGroup + 1;

  // producer.cc
  bool create();
  void destroy();
  bool ready();  // a producer (and, exactly once, its transactions and recovery) is there
  void produce(Flight& f, std::uint64_t r);
  void produce_one(Flight& f, std::size_t i, std::uint64_t r, std::int64_t now_ns);
  rd_kafka_topic_t* topic_for(const core::Event& e);
  void check_fatal();
  void discard_producer();
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  static int on_statistics(rd_kafka_t*, char* json, std::size_t len, void* opaque);
  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf);
  void publish_series();

  // exactly_once.cc
  void name_transactions();  // transactional_id_ and offsets_topic_, once the inputs have joined
  bool init_transactions();
  void begin_exactly_once(Flight& f, std::uint64_t r);
  void end_exactly_once(Flight& f, std::uint64_t r);
  bool open_transaction();
  // No flight with records of the open transaction is on its way: every
  // batch in it has been finished by this output.
  bool at_commit_point(std::uint64_t except = kInFlight + 1) const;
  bool due() const;
  bool any_deferred(std::uint64_t except) const;
  // Commits the open transaction (or aborts it: doomed, epoch moved, a
  // settle asking so); then serves a waiting settle().
  void end_transaction(bool closing = false);
  enum class TxnResult : std::uint8_t { kCommitted, kAborted, kFenced };
  TxnResult commit(const std::vector<pipeline::InputPositions>& positions, std::string& why);
  void abort(const std::string& why);
  void fenced(const std::string& why);
  bool wait_for_others(bool closing);
  void produce_deferred(std::uint64_t first);
  void mark(const core::Batch& batch);
  void read_again(Flight& f, const std::string& why);
  void discard(Flight& f);
  bool poisoned(const core::Batch& batch, const core::Event& e) const;

  // offsets_topic.cc
  bool recover_states();
  bool produce_state(const pipeline::InputPositions& p);

  Spec spec_;
  std::string id_;
  std::string pipeline_;
  std::string data_dir_;
  core::ComponentStats* stats_;
  core::Clock& clock_;
  TimestampGuard times_;       // timestamp: event
  pipeline::ExactlyOnce* eo_;  // null: not exactly once (or bifrost replay)
  rd_kafka_t* rk_ = nullptr;
  std::string create_error_;
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
  std::array<Flight, kInFlight + 1> flights_;
  std::uint64_t next_order_ = 0;
  std::string topic_name_, key_, header_;  // scratch, reused

  // exactly once (the output's thread)
  std::string transactional_id_;
  std::string offsets_topic_;
  bool ready_ = false;      // transactions initialised and the states recovered
  bool recovered_ = false;  // the offsets topic was read back (or there is none)
  bool txn_open_ = false;
  std::uint64_t txn_ = 0;  // the open (or last) transaction's number
  std::uint64_t txn_epoch_ = 0;
  core::Clock::time_point txn_started_{};
  bool sealed_ = false;  // due to end: later batches are deferred until it has
  bool doomed_ = false;  // a record failed: the transaction can only be aborted
  std::string doom_reason_;
  int aborts_in_a_row_ = 0;
  // Per source: the last batch of it in the open transaction.
  std::vector<std::pair<std::shared_ptr<core::AckTracker>, std::uint64_t>> marks_;
  std::vector<pipeline::InputPositions> positions_;  // scratch
  std::map<std::string, std::string> states_;        // per kState input: the last state committed
  // Events whose records failed for good in an aborted transaction (by
  // source and offset): when read again they go to the failed queue.
  std::set<std::pair<std::string, std::uint64_t>> poison_;
  std::string poison_reason_;
  // Poisoned events whose rejection reached the pipeline (it parks them in
  // the failed queue, which is not transactional): read again after a later
  // abort, they are passed over instead of parked twice.
  std::set<std::pair<std::string, std::uint64_t>> parked_;

  // counters, published as series
  std::atomic<std::uint64_t> committed_{0}, aborted_{0}, fenced_{0}, discarded_{0};
  core::Clock::time_point next_series_{};
};

}  // namespace bifrost::outputs::kafka
