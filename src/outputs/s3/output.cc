#include "outputs/s3/output.h"

#include <unistd.h>

#include <filesystem>
#include <random>
#include <stdexcept>

#include "core/log.h"
#include "core/time.h"
#include "delivery/private_dir.h"
#include "outputs/s3/metrics.h"

namespace bifrost::outputs::s3 {

namespace {

// Keeps what an object name may hold: A-Z a-z 0-9 . _ - ('/' becomes '-').
void name_part(std::string_view s, std::string& out) {
  for (char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : (c == '/' ? '-' : '_'));
  }
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "host";
  std::string out;
  name_part(buf, out);
  return out;
}

}  // namespace

S3Output::S3Output(const Spec& spec, const pipeline::BuildContext& ctx, const HttpSettings& http,
                   const std::string& region, const std::string& session_token)
    : spec_(spec),
      id_(ctx.component),
      stats_(ctx.stats),
      clock_(*ctx.clock),
      dir_(ctx.data_dir + "/s3/" + ctx.pipeline + "/" + ctx.component),
      host_(host_name()),
      uploader_(spec, http, region, session_token, ctx.component) {
  // data_dir/s3/<pipeline>/<id>, 0700, no symlink below data_dir followed
  // (delivery/private_dir.h); the files in it are opened O_NOFOLLOW, 0600.
  std::string dir_error;
  const int dfd =
      delivery::open_private_dir(ctx.data_dir, "s3/" + ctx.pipeline + "/" + ctx.component, /*create=*/true, dir_error);
  if (dfd < 0) throw std::runtime_error("s3 output " + id_ + ": " + dir_error);
  ::close(dfd);
  std::error_code ec;
  // Staging files of a process that stopped: their events were never
  // acknowledged and are read again, so the objects are rebuilt.
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().extension() == ".obj") std::filesystem::remove(entry.path(), ec);
  }
  auto j = Journal::open(dir_ + "/journal");
  if (!j) throw std::runtime_error("s3 output " + id_ + ": " + j.error().message);
  journal_ = std::move(*j);
  if (!journal_->uploads().empty()) {
    core::log::info(id_, journal_->uploads().size(),
                    " multipart upload(s) cut short by a stop or a crash: aborting them");
  }
  std::random_device rd;
  run_id_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(core::now_ns());
  switch (spec.compression) {
    case Compression::kGzip: ext_ = ".gz", content_type_ = "application/gzip"; break;
    case Compression::kZstd: ext_ = ".zst", content_type_ = "application/zstd"; break;
    case Compression::kNone:
      content_type_ = spec.codec == Codec::kJson ? "application/x-ndjson" : "text/plain; charset=utf-8";
      break;
  }
  ext_ = (spec.codec == Codec::kJson ? ".ndjson" : ".log") + ext_;
  last_compaction_ = next_recovery_ = clock_.now();
}

S3Output::~S3Output() {
  // Objects still open (close() not reached): abandoned, read again next time.
  for (auto& [key, o] : open_) discard(o, nullptr, "stopped");
}

void S3Output::close() {
  close_all();
  publish();
}

void S3Output::source_of(const core::Batch& batch) {
  identity_ = batch.source_id != 0 || !batch.source.empty();
  source_.clear();
  if (batch.source_id != 0) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(batch.source_id));
    source_.assign(hex, 16);
  } else if (identity_) {
    name_part(batch.source, source_);  // a Kafka partition: "topic-partition"
  }
  if (identity_ && batch.tracker) {
    auto it = trackers_.find(source_);
    if (it == trackers_.end()) trackers_.emplace(source_, batch.tracker);
    else if (it->second != batch.tracker) it->second = batch.tracker;
  }
}

Object* S3Output::find(const std::string& prefix) {
  key_.assign(source_).push_back('\0');
  key_.append(prefix);
  auto it = open_.find(key_);
  return it == open_.end() ? nullptr : &it->second;
}

Object& S3Output::open(const std::string& prefix, const std::optional<Cut>& recorded, core::Clock::time_point now) {
  if (open_.size() >= static_cast<std::size_t>(spec_.max_open_objects)) {
    // The oldest goes first; one being rebuilt to a journaled cut only when
    // every open object is (cutting it short would change its name).
    const std::string* oldest = nullptr;
    core::Clock::time_point when = core::Clock::time_point::max();
    for (int pass = 0; pass < 2 && !oldest; ++pass) {
      for (auto& [k, o] : open_) {
        if ((pass == 0 && o.recorded) || o.opened >= when) continue;
        oldest = &k;
        when = o.opened;
      }
    }
    if (oldest) close_object(*oldest, nullptr);
  }
  key_.assign(source_).push_back('\0');
  key_.append(prefix);
  Object& o = open_[key_];
  o.source = source_;
  o.prefix = prefix;
  o.identity = identity_;
  o.recorded = recorded;
  o.opened = now;
  o.seq = ++next_seq_;
  return o;
}

void S3Output::hold(Object& o, const core::Batch& batch) {
  if (!settlement_ || !batch.tracker || o.held_in_write == writes_) return;
  o.held_in_write = writes_;
  for (const core::AckHold& h : o.holds) {
    if (h.tracker() == batch.tracker.get()) return;
  }
  if (core::AckHold h = batch.hold_ack()) o.holds.push_back(std::move(h));
}

bool S3Output::append_run(Object* o, const core::OutputSlot& slot, std::size_t from, std::size_t to,
                          pipeline::DeliveryReport& report) {
  if (!o || from >= to) return true;
  const std::size_t begin = from == 0 ? 0 : slot.ends[from - 1];
  std::string_view rest = std::string_view(slot.encoded).substr(begin, slot.ends[to - 1] - begin);
  const bool ok = durable("write an object filling on disk", [&]() -> core::Result<void, Error> {
    if (!o->file) {
      auto f = ObjectFile::create(dir_ + "/" + std::to_string(o->seq) + ".obj", spec_.compression);
      if (!f) return core::Unexpected<Error>{f.error()};
      o->file = std::move(*f);
    }
    std::size_t taken = 0;
    auto r = o->file->append(rest, &taken);
    rest.remove_prefix(taken);
    return r;
  });
  if (ok) return true;
  for (std::size_t i = from; i < to; ++i) report.set(i, pipeline::Outcome::kRetry, "cannot write to disk");
  discard(*o, &report, "cannot write to disk");
  open_.erase(journal_key(o->source, o->prefix));
  return false;
}

void S3Output::write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) {
  ++writes_;
  source_of(batch);
  const auto now = clock_.now();
  Object* cur = nullptr;              // the object of the current run of events (same prefix)
  const PartitionLog* log = nullptr;  // what the journal knows of the run's partition
  bool in_run = false;
  std::size_t run_from = 0;  // the events of the current run go to `cur`
  auto close_cur = [&] {
    close_object(journal_key(cur->source, cur->prefix), &report);
    cur = nullptr;
    log = identity_ ? journal_->find(source_, run_prefix_) : nullptr;  // the close may have added it
  };
  const std::size_t n = slot.selected.size();
  for (std::size_t i = 0; i < n; ++i) {
    const core::Event& e = batch.events[slot.selected[i]];
    prefix_.clear();
    spec_.key->render(e, prefix_);
    if (!in_run || prefix_ != run_prefix_) {
      if (!append_run(cur, slot, run_from, i, report)) cur = nullptr;
      run_from = i;
      run_prefix_.swap(prefix_);
      in_run = true;
      cur = find(run_prefix_);
      log = identity_ ? journal_->find(source_, run_prefix_) : nullptr;
    }
    if (log && log->done && e.offset <= *log->done) {
      // In an object stored before a restart: acknowledged as it is.
      if (!append_run(cur, slot, run_from, i, report)) cur = nullptr;
      report.set(i, pipeline::Outcome::kDelivered);
      run_from = i + 1;
      continue;
    }
    std::optional<Cut> cut;  // a journaled object this event belongs in
    if (log) {
      for (const Cut& c : log->cuts) {
        if (c.first <= e.offset && e.offset <= c.last) cut = c;
      }
    }
    const std::uint64_t size = slot.ends[i] - (i == 0 ? 0 : slot.ends[i - 1]);
    if (cur && cur->events > 0) {
      bool close = false;
      if (cur->recorded) {
        close = e.offset > cur->recorded->last;
      } else if (cut) {
        close = true;  // a journaled object starts here
      } else {
        close = cur->raw_bytes + size > spec_.max_object_bytes ||
                e.timestamp_ns >= cur->first_event_ns + spec_.max_object_age_ns;
      }
      if (close) {
        const bool ok = append_run(cur, slot, run_from, i, report);
        run_from = i;
        if (ok) close_cur();
        cur = nullptr;
      }
    }
    if (!cur) {
      run_from = i;
      cur = &open(run_prefix_, cut, now);
    }
    if (cur->events == 0) {
      cur->first = e.offset;
      cur->first_event_ns = e.timestamp_ns;
    }
    cur->last = e.offset;
    ++cur->events;
    cur->raw_bytes += size;
    hold(*cur, batch);
    report.set(i, pipeline::Outcome::kHeld);
    if (!settlement_) cur->report_at.push_back(static_cast<std::uint32_t>(i));
    if (cur->recorded && e.offset >= cur->recorded->last) {
      const bool ok = append_run(cur, slot, run_from, i + 1, report);
      run_from = i + 1;
      if (ok) close_cur();
      cur = nullptr;
    }
  }
  append_run(cur, slot, run_from, n, report);
  // Without a settlement (bifrost replay, bifrost test) every object is
  // stored before write() returns, and its events' outcomes reported.
  if (!settlement_) close_all(&report);
}

void S3Output::flush() {
  const auto now = clock_.now();
  std::vector<std::string> due;
  for (auto& [key, o] : open_) {
    if (o.events > 0 && now - o.opened >= std::chrono::nanoseconds(spec_.max_object_age_ns)) due.push_back(key);
  }
  for (const auto& key : due) close_object(key, nullptr);
  recover_uploads(now);
  maybe_compact(now);
  publish();
}

// Multipart uploads the journal says were begun and never ended: cut short
// by a crash (or their abort failed). Aborted, or tried again in a minute.
void S3Output::recover_uploads(core::Clock::time_point now) {
  if (journal_->uploads().empty() || now < next_recovery_) return;
  next_recovery_ = now + std::chrono::minutes(1);
  const auto pending = journal_->uploads();  // a copy: ended() changes it
  for (const auto& [upload_id, key] : pending) {
    UploadResult r = uploader_.abort(key, upload_id);
    if (r.kind != UploadResult::Kind::kStored) {
      core::log::warn(id_, "AbortMultipartUpload of ", key, " (cut short before) failed (", r.reason,
                      "); tried again in a minute");
      continue;
    }
    core::log::info(id_, "aborted the multipart upload of ", key, " that a stop or a crash cut short");
    ended(upload_id);
  }
}

void S3Output::maybe_compact(core::Clock::time_point now) {
  if (now - last_compaction_ < std::chrono::minutes(10) && journal_->file_bytes() < (1u << 20)) return;
  last_compaction_ = now;
  const std::int64_t week_ago = core::now_ns() - 7LL * 24 * 3600 * 1'000'000'000;
  auto r = journal_->compact([&](std::string_view source, const PartitionLog& log) {
    if (log.touched_ns < week_ago) return true;
    auto it = acked_before_.find(std::string(source));
    return log.done && it != acked_before_.end() && it->second > *log.done;
  });
  if (!r) {
    if (stats_) stats_->disk_write_errors.add(1);
    core::log::error(id_, r.error().message, " (the journal stays as it was)");
  }
  // Where each source stands now is checkpointed by the next compaction.
  acked_before_.clear();
  for (auto it = trackers_.begin(); it != trackers_.end();) {
    acked_before_[it->first] = it->second->acknowledged();
    if (it->second.use_count() == 1) it = trackers_.erase(it);
    else ++it;
  }
}

void S3Output::publish() {
  if (!stats_) return;
  std::uint64_t disk = 0;
  for (const auto& [k, o] : open_) disk += o.file ? o.file->disk_bytes() : 0;
  stats_->series.replace({
      {&kObjectsUploaded, {}, static_cast<double>(objects_uploaded_)},
      {&kBytesUploaded, {}, static_cast<double>(bytes_uploaded_)},
      {&kUploadDuration, {}, 0, &upload_duration_},
      {&kOpenObjects, {}, static_cast<double>(open_.size())},
      {&kOpenObjectBytes, {}, static_cast<double>(disk)},
  });
}

}  // namespace bifrost::outputs::s3
