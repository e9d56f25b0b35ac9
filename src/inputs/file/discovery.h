// Finding the files an input follows: `paths` globs minus `exclude`
// globs, symlinks followed, one entry per file (two paths to one file are
// one file). Also the inotify watch that makes discovery quick where the
// kernel allows it; polling (rescan every scan_interval, look at open files
// every poll) stays correct without it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inputs/file/identity.h"

namespace bifrost::inputs::file {

struct Found {
  std::string path;
  FileId id;
  std::uint64_t size = 0;
};

// Every regular file matching `paths` and no `exclude` pattern (fnmatch on
// the whole path, `*` also matching `/`), in path order.
std::vector<Found> discover(const std::vector<std::string>& paths, const std::vector<std::string>& exclude);

// inotify on the directories of the patterns. Without it (limits reached,
// a directory missing, a glob in the directory part), it does nothing and
// polling covers everything.
class Watcher {
 public:
  explicit Watcher(const std::vector<std::string>& patterns);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Retries directories that did not exist before.
  void refresh();
  // Waits up to `timeout_ms` for a change. Returns whether a file was
  // created, moved in or deleted (a rescan is due); `modified` tells
  // whether a watched file was written.
  bool wait(int timeout_ms, bool& modified);

 private:
  int fd_ = -1;
  std::vector<std::string> dirs_;
  std::vector<int> watches_;  // -1: not watched (yet)
};

}  // namespace bifrost::inputs::file
