// Deterministic generator of log lines for the benchmarks: the same seed,
// size and format give the same bytes on every machine.
//
//   bifrost-gen BYTES [SEED] [nginx|json|base64|hostile|influx] > file
//
// nginx: "combined" access-log lines. json: the same requests as one JSON
// object per line. base64: each JSON object base64-encoded (URL alphabet,
// no padding), as A/B-test impression ids are. hostile: lines built to make
// a pattern with nested quantifiers, ^(?<key>(?:\w+\s?)+)=(?<value>.*)$,
// backtrack: three in four are words followed by "!=", which that pattern
// can split in exponentially many ways before it fails; the rest match.
// influx: InfluxDB line protocol as Telegraf writes it (cpu, mem, disk, net,
// system points of 100 hosts: sorted tags, i-suffixed integers, floats, ns
// times).
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

// Point `k` as Telegraf's influx serializer writes it.
int influx_line(Rng& r, std::uint64_t k, char* out, std::size_t size) {
  const unsigned host = static_cast<unsigned>(k / 5 % 100);
  const unsigned long long ts = 1'795'000'000'000'000'000ULL + k * 1'000'000ULL;
  auto pct = [&] { return static_cast<double>(r.below(1'000'000)) / 10'000.0; };
  auto big = [&] { return static_cast<unsigned long long>(r.below(1ULL << 40)); };
  switch (k % 5) {
    case 0:
      return std::snprintf(out, size,
                           "cpu,cpu=cpu%u,host=host-%03u,region=eu-west-1 usage_guest=0,usage_idle=%.4f,"
                           "usage_iowait=%.4f,usage_system=%.4f,usage_user=%.4f %llu\n",
                           static_cast<unsigned>(k / 500 % 4), host, pct(), pct(), pct(), pct(), ts);
    case 1:
      return std::snprintf(out, size,
                           "mem,host=host-%03u,region=eu-west-1 active=%llui,available=%llui,available_percent=%.4f,"
                           "buffered=%llui,cached=%llui,free=%llui,total=17179869184i,used=%llui,used_percent=%.4f "
                           "%llu\n",
                           host, big(), big(), pct(), big(), big(), big(), big(), pct(), ts);
    case 2:
      return std::snprintf(out, size,
                           "disk,device=nvme0n1p2,fstype=ext4,host=host-%03u,mode=rw,path=/var/lib,region=eu-west-1 "
                           "free=%llui,inodes_free=%llui,inodes_total=6553600i,inodes_used=%llui,total=107374182400i,"
                           "used=%llui,used_percent=%.4f %llu\n",
                           host, big(), big(), big(), big(), pct(), ts);
    case 3:
      return std::snprintf(out, size,
                           "net,host=host-%03u,interface=eth0,region=eu-west-1 bytes_recv=%llui,bytes_sent=%llui,"
                           "drop_in=0i,drop_out=0i,err_in=0i,err_out=0i,packets_recv=%llui,packets_sent=%llui %llu\n",
                           host, big(), big(), big(), big(), ts);
    default:
      return std::snprintf(out, size,
                           "system,host=host-%03u,region=eu-west-1 load1=%.2f,load15=%.2f,load5=%.2f,n_cpus=4i,"
                           "n_users=%llui,uptime=%llui,uptime_format=\"%llu days, %2llu:%02llu\" %llu\n",
                           host, pct() / 25, pct() / 25, pct() / 25, static_cast<unsigned long long>(r.below(9)),
                           big() % 10'000'000, static_cast<unsigned long long>(k % 400),
                           static_cast<unsigned long long>(k % 24), static_cast<unsigned long long>(k % 60), ts);
  }
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
  if (format != "nginx" && format != "json" && format != "base64" && format != "hostile" && format != "influx") {
    std::fprintf(stderr, "bifrost-gen: format is nginx, json, base64, hostile or influx\n");
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
  while (format == "influx" && written < target) {
    int n = influx_line(rng, second++, line, sizeof line);
    if (written + static_cast<std::uint64_t>(n) > target && written > 0) break;
    out.append(line, static_cast<std::size_t>(n));
    written += static_cast<std::uint64_t>(n);
    if (out.size() >= (1 << 20) - 1024) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  while (format != "influx" && format != "hostile" && written < target) {
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
