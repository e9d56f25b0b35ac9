// Deterministic generator of log lines for the benchmarks: the same seed,
// size and format give the same bytes on every machine.
//
//   bifrost-gen BYTES [SEED] [nginx|json|base64|hostile] > file
//
// nginx: "combined" access-log lines. json: the same requests as one JSON
// object per line. base64: each JSON object base64-encoded (URL alphabet,
// no padding), as A/B-test impression ids are. hostile: lines built to make
// a pattern with nested quantifiers, ^(?<key>(?:\w+\s?)+)=(?<value>.*)$,
// backtrack: three in four are words followed by "!=", which that pattern
// can split in exponentially many ways before it fails; the rest match.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

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
const char* kPaths[] = {"/",
                        "/index.html",
                        "/api/v1/users",
                        "/api/v1/orders",
                        "/static/app.js",
                        "/static/style.css",
                        "/images/logo.png",
                        "/login",
                        "/logout",
                        "/search",
                        "/api/v2/items",
                        "/health"};
const int kStatus[] = {200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 500, 502, 503};
const char* kAgents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "curl/7.88.1",
    "Go-http-client/1.1",
    "python-requests/2.31.0"};
const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* kReferers[] = {"-", "https://example.com/", "https://www.google.com/",
                           "https://example.com/search?q=shoes"};

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
  std::string format = argc > 3 ? argv[3] : "nginx";
  if (format != "nginx" && format != "json" && format != "base64" && format != "hostile") {
    std::fprintf(stderr, "bifrost-gen: format is nginx, json, base64 or hostile\n");
    return 1;
  }
  std::string out;
  out.reserve(1 << 20);
  std::uint64_t written = 0;
  std::uint64_t second = 0;
  char line[1024];
  while (written < target && format == "hostile") {
    static const char* kWords[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
    std::string l;
    const std::uint64_t words = 16 + rng.below(16);
    for (std::uint64_t w = 0; w < words; ++w) l += std::string(w ? " " : "") + pick(rng, kWords);
    l += rng.below(4) == 0 ? "=" : " !=";
    l += " value " + std::to_string(rng.below(100000)) + "\n";
    if (written + l.size() > target && written > 0) break;
    out.append(l);
    written += l.size();
    if (out.size() >= (1 << 20) - 1024) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  while (written < target) {
    second += rng.below(3);
    int day = 1 + static_cast<int>(second / 86400 % 28);
    const char* fmt =
        format == "nginx"
            ? "%u.%u.%u.%u - - [%02d/%s/2024:%02d:%02d:%02d +0000] \"%s %s?id=%llu HTTP/1.1\" %d %llu \"%s\" \"%s\"\n"
            : "{\"client\":\"%u.%u.%u.%u\",\"time\":\"%02d/%s/2024:%02d:%02d:%02d "
              "+0000\",\"method\":\"%s\",\"path\":\"%s\","
              "\"id\":%llu,\"status\":%d,\"bytes\":%llu,\"referer\":\"%s\",\"agent\":\"%s\",\"ok\":true,\"ratio\":0.25}"
              "\n";
    int n = std::snprintf(line, sizeof line, fmt, static_cast<unsigned>(10 + rng.below(200)),
                          static_cast<unsigned>(rng.below(256)), static_cast<unsigned>(rng.below(256)),
                          static_cast<unsigned>(1 + rng.below(254)), day, kMonths[second / (86400 * 28) % 12],
                          static_cast<int>(second / 3600 % 24), static_cast<int>(second / 60 % 60),
                          static_cast<int>(second % 60), pick(rng, kMethods), pick(rng, kPaths),
                          static_cast<unsigned long long>(rng.below(100000)), pick(rng, kStatus),
                          static_cast<unsigned long long>(rng.below(50000)), pick(rng, kReferers), pick(rng, kAgents));
    std::string_view text(line, static_cast<std::size_t>(n));
    std::string encoded;
    if (format == "base64") {
      static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      std::string_view body = text.substr(0, text.size() - 1);  // without the newline
      for (std::size_t i = 0; i < body.size(); i += 3) {
        std::uint32_t v = static_cast<unsigned char>(body[i]) << 16;
        if (i + 1 < body.size()) v |= static_cast<unsigned char>(body[i + 1]) << 8;
        if (i + 2 < body.size()) v |= static_cast<unsigned char>(body[i + 2]);
        encoded += kAlphabet[v >> 18];
        encoded += kAlphabet[(v >> 12) & 63];
        if (i + 1 < body.size()) encoded += kAlphabet[(v >> 6) & 63];
        if (i + 2 < body.size()) encoded += kAlphabet[v & 63];
      }
      encoded += '\n';
      text = encoded;
    }
    if (written + text.size() > target && written > 0) break;
    out.append(text);
    written += text.size();
    if (out.size() >= (1 << 20) - 1024) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
