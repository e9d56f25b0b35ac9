#include "app/top.h"

#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/api_client.h"
#include "app/cli.h"
#include "app/top_table.h"

namespace bifrost::app {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kTopHelp =
    "usage: bifrost top [--once] [--interval SECONDS] [--sort COLUMN] [--api [https://]HOST:PORT | -c PATH]\n"
    "                   [--token TOKEN] [--ca-file F]\n"
    "\n"
    "A live view of the running daemon, from its API (/metrics), refreshed every second:\n"
    "one row per pipeline and component.\n"
    "  IN/S OUT/S   events in and out per second      IN OUT   events in and out in all\n"
    "  DROPPED      dropped on purpose                ERRORS   events to the failed queue\n"
    "  RETRIES      events an output retried          QUEUE    events queued for an output\n"
    "  FULL%        time an output's queue was full (an input: time it was held back)\n"
    "  BUFFER       bytes in the disk buffer          FAILED-Q bytes in the failed queue\n"
    "  LAG          file input: bytes not yet acknowledged; Kafka input: records behind\n"
    "Keys: q quit, s / S (or right / left) sort by the next / previous column, r reverse.\n"
    "  --once         print one table and exit (also when stdout is not a terminal)\n"
    "  --interval S   seconds between refreshes (default 1; --once measures rates over it)\n"
    "  --sort COLUMN  sort by COLUMN (such as IN/S or LAG) instead of the pipelines' order\n"
    "  --api ADDR     the daemon's api.listen (default 127.0.0.1:9598)\n"
    "  -c PATH        read api.listen and the token from the daemon's config\n"
    "  --token TOKEN  the API token (default: $BIFROST_API_TOKEN, or from -c)\n"
    "  --ca-file F    HTTPS: verify the API's certificate with F (default: $BIFROST_API_CA_FILE;\n"
    "                 with -c, the api.tls certificate itself; else the system's CAs)\n";

volatile sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

class Scraper {
 public:
  Scraper(std::unique_ptr<httplib::ClientImpl> client, std::string token)
      : client_(std::move(client)), token_(std::move(token)) {
    client_->set_connection_timeout(std::chrono::seconds(2));
    client_->set_read_timeout(std::chrono::seconds(5));
  }

  // The samples of /metrics; nothing (and why in `error`) when it fails.
  std::optional<std::vector<Sample>> scrape(std::string& error) {
    httplib::Headers headers;
    if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
    auto res = client_->Get("/metrics", headers);
    if (!res) {
      error = "cannot reach the API: " + api_error(res, *client_);
      return std::nullopt;
    }
    if (res->status != 200) {
      error = "the API answered " + std::to_string(res->status) + (res->status == 401 ? " (give the token)" : "");
      return std::nullopt;
    }
    return parse_prometheus_text(res->body);
  }

 private:
  std::unique_ptr<httplib::ClientImpl> client_;
  std::string token_;
};

bool write_all(const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t w = ::write(1, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<std::size_t>(w);
  }
  return true;
}

// The terminal in raw mode (keys one by one, no echo), alternate screen,
// hidden cursor; put back as it was when it goes.
class Screen {
 public:
  Screen() {
    ::tcgetattr(0, &saved_);
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(0, TCSANOW, &raw);
    write_all("\x1b[?1049h\x1b[?25l");
  }
  ~Screen() {
    write_all("\x1b[?25h\x1b[?1049l");
    ::tcsetattr(0, TCSANOW, &saved_);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

 private:
  termios saved_{};
};

void terminal_size(std::size_t& cols, std::size_t& lines) {
  winsize ws{};
  if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    cols = ws.ws_col;
    lines = ws.ws_row;
  }
}

std::string title(const ApiTarget& t, double interval, int sort, bool reverse) {
  char every[32];
  std::snprintf(every, sizeof every, "%g", interval);
  std::string s = "bifrost top - " + t.address + " - every " + every + "s - sorted by ";
  s += sort < 0 ? std::string("pipeline order") : top::column_names()[static_cast<std::size_t>(sort)];
  if (reverse) s += " (reversed)";
  return s + " - q quit, s/S sort, r reverse";
}

int once(Scraper& scraper, double interval, int sort, bool reverse) {
  std::string error;
  auto first = scraper.scrape(error);
  if (first) {
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  }
  auto second = first ? scraper.scrape(error) : std::nullopt;
  if (!second) {
    std::fprintf(stderr, "bifrost top: %s\n", error.c_str());
    return kExitFatal;
  }
  auto rows = top::rows(*second, *first, interval);
  top::sort_rows(rows, sort, reverse);
  std::size_t cols = 4096, lines = 0;
  if (::isatty(1)) terminal_size(cols, lines);
  std::string out;
  for (const std::string& line : top::render(rows, cols, sort)) out += line + "\n";
  return write_all(out) ? kExitOk : kExitFatal;
}

int live(Scraper& scraper, const ApiTarget& target, double interval, int sort, bool reverse) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  Screen screen;
  const int columns = static_cast<int>(top::column_names().size());
  std::vector<Sample> before;
  Clock::time_point before_at{};
  std::vector<std::string> table;
  std::string error;
  std::vector<top::Row> rows;
  auto next = Clock::now();
  while (!g_stop) {
    const auto now = Clock::now();
    if (now >= next) {
      if (auto samples = scraper.scrape(error)) {
        double seconds = before.empty() ? 0 : std::chrono::duration<double>(now - before_at).count();
        rows = top::rows(*samples, before, seconds);
        before = std::move(*samples);
        before_at = now;
        error.clear();
      }
      next = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
    }
    top::sort_rows(rows, sort, reverse);
    std::size_t cols = 80, lines = 24;
    terminal_size(cols, lines);
    std::string frame = "\x1b[H" + title(target, interval, sort, reverse).substr(0, cols) + "\x1b[K\r\n";
    frame += (error.empty() ? "" : ("\x1b[7m" + error + " (retrying)\x1b[0m").substr(0, cols + 8)) + "\x1b[K\r\n";
    std::size_t shown = 0;
    for (const std::string& line : top::render(rows, cols, sort)) {
      if (shown + 3 > lines) break;
      frame += (shown == 0 ? "\x1b[1m" + line + "\x1b[0m" : line) + "\x1b[K\r\n";
      ++shown;
    }
    frame += "\x1b[J";
    if (!write_all(frame)) break;
    // Keys until the next refresh.
    pollfd in{0, POLLIN, 0};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    if (::poll(&in, 1, static_cast<int>(std::max<long long>(wait, 0))) <= 0) continue;
    char keys[64];
    ssize_t n = ::read(0, keys, sizeof keys);
    bool quit = false;
    // Keys typed faster than a frame arrive together: take each.
    for (ssize_t i = 0; i < n && !quit; ++i) {
      char k = keys[i];
      if (k == '\x1b' && i + 2 < n && keys[i + 1] == '[') {  // an arrow key: ESC [ C
        k = keys[i + 2] == 'C' ? 's' : keys[i + 2] == 'D' ? 'S' : '\0';
        i += 2;
      }
      if (k == 'q' || k == 'Q' || k == '\x1b' || k == '\x03') quit = true;
      else if (k == 's') sort = sort + 1 >= columns ? -1 : sort + 1;
      else if (k == 'S') sort = sort <= -1 ? columns - 1 : sort - 1;
      else if (k == 'r' || k == 'R') reverse = !reverse;
    }
    if (quit) break;
  }
  return kExitOk;
}

}  // namespace

int run_top(int argc, char** argv) {
  ApiTarget target;
  bool only_once = false;
  double interval = 1;
  int sort = -1;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kTopHelp, stdout);
      return kExitOk;
    }
    if (int took = take_api_arg(target, argc, argv, i, "top"); took != 0) {
      if (took < 0) return kExitFatal;
      continue;
    }
    if (a == "--once") {
      only_once = true;
    } else if (a == "--interval" && i + 1 < argc) {
      char* end = nullptr;
      interval = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(interval >= 0.1 && interval <= 3600)) {
        std::fprintf(stderr, "bifrost top: --interval: expected seconds between 0.1 and 3600, got \"%s\"\n", argv[i]);
        return kExitFatal;
      }
    } else if (a == "--sort" && i + 1 < argc) {
      sort = top::column_named(argv[++i]);
      if (sort < 0) {
        std::string names;
        for (const auto& c : top::column_names()) names += " " + c;
        std::fprintf(stderr, "bifrost top: --sort: no column \"%s\" (columns:%s)\n", argv[i], names.c_str());
        return kExitFatal;
      }
    } else {
      std::fprintf(stderr, "bifrost top: unexpected argument \"%s\"\n", a.c_str());
      return kExitFatal;
    }
  }
  if (!resolve_api(target)) return kExitInvalidConfig;
  std::string host;
  int port = 0;
  if (!api_endpoint(target, host, port, "top")) return kExitFatal;
  auto client = api_client(target, host, port, "top");
  if (!client) return kExitFatal;
  Scraper scraper(std::move(client), target.token);
  if (only_once || !::isatty(1) || !::isatty(0)) return once(scraper, interval, sort, false);
  return live(scraper, target, interval, sort, false);
}

}  // namespace bifrost::app
