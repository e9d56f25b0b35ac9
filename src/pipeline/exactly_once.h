// Exactly-once delivery: one output of a pipeline (a `kafka` output with
// `exactly_once: true`) commits the positions of every input of the pipeline
// in the same transaction as the events read before them. The inputs then
// never commit on their own: what is committed is exactly what the sink
// holds, so after a crash they start where the last transaction ended.
//
// This object is the only thing the two sides share (no component reaches
// into another): the pipeline makes one when an output asks for it and
// hands it to every input and output through BuildContext::exactly_once.
//
//   - Each input joins at build (its kind, for the committer's identity) and
//     attaches a PositionSource while it runs: the committer asks it, at
//     each commit, for its acknowledged positions (a consumer's offsets and
//     group metadata, or a checkpoint body).
//   - Every batch an input publishes carries the input's epoch
//     (core::Batch::epoch). When a transaction is aborted, or ended for a
//     consumer losing partitions, the committer calls rewind(): a new epoch
//     starts, the batches of older ones are left unsent, and each input,
//     seeing the epoch move, goes back to its committed positions (a
//     consumer seeks to its group's offsets, a file input reloads the last
//     committed checkpoint) and reads again from there.
//   - A consumer about to lose partitions calls settle(): the committer ends
//     its open transaction (commit, or abort when the partitions are already
//     lost) before they go to another member.
//   - A file input's checkpoint lives in Kafka too; the committer reads it
//     back at its start (recovered()) before the input reads anything.
//
// Threads: inputs call from their own threads, the committer from its
// output's thread; every call is safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"

namespace bifrost::pipeline {

// A consumer's position in one partition: the next offset to read.
struct PartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// What one input hands to a commit.
struct InputPositions {
  std::string input;  // its id
  // A consumer group member: the offsets to commit to the group, and the
  // group's metadata now (librdkafka's serialized consumer group metadata,
  // read back in this process only), so that a member fenced by a
  // rebalance cannot commit.
  std::string group_metadata;
  std::vector<PartitionOffset> offsets;
  // Any other input: its checkpoint body, which the committer stores in
  // the transaction (a record of the Kafka output's offsets topic).
  std::string state;
};

// An input's side of a commit (implemented by the input).
class PositionSource {
 public:
  virtual ~PositionSource() = default;
  // The committer's thread, at a commit, once every batch whose events are
  // in the transaction is acknowledged: the input's acknowledged positions
  // of epoch `epoch` into `out` (its id already set). False when it has
  // none of that epoch (nothing read since its last rewind).
  virtual bool positions(std::uint64_t epoch, InputPositions& out) = 0;
};

class ExactlyOnce {
 public:
  enum class Kind : std::uint8_t {
    kConsumerGroup,  // commits offsets to its Kafka consumer group (`group` names it)
    kState,          // its checkpoint body is stored by the committer
  };
  struct Member {
    std::string input;
    Kind kind;
    std::string group;
  };

  // ---- inputs ----
  // At build, before the pipeline starts.
  void join(std::string input, Kind kind, std::string group = {});
  // While it runs: `source` answers the committer until detach().
  void attach(const std::string& input, PositionSource* source);
  void detach(const std::string& input);
  // The current epoch: what an input stamps its batches with once it has
  // gone back to the committed positions of it.
  std::uint64_t epoch() const;
  // kState inputs, at start: what the committer found committed for
  // `input` in the sink (nullopt: nothing). Waits until it has looked, or
  // until `stopping` says so (then nullopt).
  std::optional<std::string> recovered(const std::string& input, const std::function<bool()>& stopping);
  // kState inputs: the state of the input at its start, where a rewind goes
  // back to until a transaction commits one.
  void set_baseline(const std::string& input, std::string state);
  // kState inputs: where a rewind goes back to: the state of the last
  // committed transaction, else the baseline.
  std::optional<std::string> rewind_state(const std::string& input) const;
  // A consumer about to lose partitions (`lost`: already lost, the group
  // moved on): returns once the committer has ended its open transaction
  // (committed it; aborted when lost) and started a new epoch, or after
  // `wait` (the committer then aborts it when it gets to it).
  void settle(bool lost, std::chrono::milliseconds wait);

  // ---- the committer ----
  const std::vector<Member>& members() const { return members_; }
  bool has(Kind kind) const;
  // What the sink holds for the kState inputs (by input id); unblocks recovered().
  void set_recovered(std::map<std::string, std::string> states);
  // Every attached input's positions of the current epoch.
  void collect(std::vector<InputPositions>& out);
  // The transaction with `positions` committed: the states rewinds go back to.
  void committed(const std::vector<InputPositions>& positions);
  // Every batch published so far is stale; inputs go back to what was committed.
  void rewind();
  bool current(const core::Batch& batch) const;
  // Whether a transaction is open (settle() waits for the committer only then).
  void set_open(bool open);
  // A settle() waits: 0 none, 1 commit, 2 abort.
  int settle_requested() const;
  // The committer ended the transaction a settle() asked for (and rewound).
  void settled();
  // The committer is gone (its output closed): settle() returns at once.
  void close();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Member> members_;  // set before start, read-only after
  std::map<std::string, PositionSource*> sources_;
  std::uint64_t epoch_ = 1;
  bool recovered_ = false;
  std::map<std::string, std::string> recovered_states_;
  std::map<std::string, std::string> rewind_states_;
  bool open_ = false;
  bool closed_ = false;
  int settle_ = 0;
  std::uint64_t settle_round_ = 0;  // settled() calls so far
};

}  // namespace bifrost::pipeline
