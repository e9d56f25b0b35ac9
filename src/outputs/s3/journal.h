// Where objects were cut, so that a re-read after a crash rebuilds the same
// objects. Per partition (a source identity and a key prefix) it keeps
//   - cuts: objects closed (first and last offset) but not yet settled;
//     recorded durably BEFORE the upload starts,
//   - done: the last offset of the latest object settled (stored, or parked
//     in the failed queue); recorded durably BEFORE its events are
//     acknowledged.
// On a re-read an event at or below `done` is already stored (skipped), an
// event inside a cut goes into that very object (same first, same last,
// same name), and only past them do the size and age rules cut again.
//
// One append-only file of lines "C <first> <last> <source> <prefix>" and
// "D <last> <source> <prefix>" (source and prefix percent-encoded), each
// fdatasynced; rewritten compact (temporary file, fsync, rename) at start
// and when it grows. A torn last line (a crash while writing) is ignored.
//
// Threads: the output's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "outputs/s3/object_file.h"

namespace bifrost::outputs::s3 {

struct Cut {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

struct PartitionLog {
  std::optional<std::uint64_t> done;
  std::deque<Cut> cuts;         // in offset order
  std::int64_t touched_ns = 0;  // when last written (wall clock), for pruning
};

class Journal {
 public:
  // Loads `path` (a missing file is an empty journal) and rewrites it compact.
  static core::Result<std::unique_ptr<Journal>, Error> open(const std::string& path);
  ~Journal();

  // The log of partition (source, prefix), or null.
  const PartitionLog* find(std::string_view source, std::string_view prefix) const;

  core::Result<void, Error> cut(std::string_view source, std::string_view prefix, Cut c);
  core::Result<void, Error> done(std::string_view source, std::string_view prefix, std::uint64_t last);

  // Rewrites the file without the partitions `drop` says are no longer
  // needed (their cuts all settled and the source acknowledged past them).
  core::Result<void, Error> compact(const std::function<bool(std::string_view source, const PartitionLog&)>& drop);
  std::size_t partitions() const { return logs_.size(); }
  std::uint64_t file_bytes() const { return bytes_; }

 private:
  explicit Journal(std::string path) : path_(std::move(path)) {}
  core::Result<void, Error> append(const std::string& line);
  static std::string key(std::string_view source, std::string_view prefix);

  std::string path_;
  int fd_ = -1;
  std::uint64_t bytes_ = 0;
  std::map<std::string, PartitionLog, std::less<>> logs_;  // key(source, prefix)
  mutable std::string scratch_;
};

}  // namespace bifrost::outputs::s3
