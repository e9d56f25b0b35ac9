#include "outputs/s3/s3_output.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include "core/log.h"
#include "core/time.h"
#include "outputs/s3/journal.h"
#include "outputs/s3/metrics.h"
#include "outputs/s3/object_file.h"
#include "outputs/s3/readback.h"
#include "outputs/s3/uploader.h"

namespace bifrost::outputs::s3 {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kParkChunk = 1000;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Keeps what an object name may hold: A-Z a-z 0-9 . _ - ('/' becomes '-').
std::string name_part(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : (c == '/' ? '-' : '_'));
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "host";
  return name_part(buf);
}

struct Object {
  std::string source, prefix;
  bool identity = false;
  std::unique_ptr<ObjectFile> file;
  std::uint64_t seq = 0;  // of the staging file, and the name of an object without identity
  std::uint64_t first = 0, last = 0;
  std::size_t events = 0;
  std::uint64_t raw_bytes = 0;
  std::optional<Cut> recorded;  // journaled before a restart: rebuilt to end exactly there
  std::int64_t first_event_ns = 0;
  Clock::time_point opened;
  std::vector<core::AckHold> holds;
  const core::AckTracker* held_tracker = nullptr;
  std::uint64_t held_seq = 0;
  std::vector<std::uint32_t> report_at;  // without a settlement: the report indexes of its events
};

class S3Output final : public pipeline::Output {
 public:
  S3Output(const Spec& spec, const pipeline::BuildContext& ctx, const HttpSettings& http, const std::string& region,
           const std::string& session_token)
      : spec_(spec),
        id_(ctx.component),
        stats_(ctx.stats),
        dir_(ctx.data_dir + "/s3/" + ctx.pipeline + "/" + ctx.component),
        host_(host_name()),
        uploader_(spec, http, region, session_token, ctx.component) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw std::runtime_error("s3 output " + id_ + ": cannot create " + dir_ + ": " + ec.message());
    // Staging files of a process that stopped: their events were never
    // acknowledged and are read again, so the objects are rebuilt.
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      if (entry.path().extension() == ".obj") std::filesystem::remove(entry.path(), ec);
    }
    auto j = Journal::open(dir_ + "/journal");
    if (!j) throw std::runtime_error("s3 output " + id_ + ": " + j.error().message);
    journal_ = std::move(*j);
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
    last_compaction_ = Clock::now();
  }

  ~S3Output() override {
    // Objects still open (close() not reached): abandoned, read again next time.
    for (auto& [key, o] : open_) discard(o);
  }

  void settle_with(pipeline::Settlement* s) override { settlement_ = s; }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    encode_slot(batch, slot, spec_.codec);
  }

  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override;
  void flush() override;
  void close() override {
    close_all();
    publish();
  }

 private:
  void source_of(const core::Batch& batch);
  Object* find(const std::string& prefix);
  Object& open(const std::string& prefix, const std::optional<Cut>& recorded, Clock::time_point now);
  // Writes the run of events [from, to) of the slot into `o`; false (and
  // the object discarded, its events to retry) when the disk refuses.
  bool append_run(Object* o, const core::OutputSlot& slot, std::size_t from, std::size_t to,
                  pipeline::DeliveryReport& report);
  void close_object(const std::string& key, pipeline::DeliveryReport* report);
  void close_all(pipeline::DeliveryReport* report = nullptr) {
    while (!open_.empty()) close_object(open_.begin()->first, report);
  }
  // Uploads a closed object and settles its events.
  void settle(Object& o, pipeline::DeliveryReport* report);
  bool park(Object& o, std::string_view reason, int attempts);
  void discard(Object& o);
  std::string object_key(const Object& o) const;
  void publish();
  void maybe_compact(Clock::time_point now);

  const Spec& spec_;
  std::string id_;
  core::ComponentStats* stats_;
  std::string dir_, host_, ext_, content_type_;
  std::uint64_t run_id_ = 0;
  Uploader uploader_;
  std::unique_ptr<Journal> journal_;
  pipeline::Settlement* settlement_ = nullptr;
  std::unordered_map<std::string, Object> open_;  // source '\0' prefix
  std::uint64_t next_seq_ = 0;
  // Per write: the batch's source.
  std::string source_;
  bool identity_ = false;
  std::string prefix_, key_;
  // Per source with acknowledgements: its tracker, and where it stood at the
  // last compaction (what is below it is checkpointed by now).
  std::unordered_map<std::string, std::shared_ptr<core::AckTracker>> trackers_;
  std::unordered_map<std::string, std::uint64_t> acked_before_;
  Clock::time_point last_compaction_;
  core::Batch park_batch_;
  std::vector<std::uint32_t> park_selected_;
  // Metrics.
  std::uint64_t objects_uploaded_ = 0, bytes_uploaded_ = 0;
  core::Histogram upload_duration_;
};

void S3Output::source_of(const core::Batch& batch) {
  identity_ = batch.source_id != 0 || !batch.source.empty();
  source_.clear();
  if (batch.source_id != 0) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(batch.source_id));
    source_.assign(hex, 16);
  } else if (identity_) {
    source_ = name_part(batch.source);
  }
  if (identity_ && batch.tracker) {
    auto& t = trackers_[source_];
    if (t != batch.tracker) t = batch.tracker;
  }
}

Object* S3Output::find(const std::string& prefix) {
  key_.assign(source_).push_back('\0');
  key_.append(prefix);
  auto it = open_.find(key_);
  return it == open_.end() ? nullptr : &it->second;
}

Object& S3Output::open(const std::string& prefix, const std::optional<Cut>& recorded, Clock::time_point now) {
  if (open_.size() >= static_cast<std::size_t>(spec_.max_open_objects)) {
    // The oldest goes first; one being rebuilt to a journaled cut only when
    // every open object is (cutting it short would change its name).
    const std::string* oldest = nullptr;
    Clock::time_point when = Clock::time_point::max();
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

void S3Output::discard(Object& o) {
  if (o.file) {
    std::error_code ec;
    std::filesystem::remove(o.file->path(), ec);
    o.file.reset();
  }
  o.holds.clear();  // given up: not acknowledged, read again at the next start
}

bool S3Output::append_run(Object* o, const core::OutputSlot& slot, std::size_t from, std::size_t to,
                          pipeline::DeliveryReport& report) {
  if (!o || from >= to) return true;
  const std::size_t begin = from == 0 ? 0 : slot.ends[from - 1];
  const std::string_view bytes = std::string_view(slot.encoded).substr(begin, slot.ends[to - 1] - begin);
  core::Result<void, Error> r;
  if (!o->file) {
    auto f = ObjectFile::create(dir_ + "/" + std::to_string(o->seq) + ".obj", spec_.compression);
    if (f) o->file = std::move(*f);
    else r = core::Unexpected<Error>{f.error()};
  }
  if (r) r = o->file->append(bytes);
  if (r) return true;
  core::log::error(id_, "cannot write an object to disk (", r.error().message,
                   "): its events are read again at the next start; these are retried");
  for (std::size_t i = from; i < to; ++i) report.set(i, pipeline::Outcome::kRetry, r.error().message);
  for (std::uint32_t i : o->report_at) report.set(i, pipeline::Outcome::kRetry, r.error().message);
  discard(*o);
  open_.erase(o->source + '\0' + o->prefix);
  return false;
}

void S3Output::write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) {
  source_of(batch);
  const auto now = Clock::now();
  Object* cur = nullptr;
  std::size_t run_from = 0;  // the events of the current run go to `cur`
  const std::size_t n = slot.selected.size();
  for (std::size_t i = 0; i < n; ++i) {
    const core::Event& e = batch.events[slot.selected[i]];
    prefix_.clear();
    spec_.key->render(e, prefix_);
    if (!cur || cur->prefix != prefix_) {
      if (!append_run(cur, slot, run_from, i, report)) cur = nullptr;
      run_from = i;
      cur = find(prefix_);
    }
    // What the journal knows of this partition: already stored, or a cut.
    std::optional<Cut> cut;
    if (identity_) {
      if (const PartitionLog* log = journal_->find(source_, prefix_)) {
        if (log->done && e.offset <= *log->done) {
          // In an object stored before a restart: acknowledged as it is.
          append_run(cur, slot, run_from, i, report);
          report.set(i, pipeline::Outcome::kDelivered);
          run_from = i + 1;
          continue;
        }
        for (const Cut& c : log->cuts) {
          if (c.first <= e.offset && e.offset <= c.last) cut = c;
        }
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
        if (ok) close_object(cur->source + '\0' + cur->prefix, &report);
        cur = nullptr;
      }
    }
    if (!cur) {
      run_from = i;
      cur = &open(prefix_, cut, now);
    }
    if (cur->events == 0) {
      cur->first = e.offset;
      cur->first_event_ns = e.timestamp_ns;
    }
    cur->last = e.offset;
    ++cur->events;
    cur->raw_bytes += size;
    if (batch.tracker &&
        (cur->held_tracker != batch.tracker.get() || cur->held_seq != batch.ack_seq || cur->holds.empty())) {
      cur->holds.push_back(batch.hold_ack());
      cur->held_tracker = batch.tracker.get();
      cur->held_seq = batch.ack_seq;
    }
    report.set(i, pipeline::Outcome::kHeld);
    if (!settlement_) cur->report_at.push_back(static_cast<std::uint32_t>(i));
    if (cur->recorded && e.offset >= cur->recorded->last) {
      const bool ok = append_run(cur, slot, run_from, i + 1, report);
      run_from = i + 1;
      if (ok) close_object(cur->source + '\0' + cur->prefix, &report);
      cur = nullptr;
    }
  }
  append_run(cur, slot, run_from, n, report);
  // Without a settlement (bifrost replay, bifrost test) every object is
  // stored before write() returns, and its events' outcomes reported.
  if (!settlement_) close_all(&report);
}

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

void S3Output::close_object(const std::string& key, pipeline::DeliveryReport* report) {
  auto it = open_.find(key);
  if (it == open_.end()) return;
  Object o = std::move(it->second);
  open_.erase(it);
  settle(o, report);
}

void S3Output::settle(Object& o, pipeline::DeliveryReport* report) {
  auto outcome = [&](pipeline::Outcome out, std::string_view reason) {
    if (report) {
      for (std::uint32_t i : o.report_at) report->set(i, out, reason);
    }
  };
  if (!o.file || o.events == 0) return;
  if (auto r = o.file->finish(); !r) {
    core::log::error(id_, "cannot finish an object on disk (", r.error().message,
                     "): its events are read again at the next start");
    outcome(pipeline::Outcome::kRetry, r.error().message);
    discard(o);
    return;
  }
  const std::string key = object_key(o);
  const std::string path = o.file->path();
  o.file.reset();
  if (o.identity && !o.recorded) {
    if (auto r = journal_->cut(o.source, o.prefix, {o.first, o.last}); !r) {
      // Not fatal: without it, a crash during the upload may cut this
      // object elsewhere when it is rebuilt (a second, overlapping object).
      core::log::error(id_, r.error().message);
    }
  }
  pipeline::Settlement::Tries tries;
  for (;;) {
    const auto started = Clock::now();
    UploadResult r = uploader_.upload(path, key, content_type_);
    upload_duration_.observe(std::chrono::duration<double>(Clock::now() - started).count());
    if (r.kind == UploadResult::Kind::kStored) {
      ++objects_uploaded_;
      bytes_uploaded_ += r.bytes;
      core::log::debug(id_, "stored ", key, " (", o.events, " events, ", r.bytes, " bytes)");
      if (o.identity) {
        if (auto j = journal_->done(o.source, o.prefix, o.last); !j) core::log::error(id_, j.error().message);
      }
      if (settlement_) settlement_->delivered(tries, o.events, o.raw_bytes);
      for (auto& h : o.holds) h.done();
      o.holds.clear();
      outcome(pipeline::Outcome::kDelivered, {});
      break;
    }
    if (!settlement_) {
      outcome(r.kind == UploadResult::Kind::kTransient ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected,
              r.reason + " (" + key + ")");
      break;
    }
    if (r.kind == UploadResult::Kind::kPermanent) {
      settlement_->rejected(tries, o.events, r.reason + " (" + key + ")");
      park(o, r.reason, tries.attempt);
      break;
    }
    const auto next = settlement_->failed(tries, o.events, r.reason + " (" + key + ")");
    if (next == pipeline::Settlement::Next::kAgain) continue;
    if (next == pipeline::Settlement::Next::kExhausted) park(o, "retries exhausted: " + r.reason, tries.attempt);
    break;  // kGiveUp: the holds go unacknowledged
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  o.holds.clear();
  publish();
}

// The object's events, read back from its staging file, to the failed queue.
bool S3Output::park(Object& o, std::string_view reason, int attempts) {
  std::string path = dir_ + "/" + std::to_string(o.seq) + ".obj";
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
  if (!ok) return false;
  if (o.identity) {
    if (auto j = journal_->done(o.source, o.prefix, o.last); !j) core::log::error(id_, j.error().message);
  }
  for (auto& h : o.holds) h.done();
  o.holds.clear();
  return true;
}

void S3Output::flush() {
  const auto now = Clock::now();
  std::vector<std::string> due;
  for (auto& [key, o] : open_) {
    if (o.events > 0 && now - o.opened >= std::chrono::nanoseconds(spec_.max_object_age_ns)) due.push_back(key);
  }
  for (const auto& key : due) close_object(key, nullptr);
  maybe_compact(now);
  publish();
}

void S3Output::maybe_compact(Clock::time_point now) {
  if (now - last_compaction_ < std::chrono::minutes(10) && journal_->file_bytes() < (1u << 20)) return;
  last_compaction_ = now;
  const std::int64_t week_ago = core::now_ns() - 7LL * 24 * 3600 * 1'000'000'000;
  auto r = journal_->compact([&](std::string_view source, const PartitionLog& log) {
    if (log.touched_ns < week_ago) return true;
    auto it = acked_before_.find(std::string(source));
    return log.done && it != acked_before_.end() && it->second > *log.done;
  });
  if (!r) core::log::error(id_, r.error().message);
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

}  // namespace

std::vector<const core::MetricFamily*> metric_families() {
  return {&kObjectsUploaded, &kBytesUploaded, &kUploadDuration, &kOpenObjects, &kOpenObjectBytes};
}

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  std::string region = this->region;
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = "us-east-1";
  HttpSettings h = http;
  h.auth.kind = HttpAuth::Kind::kAwsSigV4;
  h.sigv4 = "aws:amz:" + region + ":s3";
  std::string token = session_token;
  if (!access_key_id.empty()) {
    h.auth.user = access_key_id;
    h.auth.secret = secret_access_key;
    h.auth.secret_file = secret_access_key_file;
  } else {
    h.auth.user = env("AWS_ACCESS_KEY_ID");
    h.auth.secret = env("AWS_SECRET_ACCESS_KEY");
    if (token.empty()) token = env("AWS_SESSION_TOKEN");
    if (h.auth.user.empty() || h.auth.secret.empty()) {
      throw std::runtime_error("s3 output " + ctx.component +
                               ": no credentials: give auth: {access_key_id, secret_access_key} or set "
                               "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
  }
  return std::make_unique<S3Output>(*this, ctx, h, region, token);
}

}  // namespace bifrost::outputs::s3
