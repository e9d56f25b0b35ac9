#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <unordered_map>

#include "core/json.h"
#include "core/secrets.h"
#include "core/time.h"

namespace bifrost::core::log {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};

struct Suppressed {
  Clock::time_point window_start;
  std::uint64_t count = 0;
  Level level = Level::kWarn;
  std::string component;
  std::string last_message;
};

struct State {
  std::mutex mu;
  std::chrono::nanoseconds interval{std::chrono::seconds(10)};
  std::unordered_map<std::string, Suppressed> seen;
  std::function<void(std::string_view)> sink;
  std::function<Clock::time_point()> clock;
};

State& state() {
  static State s;
  return s;
}

const char* name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void emit(Level level, std::string_view component, std::string_view message, const State& s) {
  char ts[kRfc3339NsLen];
  format_rfc3339_ns(now_ns(), ts);
  std::string line;
  if (g_format.load(std::memory_order_relaxed) == Format::kJson) {
    line.append("{\"time\":\"").append(ts, kRfc3339NsLen).append("\",\"level\":\"").append(name(level)).append("\"");
    if (!component.empty()) {
      line.append(",\"component\":");
      append_json_string(line, component);
    }
    line.append(",\"message\":");
    append_json_string(line, message);
    line.append("}\n");
  } else {
    line.append(ts, kRfc3339NsLen).append(" ");
    std::string lvl = name(level);
    for (char& c : lvl) c = static_cast<char>(c - 32);
    line.append(lvl).append(lvl.size() == 4 ? "  " : " ");
    if (!component.empty()) line.append(component).append(": ");
    line.append(message).append("\n");
  }
  if (s.sink) {
    s.sink(line);
    return;
  }
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t w = ::write(2, line.data() + off, line.size() - off);
    if (w <= 0) break;
    off += static_cast<std::size_t>(w);
  }
}

std::string kind_key(Level level, std::string_view component, std::string_view message) {
  std::string key;
  key.reserve(component.size() + message.size() + 4);
  key.push_back(static_cast<char>('0' + static_cast<int>(level)));
  key.append(component).push_back('|');
  // A run of digits counts as one '#': "retrying 7 events" ~ "retrying 4096 events".
  for (char c : message.substr(0, 200)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) key.push_back(c);
    else if (key.back() != '#') key.push_back('#');
  }
  return key;
}

std::string with_count(const std::string& message, std::uint64_t count, std::chrono::nanoseconds interval) {
  return message + " (repeated " + std::to_string(count) + " more time" + (count == 1 ? "" : "s") + " in the last " +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(interval).count()) + "s)";
}

}  // namespace

void configure(Level level, Format format) {
  g_level.store(level);
  g_format.store(format);
}

void set_rate_limit(std::chrono::nanoseconds interval) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.interval = interval;
}

void set_sink(std::function<void(std::string_view)> sink) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.sink = std::move(sink);
}

void set_clock(std::function<Clock::time_point()> clock) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.clock = std::move(clock);
  s.seen.clear();
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view component, std::string_view text) {
  // No secret reaches the log, whoever wrote the line (librdkafka's debug
  // lines included).
  std::string masked;
  std::string_view message = text;
  if (secrets::any()) {
    masked = secrets::masked(text);
    message = masked;
  }
  State& s = state();
  std::lock_guard lock(s.mu);
  if (level < Level::kWarn || s.interval.count() == 0) {
    emit(level, component, message, s);
    return;
  }
  Clock::time_point now = s.clock ? s.clock() : Clock::now();
  auto [it, fresh] = s.seen.try_emplace(kind_key(level, component, message));
  Suppressed& e = it->second;
  if (!fresh && now - e.window_start < s.interval) {
    ++e.count;
    e.last_message = std::string(message);
    return;
  }
  std::uint64_t before = e.count;
  e = Suppressed{now, 0, level, std::string(component), std::string(message)};
  emit(level, component, before ? with_count(std::string(message), before, s.interval) : std::string(message), s);
  if (s.seen.size() > 1024) {  // forget old kinds so the map stays small
    for (auto i = s.seen.begin(); i != s.seen.end();) {
      i = (now - i->second.window_start > s.interval && i->second.count == 0) ? s.seen.erase(i) : std::next(i);
    }
  }
}

void flush_suppressed(bool all) {
  State& s = state();
  std::lock_guard lock(s.mu);
  Clock::time_point now = s.clock ? s.clock() : Clock::now();
  for (auto& [key, e] : s.seen) {
    if (e.count == 0 || (!all && now - e.window_start < s.interval)) continue;
    emit(e.level, e.component, with_count(e.last_message, e.count, s.interval), s);
    e.count = 0;
    e.window_start = now;
  }
}

}  // namespace bifrost::core::log
