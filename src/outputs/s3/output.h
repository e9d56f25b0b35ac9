// The s3 output's runtime object (see s3_output.h for what it promises).
//   output.cc: events into objects filling on disk (write, flush, close)
//   settle.cc: closed objects to the bucket, the journal, the failed queue
//
// Threads: encode() on the pipeline's workers (stateless); everything else
// on the output's own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/ack.h"
#include "core/clock.h"
#include "outputs/s3/journal.h"
#include "outputs/s3/object_file.h"
#include "outputs/s3/s3_output.h"
#include "outputs/s3/uploader.h"

namespace bifrost::outputs::s3 {

// One object filling on disk: the events of one source under one prefix.
struct Object {
  std::string source, prefix;
  bool identity = false;  // the source can be read again: named by its offsets, journaled
  std::unique_ptr<ObjectFile> file;
  std::uint64_t seq = 0;  // of the staging file, and the name of an object without identity
  std::uint64_t first = 0, last = 0;
  std::size_t events = 0;
  std::uint64_t raw_bytes = 0;
  std::optional<Cut> recorded;  // journaled before a restart: rebuilt to end exactly there
  std::int64_t first_event_ns = 0;
  core::Clock::time_point opened;
  // Per ack tracker, a hold on the first batch of it that went in: enough
  // to keep the input's checkpoint before every event of the object.
  std::vector<core::AckHold> holds;
  std::uint64_t held_in_write = 0;       // the write() that last took or found its hold
  std::vector<std::uint32_t> report_at;  // without a settlement: the report indexes of its events
};

class S3Output final : public pipeline::Output, private UploadLog {
 public:
  S3Output(const Spec& spec, const pipeline::BuildContext& ctx, const HttpSettings& http, const std::string& region,
           const std::string& session_token);
  ~S3Output() override;

  void settle_with(pipeline::Settlement* s) override { settlement_ = s; }
  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    encode_slot(batch, slot, spec_.codec);
  }
  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override;
  void flush() override;
  void close() override;

 private:
  // output.cc
  void source_of(const core::Batch& batch);
  Object* find(const std::string& prefix);
  Object& open(const std::string& prefix, const std::optional<Cut>& recorded, core::Clock::time_point now);
  void hold(Object& o, const core::Batch& batch);
  // Writes the events [from, to) of the slot into `o`. False when the disk
  // refused and delivery was given up (or there is no settlement to wait
  // with): the object is discarded, these events reported kRetry.
  bool append_run(Object* o, const core::OutputSlot& slot, std::size_t from, std::size_t to,
                  pipeline::DeliveryReport& report);
  void recover_uploads(core::Clock::time_point now);
  void maybe_compact(core::Clock::time_point now);
  void publish();

  // settle.cc
  void close_object(const std::string& key, pipeline::DeliveryReport* report);
  void close_all(pipeline::DeliveryReport* report = nullptr) {
    while (!open_.empty()) close_object(open_.begin()->first, report);
  }
  // Uploads a closed object and settles its events.
  void settle(Object& o, pipeline::DeliveryReport* report);
  bool park(Object& o, std::string_view reason, int attempts);
  // Gives the object up: its events stay unacknowledged (read again at the
  // next start) and its partition is broken (see broken_).
  void discard(Object& o, pipeline::DeliveryReport* report, std::string_view reason,
               pipeline::Outcome out = pipeline::Outcome::kRetry);
  // Runs `write` (a write to disk) until it succeeds; each failure counted
  // in bifrost_disk_write_errors_total. With a settlement it is retried
  // with the disk backoff until delivery is given up; without one, tried
  // once. Whether it went through. (No allocation unless it fails.)
  template <class F>
  bool durable(const char* what, F&& write) {
    auto r = write();
    return r || durable_again(what, r.error(), write);
  }
  bool durable_again(const char* what, const Error& first, const std::function<core::Result<void, Error>()>& write);
  std::string object_key(const Object& o) const;
  // UploadLog: multipart uploads in the journal.
  bool begun(const std::string& upload_id, const std::string& key) override;
  void ended(const std::string& upload_id) override;

  const Spec& spec_;
  std::string id_;
  core::ComponentStats* stats_;
  core::Clock& clock_;
  std::string dir_, host_, ext_, content_type_;
  std::uint64_t run_id_ = 0;
  Uploader uploader_;
  std::unique_ptr<Journal> journal_;
  pipeline::Settlement* settlement_ = nullptr;
  std::unordered_map<std::string, Object> open_;  // journal_key(source, prefix)
  std::uint64_t next_seq_ = 0;
  std::uint64_t writes_ = 0;
  // Per write: the batch's source; per run of events: their prefix.
  std::string source_;
  bool identity_ = false;
  std::string prefix_, run_prefix_, key_;
  // Partitions (journal keys) one of whose objects was given up: their
  // events from there on are read again at the next start, so no later
  // object of theirs may record `done` past them in the journal.
  std::unordered_set<std::string> broken_;
  // Per source with acknowledgements: its tracker, and where it stood at the
  // last compaction (what is below it is checkpointed by now).
  std::unordered_map<std::string, std::shared_ptr<core::AckTracker>> trackers_;
  std::unordered_map<std::string, std::uint64_t> acked_before_;
  core::Clock::time_point last_compaction_, next_recovery_;
  core::Batch park_batch_;
  std::vector<std::uint32_t> park_selected_;
  // Metrics.
  std::uint64_t objects_uploaded_ = 0, bytes_uploaded_ = 0;
  core::Histogram upload_duration_;
};

}  // namespace bifrost::outputs::s3
