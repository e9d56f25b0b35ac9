// Closed objects to the bucket: the cut journaled, the upload with the
// runner's retries, the `done` journaled, and only then the events
// acknowledged; or parked in the failed queue; or given up.
#include <filesystem>
#include <utility>

#include "core/log.h"
#include "outputs/s3/output.h"
#include "outputs/s3/readback.h"

namespace bifrost::outputs::s3 {

namespace {
constexpr std::size_t kParkChunk = 1000;
}  // namespace

std::string S3Output::object_key(const Object& o) const {
  std::string name = o.prefix + host_ + "-";
  if (o.identity) {
    name += o.source + "-" + std::to_string(o.first) + "-" + std::to_string(o.last);
  } else {
    char run[17];
    std::snprintf(run, sizeof run, "%016llx", static_cast<unsigned long long>(run_id_));
    name += std::string(run, 16) + "-" + std::to_string(o.seq);
  }
  return name + ext_;
}

bool S3Output::durable_again(const char* what, const Error& first,
                             const std::function<core::Result<void, Error>()>& write) {
  if (stats_) stats_->disk_write_errors.add(1);
  core::log::error(id_, "cannot ", what, " (", first.message, ")",
                   settlement_ ? "; trying again, the events stay unacknowledged meanwhile" : "");
  if (!settlement_) return false;
  int failures = 1;
  bool tried = true;  // the first call comes at once: the try that just failed is it
  return settlement_->retry_disk_write([&] {
    if (std::exchange(tried, false)) return false;
    if (write()) {
      core::log::info(id_, what, ": went through after ", failures, " failed tries");
      return true;
    }
    if (stats_) stats_->disk_write_errors.add(1);
    ++failures;
    return false;
  });
}

void S3Output::close_object(const std::string& key, pipeline::DeliveryReport* report) {
  auto it = open_.find(key);
  if (it == open_.end()) return;
  Object o = std::move(it->second);
  open_.erase(it);
  settle(o, report);
}

void S3Output::discard(Object& o, pipeline::DeliveryReport* report, std::string_view reason, pipeline::Outcome out) {
  if (report) {
    for (std::uint32_t i : o.report_at) report->set(i, out, reason);
  }
  if (o.file) {
    std::error_code ec;
    std::filesystem::remove(o.file->path(), ec);
    o.file.reset();
  }
  if (o.identity && o.events > 0) broken_.insert(journal_key(o.source, o.prefix));
  o.holds.clear();  // given up: not acknowledged, read again at the next start
}

void S3Output::settle(Object& o, pipeline::DeliveryReport* report) {
  if (!o.file || o.events == 0) return;
  if (!durable("finish an object on disk", [&] { return o.file->finish(); })) {
    discard(o, report, "cannot write to disk");
    return;
  }
  const std::string key = object_key(o);
  const std::string path = o.file->path();
  o.file.reset();
  struct Remove {  // the staging file goes however the object is settled
    const std::string& path;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } remove{path};
  // Where it was cut, durably before the upload: a crash during it
  // rebuilds the very same object.
  if (o.identity && !o.recorded && !durable("journal an object's cut", [&] {
        return journal_->cut(o.source, o.prefix, {o.first, o.last});
      })) {
    discard(o, report, "cannot write the journal");
    return;
  }
  pipeline::Settlement::Tries tries;
  bool stored = false, settled = false;  // settled: stored, or parked
  std::string reason;
  for (;;) {
    const auto started = clock_.now();
    UploadResult r = uploader_.upload(path, key, content_type_, *this);
    upload_duration_.observe(std::chrono::duration<double>(clock_.now() - started).count());
    if (r.kind == UploadResult::Kind::kStored) {
      ++objects_uploaded_;
      bytes_uploaded_ += r.bytes;
      core::log::debug(id_, "stored ", key, " (", o.events, " events, ", r.bytes, " bytes)");
      stored = settled = true;
      break;
    }
    reason = r.reason + " (" + key + ")";
    if (!settlement_) {
      discard(o, report, reason,
              r.kind == UploadResult::Kind::kTransient ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected);
      return;
    }
    if (r.kind == UploadResult::Kind::kPermanent) {
      settlement_->rejected(tries, o.events, reason);
      settled = park(o, r.reason, tries.attempt);
      break;
    }
    const auto next = settlement_->failed(tries, o.events, reason);
    if (next == pipeline::Settlement::Next::kAgain) continue;
    if (next == pipeline::Settlement::Next::kExhausted)
      settled = park(o, "retries exhausted: " + r.reason, tries.attempt);
    break;  // kGiveUp: not settled
  }
  // Settled, durably in the journal before the events are acknowledged:
  // a re-read after a crash skips them. Not past an object of the same
  // partition that was given up (its events must be read again).
  const bool recorded =
      settled && (!o.identity || broken_.contains(journal_key(o.source, o.prefix)) ||
                  durable("journal an object as stored", [&] { return journal_->done(o.source, o.prefix, o.last); }));
  if (!recorded) {
    discard(o, report, settled ? "cannot write the journal" : reason);
    publish();
    return;
  }
  if (stored && settlement_) settlement_->delivered(tries, o.events, o.raw_bytes);
  for (core::AckHold& h : o.holds) h.done();
  o.holds.clear();
  if (report) {
    for (std::uint32_t i : o.report_at) report->set(i, pipeline::Outcome::kDelivered);
  }
  publish();
}

// The object's events, read back from its staging file, to the failed queue.
bool S3Output::park(Object& o, std::string_view reason, int attempts) {
  const std::string path = dir_ + "/" + std::to_string(o.seq) + ".obj";
  std::string pending;
  bool ok = true;
  auto flush_chunk = [&] {
    if (park_batch_.events.empty()) return;
    park_selected_.resize(park_batch_.events.size());
    for (std::size_t i = 0; i < park_selected_.size(); ++i) park_selected_[i] = static_cast<std::uint32_t>(i);
    ok = ok && settlement_->park(park_batch_, park_selected_, reason, attempts);
    park_batch_.events.clear();
    park_batch_.arena.reset();
  };
  auto r = read_object(path, spec_.compression, [&](std::string_view chunk) {
    pending.append(chunk);
    std::size_t pos = 0;
    for (std::size_t nl; (nl = pending.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      append_line_event(park_batch_, std::string_view(pending).substr(pos, nl - pos), spec_.codec);
      if (park_batch_.events.size() >= kParkChunk) flush_chunk();
    }
    pending.erase(0, pos);
  });
  if (!pending.empty()) append_line_event(park_batch_, pending, spec_.codec);
  flush_chunk();
  if (!r) {
    core::log::error(id_, "cannot read back an object to park its events (", r.error().message,
                     "): they are read again at the next start");
    return false;
  }
  return ok;
}

bool S3Output::begun(const std::string& upload_id, const std::string& key) {
  return durable("journal a multipart upload", [&] { return journal_->upload_begun(upload_id, key); });
}

void S3Output::ended(const std::string& upload_id) {
  // Not retried: an upload left in the journal is aborted at the next
  // start, which the server answers NoSuchUpload (done) for one completed.
  if (auto r = journal_->upload_ended(upload_id); !r) {
    if (stats_) stats_->disk_write_errors.add(1);
    core::log::warn(id_, r.error().message, " (the upload is aborted again later, which is harmless)");
  }
}

}  // namespace bifrost::outputs::s3
