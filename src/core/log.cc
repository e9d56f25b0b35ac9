#include "core/log.h"

#include <unistd.h>

#include <atomic>

#include "core/json.h"
#include "core/time.h"

namespace bifrost::core::log {

namespace {
std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};

const char* name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}
}  // namespace

void configure(Level level, Format format) {
  g_level.store(level);
  g_format.store(format);
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view component, std::string_view message) {
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
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t w = ::write(2, line.data() + off, line.size() - off);
    if (w <= 0) break;
    off += static_cast<std::size_t>(w);
  }
}

}  // namespace bifrost::core::log
