#include "app/replay.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/load.h"
#include "core/io.h"
#include "core/time.h"
#include "delivery/failed_queue.h"
#include "delivery/private_dir.h"
#include "delivery/record.h"

namespace bifrost::app {

namespace {

constexpr const char* kHelp =
    "usage: bifrost replay -c PATH --pipeline P --output O [--dry-run]\n"
    "\n"
    "Sends the failed queue of output O of pipeline P (data_dir/failed/P/O/) through O\n"
    "again. Delivered records are removed; the others stay, with their new error.\n"
    "--pipeline may be left out when there is one pipeline. --dry-run lists what would\n"
    "be sent (one line per record: segment, attempts, error, message) and changes nothing.\n"
    "Exit codes: 0 all delivered (or listed), 1 some records stay, 2 invalid config or arguments.\n";

constexpr std::size_t kBatchEvents = 500;

struct Line {
  std::string text;  // without its '\n'
  bool whole;        // ended with '\n' (a torn last write does not)
};

bool read_lines(int fd, std::vector<Line>& out) {
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(n));
  if (n < 0) return false;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    bool whole = nl != std::string::npos;
    std::size_t end = whole ? nl : data.size();
    out.push_back(Line{data.substr(pos, end - pos), whole});
    pos = whole ? nl + 1 : end;
  }
  return true;
}

// Writes `keep` over `path` atomically (or removes it when empty).
bool rewrite(const std::string& path, const std::string& keep) {
  if (keep.empty()) return ::unlink(path.c_str()) == 0;
  std::string tmp = path + ".replay-tmp";
  int fd = delivery::open_private_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (fd < 0) return false;
  bool ok = core::write_all(fd, keep) && ::fsync(fd) == 0;
  ::close(fd);
  return ok && ::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int run_replay(int argc, char** argv) {
  std::string path, pipeline_id, output_id;
  bool dry_run = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) return false;
      into = argv[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    bool ok = true;
    if (a == "-c" || a == "--config") ok = value(path);
    else if (a == "--pipeline") ok = value(pipeline_id);
    else if (a == "--output") ok = value(output_id);
    else if (a == "--dry-run") dry_run = true;
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "bifrost replay: bad argument \"%s\"\n\n%s", a.c_str(), kHelp);
      return kExitInvalidConfig;
    }
  }
  if (path.empty() || output_id.empty()) {
    std::fprintf(stderr, "bifrost replay: -c PATH and --output O are required\n\n%s", kHelp);
    return kExitInvalidConfig;
  }
  auto cfg = load_or_print(path);
  if (!cfg) return kExitInvalidConfig;
  const config::PipelineConfig* pc = nullptr;
  for (const auto& p : cfg->pipelines) {
    if (p.id == pipeline_id || (pipeline_id.empty() && cfg->pipelines.size() == 1)) pc = &p;
  }
  if (!pc) {
    std::fprintf(stderr, "bifrost replay: no pipeline \"%s\"%s\n", pipeline_id.c_str(),
                 pipeline_id.empty() ? " (there are several: give --pipeline)" : "");
    return kExitInvalidConfig;
  }
  const config::OutputConfig* oc = nullptr;
  for (const auto& o : pc->outputs) {
    if (o.id == output_id) oc = &o;
  }
  if (!oc) {
    std::fprintf(stderr, "bifrost replay: pipeline \"%s\" has no output \"%s\"\n", pc->id.c_str(), output_id.c_str());
    return kExitInvalidConfig;
  }
  const std::string rel = "failed/" + pc->id + "/" + oc->id;
  const std::string dir = cfg->data_dir + "/" + rel;
  {
    // Not through a symlink planted under data_dir.
    std::string why;
    const int dfd = delivery::open_private_dir(cfg->data_dir, rel, /*create=*/false, why);
    if (dfd >= 0) ::close(dfd);
    if (dfd < 0 && errno != ENOENT) {
      std::fprintf(stderr, "bifrost replay: %s\n", why.c_str());
      return kExitFatal;
    }
  }
  std::unique_ptr<pipeline::Output> output;
  if (!dry_run) output = oc->spec->build(pipeline::BuildContext{pc->id, oc->id, cfg->data_dir});

  std::size_t delivered = 0, kept = 0, unreadable = 0, listed = 0;
  core::BatchPool pool(1);
  core::Rfc3339Cache cache;
  pipeline::DeliveryReport report;
  for (const std::string& seg : delivery::FailedQueue::segments(dir)) {
    int fd = delivery::open_private_file(seg, O_RDWR);
    if (fd < 0) continue;  // removed meanwhile
    ::flock(fd, LOCK_EX);  // the daemon appends under the same lock
    std::vector<Line> lines;
    if (!read_lines(fd, lines)) {
      std::fprintf(stderr, "bifrost replay: cannot read %s: %s\n", seg.c_str(), std::strerror(errno));
      ::close(fd);
      return kExitFatal;
    }
    std::string keep;
    for (std::size_t first = 0; first < lines.size(); first += kBatchEvents) {
      std::size_t last = std::min(lines.size(), first + kBatchEvents);
      core::Batch* batch = pool.acquire();
      std::vector<std::size_t> line_of;  // event index -> line index
      std::vector<delivery::DecodedRecord> metas;
      for (std::size_t i = first; i < last; ++i) {
        auto meta = lines[i].whole ? delivery::decode_record(lines[i].text, *batch)
                                   : core::fail(delivery::Errc::kCorrupt, "a torn line");
        if (!meta) {
          ++unreadable;  // kept as it is, never thrown away
          keep.append(lines[i].text).push_back('\n');
          continue;
        }
        line_of.push_back(i);
        metas.push_back(std::move(*meta));
      }
      if (dry_run) {
        for (std::size_t k = 0; k < line_of.size(); ++k) {
          std::printf("%s:%zu attempts=%lld error=%s message=%.*s\n", seg.c_str(), line_of[k] + 1,
                      static_cast<long long>(metas[k].attempts), metas[k].error.c_str(),
                      static_cast<int>(std::min<std::size_t>(batch->events[k].message.size(), 200)),
                      batch->events[k].message.data());
        }
        listed += line_of.size();
        batch->release();
        continue;
      }
      batch->slots.resize(1);
      core::OutputSlot& slot = batch->slots[0];
      slot.clear();
      for (std::size_t k = 0; k < batch->events.size(); ++k) slot.selected.push_back(static_cast<std::uint32_t>(k));
      output->encode(*batch, slot);
      report.reset(slot.selected.size());
      output->write(*batch, slot, report);
      const std::int64_t now = core::now_ns();
      for (std::size_t k = 0; k < slot.selected.size(); ++k) {
        if (report.outcome(k) == pipeline::Outcome::kDelivered) {
          ++delivered;
          continue;
        }
        ++kept;
        delivery::append_record(keep, batch->events[k], {pc->id, oc->id, report.reason(k), metas[k].attempts + 1, now},
                                cache);
      }
      batch->release();
    }
    if (!dry_run && !rewrite(seg, keep)) {
      std::fprintf(stderr, "bifrost replay: cannot rewrite %s: %s (it stays as it was)\n", seg.c_str(),
                   std::strerror(errno));
      ::close(fd);
      return kExitFatal;
    }
    ::close(fd);
  }
  if (output) {
    output->flush();
    output->close();
  }
  if (dry_run) {
    std::fprintf(stderr, "bifrost replay: %zu record(s) would be sent from %s%s\n", listed, dir.c_str(),
                 unreadable ? (", " + std::to_string(unreadable) + " unreadable line(s)").c_str() : "");
    return kExitOk;
  }
  std::fprintf(stderr, "bifrost replay: %zu delivered, %zu kept in %s%s\n", delivered, kept + unreadable, dir.c_str(),
               unreadable ? (" (" + std::to_string(unreadable) + " unreadable line(s) kept as they are)").c_str() : "");
  return kept + unreadable == 0 ? kExitOk : kExitFatal;
}

}  // namespace bifrost::app
