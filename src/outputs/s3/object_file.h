// One object filling on disk: the encoded events go through the object's
// compressor (a gzip member or a zstd frame, or none) into a staging file,
// 128 KiB at a time, so an open object costs its compressor's state and a
// buffer, whatever its size. A write that fails leaves the stream whole
// (the bytes not written stay in the buffer), so the caller can try again.
// Not fsynced: an object is acknowledged only once uploaded, and after a
// crash its events are read again and the object rebuilt (journal.h), so
// a staging file never outlives its process.
//
// Threads: the output's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "outputs/s3/s3_output.h"

namespace bifrost::outputs::s3 {

enum class Errc : std::uint8_t {
  kIo,       // the staging file cannot be written or read (errno in the message)
  kCorrupt,  // a staging file that does not decompress
};
using Error = core::Error<Errc>;

class ObjectFile {
 public:
  // Creates (truncates) `path`.
  static core::Result<std::unique_ptr<ObjectFile>, Error> create(const std::string& path, Compression c);
  ~ObjectFile();
  ObjectFile(const ObjectFile&) = delete;
  ObjectFile& operator=(const ObjectFile&) = delete;

  // Compresses `bytes` into the file. A failed write (disk full, I/O
  // error) loses nothing and breaks nothing: `*taken` says how much of
  // `bytes` went in, what the compressor made of it waits in the buffer,
  // and the rest is appended again once the disk takes writes.
  core::Result<void, Error> append(std::string_view bytes, std::size_t* taken);
  // Ends the stream and writes what is left; the file is then complete.
  // After a failure, call it again.
  core::Result<void, Error> finish();
  // Bytes on disk (or about to be: the buffer).
  std::uint64_t disk_bytes() const { return written_ + out_used_; }
  const std::string& path() const { return path_; }

 private:
  ObjectFile(std::string path, int fd, Compression c);
  core::Result<void, Error> drain();
  // Feeds `in` (or the end of the stream) to the compressor, writing out
  // the buffer whenever it is full; `*taken`: how much of `in` went in.
  core::Result<void, Error> compress(std::string_view in, bool end, std::size_t* taken);

  std::string path_;
  int fd_;
  Compression compression_;
  void* z_ = nullptr;  // z_stream or ZSTD_CCtx
  std::unique_ptr<char[]> out_;
  std::size_t out_used_ = 0;
  std::uint64_t written_ = 0;
  bool ended_ = false;  // the compressor made its last bytes (they may wait in the buffer)
};

// Reads a finished staging file back, decompressed, in chunks handed to
// `chunk` (for parking an object's events when the server refuses it).
core::Result<void, Error> read_object(const std::string& path, Compression c,
                                      const std::function<void(std::string_view)>& chunk);

}  // namespace bifrost::outputs::s3
