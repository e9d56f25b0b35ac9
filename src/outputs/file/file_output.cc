#include "outputs/file/file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/expr_reader.h"
#include "core/log.h"
#include "outputs/common/fd_write.h"
#include "outputs/file/drop_behind.h"

namespace bifrost::outputs::file {

namespace {

using Clock = core::Clock;

class FileOutput final : public pipeline::Output {
 public:
  FileOutput(const Spec& spec, std::string id, Clock& clock) : spec_(spec), id_(std::move(id)), clock_(clock) {}
  ~FileOutput() override { close(); }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    outputs::encode_slot(batch, slot, spec_.codec);
  }

  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    const std::size_t n = slot.selected.size();
    if (spec_.path->is_constant()) {
      write_run(spec_.path->text(), slot, 0, n, report);
      return;
    }
    // Consecutive events with the same path go out in one write.
    std::size_t run_start = 0;
    run_path_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      path_.clear();
      spec_.path->render(batch.events[slot.selected[i]], path_);  // a missing field renders as nothing
      if (i == 0) {
        run_path_ = path_;
      } else if (path_ != run_path_) {
        write_run(run_path_, slot, run_start, i, report);
        run_start = i;
        run_path_ = path_;
      }
    }
    write_run(run_path_, slot, run_start, n, report);
  }

  void flush() override {
    auto now = clock_.now();
    for (auto it = files_.begin(); it != files_.end();) {
      OpenFile& f = it->second;
      if (f.dirty) {
        // Start writeback without waiting for it: the disk catches up in the
        // background instead of stalling this thread (fdatasync at close).
        ::sync_file_range(f.fd(), 0, 0, SYNC_FILE_RANGE_WRITE);
        f.dirty = false;
      }
      if (now - f.last_write > std::chrono::nanoseconds(spec_.idle_timeout_ns)) {
        it = files_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::chrono::milliseconds flush_interval() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(spec_.flush_interval_ns));
  }

  void close() override {
    for (auto& [path, f] : files_) finish(f);
    files_.clear();
  }

 private:
  struct OpenFile {
    std::shared_ptr<SharedFd> file;  // shared with the drop-behind thread
    Clock::time_point last_write;
    bool dirty = false;
    bool regular = false;  // a regular file (not a FIFO or device): drop-behind applies
    DropBehind::Cursor cursor;
    UncachedWrites uncached;  // with drop-behind: the kernel drops what it can at once
    int fd() const { return file->get(); }
  };

  // Before a file is let go: what was written is made durable and, with
  // drop-behind, all of it leaves the page cache now that it is written back
  // (uncached writes leave pages behind when the kernel cannot drop them at
  // once, and the last window is never reached by the drop-behind thread).
  void finish(OpenFile& f) {
    const bool drop = f.regular && spec_.drop_behind;
    if (f.dirty || drop) ::fdatasync(f.fd());  // clean, but maybe still under writeback: waits for it
    if (drop) ::posix_fadvise(f.fd(), f.cursor.dropped, 0, POSIX_FADV_DONTNEED);
  }

  void drop_behind(OpenFile& f) {
    if (!f.regular || !spec_.drop_behind) return;
    const off_t end = ::lseek(f.fd(), 0, SEEK_CUR);
    if (end < 0) return;
    f.uncached.start = end;
    if (!drop_) drop_.emplace("wb:" + id_);
    drop_->written(f.file, f.cursor, end);
  }

  void write_run(const std::string& path, const core::OutputSlot& slot, std::size_t first, std::size_t last,
                 pipeline::DeliveryReport& report) {
    if (first >= last) return;
    if (path.empty()) {
      for (std::size_t i = first; i < last; ++i) {
        report.set(i, pipeline::Outcome::kRejected, "the path template \"" + spec_.path->text() + "\" rendered empty");
      }
      return;
    }
    OpenFile* f = open(path);
    if (f == nullptr) {
      std::string reason = "open " + path + ": " + std::strerror(errno);
      for (std::size_t i = first; i < last; ++i) report.set(i, pipeline::Outcome::kRetry, reason);
      return;
    }
    auto written = write_events(f->fd(), slot, first, last, report, path,
                                f->regular && spec_.drop_behind ? &f->uncached : nullptr);
    f->last_write = clock_.now();
    f->dirty = true;
    if (!written) {  // reopen next time (the file may have been removed or the disk remounted)
      files_.erase(path);
      return;
    }
    drop_behind(*f);
  }

  OpenFile* open(const std::string& path) {
    if (auto it = files_.find(path); it != files_.end()) return &it->second;
    if (files_.size() >= static_cast<std::size_t>(spec_.max_open_files)) {
      // Close the least recently written file.
      auto oldest = files_.begin();
      for (auto it = files_.begin(); it != files_.end(); ++it) {
        if (it->second.last_write < oldest->second.last_write) oldest = it;
      }
      finish(oldest->second);
      files_.erase(oldest);
    }
    std::filesystem::path p(path);
    if (p.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(p.parent_path(), ec);
    }
    int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);  // write-only (a FIFO)
    if (fd < 0) return nullptr;
    end_partial_line(fd, path);
    OpenFile f;
    f.file = std::make_shared<SharedFd>(fd);
    f.last_write = clock_.now();
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      f.regular = true;
      f.cursor.written_back = f.cursor.dropped = st.st_size;  // what was there stays as cached as it was
      f.uncached.start = st.st_size;
    }
    return &files_.emplace(path, f).first->second;
  }

  // A file that ends without a newline holds the partial last line of a
  // process killed mid-write: it is closed with a newline, so the events
  // appended now do not run into it.
  void end_partial_line(int fd, const std::string& path) {
    struct stat st {};
    char last = '\n';
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
    if (::pread(fd, &last, 1, st.st_size - 1) != 1 || last == '\n') return;
    core::log::warn(id_, path, " ends in a partial line (a crash while writing?): ending it with a newline");
    (void)!::write(fd, "\n", 1);
  }

  const Spec& spec_;
  std::string id_;
  Clock& clock_;                    // the pipeline's: idle_timeout is measured on it
  std::optional<DropBehind> drop_;  // started with the first regular file; outlives files_
  std::unordered_map<std::string, OpenFile> files_;
  std::string path_, run_path_;  // scratch, reused
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<FileOutput>(*this, ctx.component, *ctx.clock);
}

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->path = config::read_template(r, "path", "", "file to append to (a template: {{field}}, %Y-%m-%d)", true);
  s->codec = *outputs::codec_from_name(
      r.choice("encoding", "json", {"json", "text"}, "json: the whole event; text: the message only"));
  s->flush_interval_ns = r.duration_ns("flush_interval", s->flush_interval_ns,
                                       "how often writeback of written data is started (fsynced at close)");
  s->idle_timeout_ns = r.duration_ns("idle_timeout", s->idle_timeout_ns, "files not written for this long are closed");
  s->max_open_files = r.integer("max_open_files", s->max_open_files, 1, 65536, "files kept open at most");
  s->drop_behind = r.boolean("drop_behind", s->drop_behind,
                             "written data leaves the page cache once written back (at once where the kernel "
                             "takes uncached writes, else 32 MiB behind the end)");
  if (!s->path) s->path = std::get<expr::Template>(expr::Template::parse("-"));  // keeps describe mode simple
  return s;
}

}  // namespace bifrost::outputs::file
