#include "inputs/file/discovery.h"

#include <fnmatch.h>
#include <glob.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "core/log.h"

namespace bifrost::inputs::file {

std::vector<Found> discover(const std::vector<std::string>& paths, const std::vector<std::string>& exclude) {
  std::vector<Found> out;
  std::unordered_set<FileId, FileIdHash> seen;
  for (const std::string& pattern : paths) {
    glob_t g{};
    int r = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
    if (r == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        const char* p = g.gl_pathv[i];
        bool excluded = std::any_of(exclude.begin(), exclude.end(),
                                    [&](const std::string& x) { return ::fnmatch(x.c_str(), p, 0) == 0; });
        if (excluded) continue;
        struct stat st {};
        if (::stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;  // stat follows symlinks
        FileId id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
        if (!seen.insert(id).second) continue;
        out.push_back(Found{p, id, static_cast<std::uint64_t>(st.st_size)});
      }
    }
    ::globfree(&g);
  }
  std::sort(out.begin(), out.end(), [](const Found& a, const Found& b) { return a.path < b.path; });
  return out;
}

namespace {
// The directory part of a pattern, or "" when it has glob characters.
std::string directory_of(const std::string& pattern) {
  std::size_t slash = pattern.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : pattern.substr(0, slash));
  if (dir.find_first_of("*?[") != std::string::npos) return "";
  return dir;
}
}  // namespace

Watcher::Watcher(const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns) {
    std::string d = directory_of(p);
    if (!d.empty() && std::find(dirs_.begin(), dirs_.end(), d) == dirs_.end()) dirs_.push_back(d);
  }
  watches_.assign(dirs_.size(), -1);
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) core::log::warn("file", "inotify unavailable (", std::strerror(errno), "); polling only");
  refresh();
}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
}

void Watcher::refresh() {
  if (fd_ < 0) return;
  for (std::size_t i = 0; i < dirs_.size(); ++i) {
    if (watches_[i] >= 0) continue;
    watches_[i] = ::inotify_add_watch(
        fd_, dirs_[i].c_str(),
        IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
  }
}

bool Watcher::wait(int timeout_ms, bool& modified) {
  modified = false;
  if (fd_ < 0) {
    ::usleep(static_cast<useconds_t>(timeout_ms) * 1000);
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  bool rescan = false;
  alignas(inotify_event) char buf[16384];
  while (true) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* q = buf; q < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(q);
      if (ev->mask & IN_MODIFY) modified = true;
      if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_Q_OVERFLOW)) rescan = true;
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        for (std::size_t i = 0; i < watches_.size(); ++i) {
          if (watches_[i] == ev->wd) watches_[i] = -1;
        }
        rescan = true;
      }
      q += sizeof(inotify_event) + ev->len;
    }
  }
  return rescan;
}

}  // namespace bifrost::inputs::file
