// How the file input knows a file: (device, inode) plus a fingerprint of its
// first bytes. The fingerprint is a hash of the first `len` bytes with `len`
// stored beside it, so a file shorter than fingerprint_bytes has one too
// (read at once, never ignored) and it grows with the file up to
// fingerprint_bytes. Same (device, inode) but another fingerprint: the inode
// was reused, or the file was truncated and rewritten. Another inode with a
// known fingerprint: a copy (copytruncate's rotated file, a move across
// filesystems).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/io.h"

namespace bifrost::inputs::file {

struct FileId {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  bool operator==(const FileId&) const = default;
  bool valid() const { return ino != 0; }
};

struct FileIdHash {
  std::size_t operator()(const FileId& id) const {
    return std::hash<std::uint64_t>()(id.dev * 0x9E3779B97F4A7C15ull ^ id.ino);
  }
};

struct Fingerprint {
  std::uint32_t len = 0;  // bytes hashed
  std::uint64_t hash = 0;
  bool operator==(const Fingerprint&) const = default;
};

// FNV-1a, 64 bits: stable across builds and machines (it is stored).
std::uint64_t hash_bytes(std::string_view bytes);

// Reads up to `n` bytes from the start of `fd` into `out` (pread, so the
// file position is untouched). On an I/O error, `out` holds what was read.
core::SysResult<void> read_prefix(int fd, std::size_t n, std::string& out);

// Whether `prefix` (a file's first bytes) starts with the bytes `fp` hashed.
inline bool prefix_matches(std::string_view prefix, const Fingerprint& fp) {
  return prefix.size() >= fp.len && hash_bytes(prefix.substr(0, fp.len)) == fp.hash;
}

inline Fingerprint fingerprint_of(std::string_view prefix) {
  return Fingerprint{static_cast<std::uint32_t>(prefix.size()), hash_bytes(prefix)};
}

// A stable 64-bit id of a source, for events (Elasticsearch _id and the like).
std::uint64_t source_id(const FileId& id, const Fingerprint& fp);

}  // namespace bifrost::inputs::file
