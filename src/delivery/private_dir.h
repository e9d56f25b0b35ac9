// Where bifrost writes under data_dir (checkpoints/, failed/, buffers/ and
// what comes next), made private and kept inside data_dir:
//   - directories are created 0700 and files 0600 whatever the umask (a
//     umask only takes bits away), so checkpoints, buffered events and
//     parked events are readable by bifrost's user only;
//   - no symlink below data_dir is followed: each directory is opened with
//     openat(O_NOFOLLOW | O_DIRECTORY) from data_dir down, and files are
//     opened with O_NOFOLLOW, so a link planted in data_dir cannot send a
//     write (or a replay's read) out of it. data_dir itself may be a link
//     (an administrator's choice: data on another disk).
#pragma once

#include <string>

namespace bifrost::delivery {

inline constexpr unsigned kPrivateDirMode = 0700;
inline constexpr unsigned kPrivateFileMode = 0600;

// Opens root/rel (rel: "failed/main/out", no "..") as a directory, walking
// down from root without following a symlink; with `create`, each missing
// directory (root included) is made 0700. Returns the directory's fd
// (O_CLOEXEC; the caller closes it), or -1 with `error` saying which part
// is a symlink or cannot be made, and errno set (ENOENT: not there yet).
int open_private_dir(const std::string& root, const std::string& rel, bool create, std::string& error);

// open(2) for a file bifrost writes or reads under data_dir: never through
// a symlink (O_NOFOLLOW: ELOOP), created 0600.
int open_private_file(const std::string& path, int flags);

}  // namespace bifrost::delivery
