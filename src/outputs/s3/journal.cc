#include "outputs/s3/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/io.h"
#include "core/time.h"
#include "outputs/s3/request.h"

namespace bifrost::outputs::s3 {

namespace {

core::Unexpected<Error> io(const std::string& what, const std::string& path, int err) {
  return core::fail(Errc::kIo, "journal: " + what + " " + path + ": " + std::strerror(err));
}

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
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

bool number(std::string_view s, std::uint64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string Journal::key(std::string_view source, std::string_view prefix) {
  std::string k(source);
  k.push_back('\0');
  k.append(prefix);
  return k;
}

core::Result<std::unique_ptr<Journal>, Error> Journal::open(const std::string& path) {
  std::unique_ptr<Journal> j(new Journal(path));
  std::ifstream in(path);
  std::string line;
  const std::int64_t now = core::now_ns();
  // Lines before a torn or unreadable one still count; that one is skipped.
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no '\n': torn
    auto f = fields(line);
    std::uint64_t a = 0, b = 0;
    if (f.size() == 5 && f[0] == "C" && number(f[1], a) && number(f[2], b)) {
      PartitionLog& p = j->logs_[key(decode(f[3]), decode(f[4]))];
      p.cuts.push_back({a, b});
      p.touched_ns = now;
    } else if (f.size() == 4 && f[0] == "D" && number(f[1], a)) {
      PartitionLog& p = j->logs_[key(decode(f[2]), decode(f[3]))];
      p.done = a;
      while (!p.cuts.empty() && p.cuts.front().last <= a) p.cuts.pop_front();
      p.touched_ns = now;
    }
  }
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
  auto it = logs_.find(scratch_);
  return it == logs_.end() ? nullptr : &it->second;
}

core::Result<void, Error> Journal::append(const std::string& line) {
  if (auto w = core::write_all(fd_, line); !w) return io("write", path_, w.error().code);
  if (::fdatasync(fd_) != 0) return io("fdatasync", path_, errno);
  bytes_ += line.size();
  return {};
}

core::Result<void, Error> Journal::cut(std::string_view source, std::string_view prefix, Cut c) {
  std::string line = "C " + std::to_string(c.first) + " " + std::to_string(c.last) + " " + uri_encode(source, false) +
                     " " + uri_encode(prefix, false) + "\n";
  if (auto r = append(line); !r) return r;
  PartitionLog& p = logs_[key(source, prefix)];
  p.cuts.push_back(c);
  p.touched_ns = core::now_ns();
  return {};
}

core::Result<void, Error> Journal::done(std::string_view source, std::string_view prefix, std::uint64_t last) {
  std::string line =
      "D " + std::to_string(last) + " " + uri_encode(source, false) + " " + uri_encode(prefix, false) + "\n";
  if (auto r = append(line); !r) return r;
  PartitionLog& p = logs_[key(source, prefix)];
  p.done = last;
  while (!p.cuts.empty() && p.cuts.front().last <= last) p.cuts.pop_front();
  p.touched_ns = core::now_ns();
  return {};
}

core::Result<void, Error> Journal::compact(
    const std::function<bool(std::string_view source, const PartitionLog&)>& drop) {
  std::string text;
  for (auto it = logs_.begin(); it != logs_.end();) {
    const std::size_t nul = it->first.find('\0');
    const std::string_view source = std::string_view(it->first).substr(0, nul);
    const std::string_view prefix = std::string_view(it->first).substr(nul + 1);
    if (it->second.cuts.empty() && drop(source, it->second)) {
      it = logs_.erase(it);
      continue;
    }
    const std::string s = uri_encode(source, false), p = uri_encode(prefix, false);
    if (it->second.done) text += "D " + std::to_string(*it->second.done) + " " + s + " " + p + "\n";
    for (const Cut& c : it->second.cuts) {
      text += "C " + std::to_string(c.first) + " " + std::to_string(c.last) + " " + s + " " + p + "\n";
    }
    ++it;
  }
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return io("create", tmp, errno);
  int err = 0;
  if (auto w = core::write_all(fd, text); !w) err = w.error().code;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(tmp.c_str(), path_.c_str()) != 0) err = errno;
  if (err != 0) return io("rewrite", path_, err);
  const std::string dir = path_.substr(0, path_.rfind('/'));
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return io("open", path_, errno);
  bytes_ = text.size();
  return {};
}

}  // namespace bifrost::outputs::s3
