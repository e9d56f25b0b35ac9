// What the s3 output must remember across a crash, so that a re-read
// rebuilds the same objects and no upload is left half done. Per partition
// (a source identity and a key prefix):
//   - cuts: objects closed (first and last offset) but not yet settled;
//     recorded durably BEFORE the upload starts,
//   - done: the last offset of the latest object settled (stored, or parked
//     in the failed queue); recorded durably BEFORE its events are
//     acknowledged.
// And the multipart uploads begun and not yet completed or aborted (upload
// id and key), recorded durably before their first part is sent: those a
// start finds were cut short by a crash, and are aborted.
//
// On a re-read an event at or below `done` is already stored (skipped), an
// event inside a cut goes into that very object (same first, same last,
// same name), and only past them do the size and age rules cut again.
//
// One append-only file of lines, each ending in the CRC-32 (8 hex digits)
// of what comes before it on the line:
//   C <first> <last> <source> <prefix> <crc>
//   D <last> <source> <prefix> <crc>
//   U <upload id> <key> <crc>
//   E <upload id> <crc>
// (text fields percent-encoded), each fdatasynced; rewritten compact
// (temporary file, fsync, rename) at start and when it grows. A line torn
// by a crash or by a failed write, or garbled, fails its CRC and is
// skipped; every record may appear twice (a write that failed, then went
// through) and means the same.
//
// Threads: the output's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "outputs/s3/object_file.h"

namespace bifrost::outputs::s3 {

struct Cut {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool operator==(const Cut&) const = default;
};

struct PartitionLog {
  std::optional<std::uint64_t> done;
  std::deque<Cut> cuts;         // in offset order
  std::int64_t touched_ns = 0;  // when last written (wall clock), for pruning; not saved
};

// What a journal file says.
struct JournalState {
  std::map<std::string, PartitionLog, std::less<>> logs;    // by journal_key(source, prefix)
  std::map<std::string, std::string, std::less<>> uploads;  // open multipart uploads: id -> key
};

// source '\0' prefix (a source name never holds '\0').
std::string journal_key(std::string_view source, std::string_view prefix);

// Reads a journal's text (pure: for the journal and its fuzzer). Lines
// that fail their CRC, or that are not a record, are skipped; so is a
// last line without its '\n'. `now_ns` becomes every partition's touched_ns.
JournalState parse_journal(std::string_view text, std::int64_t now_ns);
// The state as a compact journal's text (each partition's done, then its
// cuts; the open uploads), which parse_journal reads back the same.
std::string render_journal(const JournalState& state);

class Journal {
 public:
  // Loads `path` (a missing file is an empty journal) and rewrites it compact.
  static core::Result<std::unique_ptr<Journal>, Error> open(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The log of partition (source, prefix), or null. No allocation once warm.
  const PartitionLog* find(std::string_view source, std::string_view prefix) const;

  // Each writes its record durably; the state changes only once it is. On
  // a failure the file is left as it was (or the torn line is ended by the
  // next record's leading newline) and the call can be made again.
  core::Result<void, Error> cut(std::string_view source, std::string_view prefix, Cut c);
  core::Result<void, Error> done(std::string_view source, std::string_view prefix, std::uint64_t last);
  core::Result<void, Error> upload_begun(std::string_view upload_id, std::string_view key);
  core::Result<void, Error> upload_ended(std::string_view upload_id);
  const std::map<std::string, std::string, std::less<>>& uploads() const { return state_.uploads; }

  // Rewrites the file without the partitions `drop` says are no longer
  // needed (their cuts all settled and the source acknowledged past them).
  core::Result<void, Error> compact(const std::function<bool(std::string_view source, const PartitionLog&)>& drop);
  std::size_t partitions() const { return state_.logs.size(); }
  std::uint64_t file_bytes() const { return bytes_; }

 private:
  explicit Journal(std::string path) : path_(std::move(path)) {}
  core::Result<void, Error> append(std::string line);

  std::string path_;
  int fd_ = -1;
  std::uint64_t bytes_ = 0;  // what the file holds (as far as appends know)
  bool torn_ = false;        // a failed append may have left part of a line that could not be cut off
  JournalState state_;
  mutable std::string scratch_;
};

}  // namespace bifrost::outputs::s3
