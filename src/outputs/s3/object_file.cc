#include "outputs/s3/object_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/io.h"
#include "delivery/private_dir.h"

namespace bifrost::outputs::s3 {

namespace {
constexpr std::size_t kOut = 128 * 1024;

core::Unexpected<Error> io(const std::string& what, const std::string& path, int err) {
  return core::fail(Errc::kIo, what + " " + path + ": " + std::strerror(err));
}
}  // namespace

core::Result<std::unique_ptr<ObjectFile>, Error> ObjectFile::create(const std::string& path, Compression c) {
  const int fd = delivery::open_private_file(path, O_WRONLY | O_CREAT | O_TRUNC);
  if (fd < 0) return io("create", path, errno);
  std::unique_ptr<ObjectFile> f(new ObjectFile(path, fd, c));
  if (c == Compression::kGzip) {
    auto* z = new z_stream{};
    // 15 + 16: a gzip member (header and CRC), which gunzip and Hive read.
    if (deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      delete z;
      return core::fail(Errc::kIo, "gzip: cannot start a stream");
    }
    f->z_ = z;
  } else if (c == Compression::kZstd) {
    ZSTD_CCtx* z = ZSTD_createCCtx();
    if (!z) return core::fail(Errc::kIo, "zstd: cannot start a stream");
    ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
    // A 1 MiB window: an open object's compressor stays near 1.3 MiB.
    ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, 20);
    ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
    f->z_ = z;
  }
  return f;
}

ObjectFile::ObjectFile(std::string path, int fd, Compression c)
    : path_(std::move(path)), fd_(fd), compression_(c), out_(new char[kOut]) {}

ObjectFile::~ObjectFile() {
  if (compression_ == Compression::kGzip && z_) {
    deflateEnd(static_cast<z_stream*>(z_));
    delete static_cast<z_stream*>(z_);
  } else if (compression_ == Compression::kZstd && z_) {
    ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(z_));
  }
  if (fd_ >= 0) ::close(fd_);
}

core::Result<void, Error> ObjectFile::drain() {
  std::size_t sent = 0;
  auto w = core::write_all(fd_, {out_.get(), out_used_}, &sent);
  // What went out is on its way whatever happened after: keep only the rest.
  std::memmove(out_.get(), out_.get() + sent, out_used_ - sent);
  out_used_ -= sent;
  written_ += sent;
  if (!w) return io("write", path_, w.error().code);
  return {};
}

core::Result<void, Error> ObjectFile::compress(std::string_view in, bool end, std::size_t* taken) {
  std::size_t used = 0;  // of `in`
  core::Result<void, Error> result;
  for (;;) {
    if (out_used_ == kOut) {
      if (result = drain(); !result) break;
    }
    if (compression_ == Compression::kNone) {
      const std::size_t n = std::min(in.size() - used, kOut - out_used_);
      if (n > 0) std::memcpy(out_.get() + out_used_, in.data() + used, n);  // finish()'s `in` is empty, data() null
      out_used_ += n;
      used += n;
      if (used == in.size()) {
        ended_ = end;
        break;
      }
    } else if (compression_ == Compression::kGzip) {
      auto* z = static_cast<z_stream*>(z_);
      z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + used));
      z->avail_in = static_cast<uInt>(in.size() - used);
      z->next_out = reinterpret_cast<Bytef*>(out_.get() + out_used_);
      z->avail_out = static_cast<uInt>(kOut - out_used_);
      const int rc = deflate(z, end ? Z_FINISH : Z_NO_FLUSH);
      out_used_ = kOut - z->avail_out;
      used = in.size() - z->avail_in;
      if (rc == Z_STREAM_ERROR) {
        result = core::fail(Errc::kIo, "gzip: stream error");
        break;
      }
      if (end ? rc == Z_STREAM_END : (used == in.size() && out_used_ < kOut)) {
        ended_ = end;
        break;
      }
    } else {
      auto* z = static_cast<ZSTD_CCtx*>(z_);
      ZSTD_inBuffer input{in.data() + used, in.size() - used, 0};
      ZSTD_outBuffer output{out_.get(), kOut, out_used_};
      const std::size_t left = ZSTD_compressStream2(z, &output, &input, end ? ZSTD_e_end : ZSTD_e_continue);
      out_used_ = output.pos;
      used += input.pos;
      if (ZSTD_isError(left)) {
        result = core::fail(Errc::kIo, std::string("zstd: ") + ZSTD_getErrorName(left));
        break;
      }
      if (end ? left == 0 : (used == in.size() && out_used_ < kOut)) {
        ended_ = end;
        break;
      }
    }
  }
  if (taken) *taken = used;
  return result;
}

core::Result<void, Error> ObjectFile::append(std::string_view bytes, std::size_t* taken) {
  return compress(bytes, false, taken);
}

core::Result<void, Error> ObjectFile::finish() {
  if (!ended_) {
    if (auto r = compress({}, true, nullptr); !r) return r;
  }
  return drain();
}

core::Result<void, Error> read_object(const std::string& path, Compression c,
                                      const std::function<void(std::string_view)>& chunk) {
  const int fd = delivery::open_private_file(path, O_RDONLY);
  if (fd < 0) return io("open", path, errno);
  std::unique_ptr<char[]> in(new char[kOut]), out(new char[kOut]);
  z_stream z{};
  ZSTD_DCtx* dz = nullptr;
  if (c == Compression::kGzip) inflateInit2(&z, 15 + 32);
  if (c == Compression::kZstd) dz = ZSTD_createDCtx();
  core::Result<void, Error> result;
  bool ended = c == Compression::kNone;
  for (;;) {
    const ssize_t n = ::read(fd, in.get(), kOut);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = io("read", path, errno);
      break;
    }
    if (n == 0) break;
    if (c == Compression::kNone) {
      chunk({in.get(), static_cast<std::size_t>(n)});
      continue;
    }
    if (c == Compression::kGzip) {
      z.next_in = reinterpret_cast<Bytef*>(in.get());
      z.avail_in = static_cast<uInt>(n);
      while (z.avail_in > 0) {
        z.next_out = reinterpret_cast<Bytef*>(out.get());
        z.avail_out = kOut;
        const int rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
          result = core::fail(Errc::kCorrupt, path + ": not a gzip stream");
          break;
        }
        chunk({out.get(), kOut - z.avail_out});
        if (rc == Z_STREAM_END) {
          ended = true;
          if (z.avail_in > 0) inflateReset(&z);  // another member
        } else {
          ended = false;
        }
        if (rc == Z_BUF_ERROR && z.avail_out != 0) break;
      }
    } else {
      ZSTD_inBuffer input{in.get(), static_cast<std::size_t>(n), 0};
      while (input.pos < input.size) {
        ZSTD_outBuffer output{out.get(), kOut, 0};
        const std::size_t left = ZSTD_decompressStream(dz, &output, &input);
        if (ZSTD_isError(left)) {
          result = core::fail(Errc::kCorrupt, path + ": " + ZSTD_getErrorName(left));
          break;
        }
        chunk({out.get(), output.pos});
        ended = left == 0;
      }
    }
    if (!result) break;
  }
  if (c == Compression::kZstd && result && !ended) {
    // Flush what the decoder still holds.
    for (;;) {
      ZSTD_inBuffer input{nullptr, 0, 0};
      ZSTD_outBuffer output{out.get(), kOut, 0};
      const std::size_t left = ZSTD_decompressStream(dz, &output, &input);
      if (ZSTD_isError(left) || output.pos == 0) break;
      chunk({out.get(), output.pos});
    }
  }
  if (c == Compression::kGzip) inflateEnd(&z);
  if (dz) ZSTD_freeDCtx(dz);
  ::close(fd);
  if (result && !ended) return core::fail(Errc::kCorrupt, path + ": the compressed stream is cut short");
  return result;
}

}  // namespace bifrost::outputs::s3
