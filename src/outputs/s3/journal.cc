#include "outputs/s3/journal.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "core/io.h"
#include "core/time.h"
#include "delivery/private_dir.h"
#include "outputs/s3/request.h"

namespace bifrost::outputs::s3 {

namespace {

core::Unexpected<Error> io(const std::string& what, const std::string& path, int err) {
  return core::fail(Errc::kIo, "journal: " + what + " " + path + ": " + std::strerror(err));
}

std::uint32_t crc_of(std::string_view s) {
  return static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// `body` with its CRC and newline: one record.
std::string record(std::string body) {
  char crc[10];
  std::snprintf(crc, sizeof crc, " %08x", crc_of(body));
  body.append(crc).push_back('\n');
  return body;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding, strict: a '%' without two hex digits after it fails.
bool decode(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool number(std::string_view s, std::uint64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= line.size()) {
    std::size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

void add_cut(PartitionLog& p, Cut c) {
  if (p.done && c.last <= *p.done) return;  // settled already
  auto at =
      std::lower_bound(p.cuts.begin(), p.cuts.end(), c, [](const Cut& a, const Cut& b) { return a.first < b.first; });
  if (at != p.cuts.end() && *at == c) return;  // the same record twice
  p.cuts.insert(at, c);
}

void set_done(PartitionLog& p, std::uint64_t last) {
  if (p.done && *p.done >= last) return;
  p.done = last;
  std::erase_if(p.cuts, [&](const Cut& c) { return c.last <= last; });
}

std::string encode(std::string_view s) { return uri_encode(s, false); }

}  // namespace

std::string journal_key(std::string_view source, std::string_view prefix) {
  std::string k(source);
  k.push_back('\0');
  k.append(prefix);
  return k;
}

JournalState parse_journal(std::string_view text, std::int64_t now_ns) {
  JournalState s;
  std::string a, b;
  std::size_t pos = 0;
  for (std::size_t nl; (nl = text.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
    const std::string_view line = text.substr(pos, nl - pos);
    const std::size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos || line.size() - sp != 9) continue;
    const std::string_view body = line.substr(0, sp);
    std::uint32_t crc = 0;
    auto [p, ec] = std::from_chars(line.data() + sp + 1, line.data() + line.size(), crc, 16);
    if (ec != std::errc() || p != line.data() + line.size() || crc != crc_of(body)) continue;
    const auto f = fields(body);
    std::uint64_t x = 0, y = 0;
    if (f[0] == "C" && f.size() == 5 && number(f[1], x) && number(f[2], y) && x <= y && decode(f[3], a) &&
        decode(f[4], b) && a.find('\0') == std::string::npos) {
      PartitionLog& log = s.logs[journal_key(a, b)];
      add_cut(log, {x, y});
      log.touched_ns = now_ns;
    } else if (f[0] == "D" && f.size() == 4 && number(f[1], x) && decode(f[2], a) && decode(f[3], b) &&
               a.find('\0') == std::string::npos) {
      PartitionLog& log = s.logs[journal_key(a, b)];
      set_done(log, x);
      log.touched_ns = now_ns;
    } else if (f[0] == "U" && f.size() == 3 && decode(f[1], a) && decode(f[2], b) && !a.empty()) {
      s.uploads[a] = b;
    } else if (f[0] == "E" && f.size() == 2 && decode(f[1], a)) {
      s.uploads.erase(a);
    }
  }
  return s;
}

std::string render_journal(const JournalState& state) {
  std::string text;
  for (const auto& [key, log] : state.logs) {
    const std::size_t nul = key.find('\0');
    const std::string s = encode(std::string_view(key).substr(0, nul));
    const std::string p = encode(std::string_view(key).substr(nul + 1));
    if (log.done) text += record("D " + std::to_string(*log.done) + " " + s + " " + p);
    for (const Cut& c : log.cuts) {
      text += record("C " + std::to_string(c.first) + " " + std::to_string(c.last) + " " + s + " " + p);
    }
  }
  for (const auto& [id, key] : state.uploads) text += record("U " + encode(id) + " " + encode(key));
  return text;
}

core::Result<std::unique_ptr<Journal>, Error> Journal::open(const std::string& path) {
  std::unique_ptr<Journal> j(new Journal(path));
  std::string text;
  if (const int fd = delivery::open_private_file(path, O_RDONLY); fd >= 0) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return io("read", path, err);
      }
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
  } else if (errno != ENOENT) {
    return io("open", path, errno);
  }
  j->state_ = parse_journal(text, core::now_ns());
  if (auto r = j->compact([](std::string_view, const PartitionLog&) { return false; }); !r) {
    return core::Unexpected<Error>{r.error()};
  }
  return j;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

const PartitionLog* Journal::find(std::string_view source, std::string_view prefix) const {
  scratch_.assign(source);
  scratch_.push_back('\0');
  scratch_.append(prefix);
  auto it = state_.logs.find(scratch_);
  return it == state_.logs.end() ? nullptr : &it->second;
}

core::Result<void, Error> Journal::append(std::string line) {
  if (fd_ < 0) {
    fd_ = delivery::open_private_file(path_, O_WRONLY | O_APPEND);
    if (fd_ < 0) return io("open", path_, errno);
  }
  if (torn_) line.insert(line.begin(), '\n');
  int err = 0;
  const char* what = "write";
  if (auto w = core::write_all(fd_, line); !w) {
    err = w.error().code;
  } else if (::fdatasync(fd_) != 0) {
    err = errno;
    what = "fdatasync";
  }
  if (err == 0) {
    bytes_ += line.size();
    torn_ = false;
    return {};
  }
  // Cut off what went out (shrinking works on a full disk); if that fails
  // too, the next record starts on a line of its own, and the CRC sets the
  // torn one aside.
  if (::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0) torn_ = true;
  return io(what, path_, err);
}

core::Result<void, Error> Journal::cut(std::string_view source, std::string_view prefix, Cut c) {
  if (auto r = append(record("C " + std::to_string(c.first) + " " + std::to_string(c.last) + " " + encode(source) +
                             " " + encode(prefix)));
      !r) {
    return r;
  }
  PartitionLog& p = state_.logs[journal_key(source, prefix)];
  add_cut(p, c);
  p.touched_ns = core::now_ns();
  return {};
}

core::Result<void, Error> Journal::done(std::string_view source, std::string_view prefix, std::uint64_t last) {
  if (auto r = append(record("D " + std::to_string(last) + " " + encode(source) + " " + encode(prefix))); !r) return r;
  PartitionLog& p = state_.logs[journal_key(source, prefix)];
  set_done(p, last);
  p.touched_ns = core::now_ns();
  return {};
}

core::Result<void, Error> Journal::upload_begun(std::string_view upload_id, std::string_view key) {
  if (auto r = append(record("U " + encode(upload_id) + " " + encode(key))); !r) return r;
  state_.uploads[std::string(upload_id)] = key;
  return {};
}

core::Result<void, Error> Journal::upload_ended(std::string_view upload_id) {
  if (auto r = append(record("E " + encode(upload_id))); !r) return r;
  if (auto it = state_.uploads.find(upload_id); it != state_.uploads.end()) state_.uploads.erase(it);
  return {};
}

core::Result<void, Error> Journal::compact(
    const std::function<bool(std::string_view source, const PartitionLog&)>& drop) {
  for (auto it = state_.logs.begin(); it != state_.logs.end();) {
    const std::string_view source = std::string_view(it->first).substr(0, it->first.find('\0'));
    if (it->second.cuts.empty() && drop(source, it->second)) {
      it = state_.logs.erase(it);
    } else {
      ++it;
    }
  }
  const std::string text = render_journal(state_);
  const std::string tmp = path_ + ".tmp";
  const int fd = delivery::open_private_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (fd < 0) return io("create", tmp, errno);
  int err = 0;
  if (auto w = core::write_all(fd, text); !w) err = w.error().code;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(tmp.c_str(), path_.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return io("rewrite", path_, err);
  }
  const std::string dir = path_.substr(0, path_.rfind('/'));
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = delivery::open_private_file(path_, O_WRONLY | O_APPEND);  // -1: append() opens it again
  bytes_ = text.size();
  torn_ = false;
  if (fd_ < 0) return io("open", path_, errno);
  return {};
}

}  // namespace bifrost::outputs::s3
