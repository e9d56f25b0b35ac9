#include "core/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace bifrost::core::secrets {

namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::string> items;  // longest first: a secret holding another is masked whole
};

Registry& registry() {
  static Registry r;
  return r;
}

std::atomic<bool> g_any{false};

}  // namespace

void add(std::string_view secret) {
  if (secret.size() < kMinMasked) return;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (std::find(r.items.begin(), r.items.end(), secret) != r.items.end()) return;
  r.items.emplace_back(secret);
  std::stable_sort(r.items.begin(), r.items.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  g_any.store(true, std::memory_order_release);
}

bool any() { return g_any.load(std::memory_order_acquire); }

void mask(std::string& text) {
  if (!any()) return;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (const std::string& s : r.items) {
    for (std::size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + kMask.size())) {
      text.replace(at, s.size(), kMask);
    }
  }
}

std::string masked(std::string_view text) {
  std::string out(text);
  mask(out);
  return out;
}

void clear_for_tests() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.items.clear();
  g_any.store(false);
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  out.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < (1u << 20)) out.append(buf, static_cast<std::size_t>(n));
  const int saved = errno;
  ::close(fd);
  if (n < 0) {
    error = "cannot read " + path + ": " + std::strerror(saved);
    return false;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty()) {
    error = path + " is empty";
    return false;
  }
  add(out);
  return true;
}

bool readable_by_others(const std::string& path, unsigned& mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  mode = st.st_mode & 07777;
  return (st.st_mode & S_IROTH) != 0;
}

bool constant_time_equal(std::string_view given, std::string_view expected) {
  // volatile: the compiler may not end the loop at the first difference.
  volatile unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff = diff | (g ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace bifrost::core::secrets
