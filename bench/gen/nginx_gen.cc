// Deterministic generator of nginx "combined" access-log lines for the
// benchmarks: the same seed and size give the same bytes on every machine.
//
//   bifrost-gen BYTES [SEED] > file
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Rng {  // splitmix64: small, fast, fully specified
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

const char* kMethods[] = {"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD"};
const char* kPaths[] = {"/", "/index.html", "/api/v1/users", "/api/v1/orders", "/static/app.js", "/static/style.css",
                        "/images/logo.png", "/login", "/logout", "/search", "/api/v2/items", "/health"};
const int kStatus[] = {200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 500, 502, 503};
const char* kAgents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "curl/7.88.1", "Go-http-client/1.1", "python-requests/2.31.0"};
const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* kReferers[] = {"-", "https://example.com/", "https://www.google.com/", "https://example.com/search?q=shoes"};

template <std::size_t N, class T>
const T& pick(Rng& r, const T (&a)[N]) {
  return a[r.below(N)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bifrost-gen BYTES [SEED]\n");
    return 1;
  }
  std::uint64_t target = std::strtoull(argv[1], nullptr, 10);
  Rng rng{argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 42};
  std::string out;
  out.reserve(1 << 20);
  std::uint64_t written = 0;
  std::uint64_t second = 0;
  char line[1024];
  while (written < target) {
    second += rng.below(3);
    int day = 1 + static_cast<int>(second / 86400 % 28);
    int n = std::snprintf(line, sizeof line,
                          "%u.%u.%u.%u - - [%02d/%s/2024:%02d:%02d:%02d +0000] \"%s %s?id=%llu HTTP/1.1\" %d %llu "
                          "\"%s\" \"%s\"\n",
                          static_cast<unsigned>(10 + rng.below(200)), static_cast<unsigned>(rng.below(256)),
                          static_cast<unsigned>(rng.below(256)), static_cast<unsigned>(1 + rng.below(254)), day,
                          kMonths[second / (86400 * 28) % 12], static_cast<int>(second / 3600 % 24),
                          static_cast<int>(second / 60 % 60), static_cast<int>(second % 60), pick(rng, kMethods),
                          pick(rng, kPaths), static_cast<unsigned long long>(rng.below(100000)), pick(rng, kStatus),
                          static_cast<unsigned long long>(rng.below(50000)), pick(rng, kReferers), pick(rng, kAgents));
    if (written + static_cast<std::uint64_t>(n) > target && written > 0) break;
    out.append(line, static_cast<std::size_t>(n));
    written += static_cast<std::uint64_t>(n);
    if (out.size() >= (1 << 20) - 1024) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
