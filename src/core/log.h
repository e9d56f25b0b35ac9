// bifrost's own log, to stderr: one line per record, as text or JSON.
// Thread-safe; a record is written with one write(2) so lines never mix.
// Every secret registered in core/secrets.h is masked (***) in every record.
//
// Repeated warnings and errors are rate-limited: the first of a kind is
// written, the same kind again within the interval is counted, and the
// count is written with the next one after the interval (or by
// flush_suppressed()). "The same kind" is the same level, component and
// message once digits are ignored, so "retrying 12 events" and "retrying
// 40 events" count as one.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/strings.h"

namespace bifrost::core::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

void configure(Level level, Format format);
// Zero turns rate limiting off.
void set_rate_limit(std::chrono::nanoseconds interval);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);
// Writes the counts of suppressed records whose interval has passed (or all).
void flush_suppressed(bool all = false);

// For tests: where records go (default: stderr), and the clock used for
// rate limiting (default: steady_clock).
void set_sink(std::function<void(std::string_view line)> sink);
void set_clock(std::function<std::chrono::steady_clock::time_point()> clock);

template <class... A>
void debug(std::string_view component, const A&... a) {
  if (enabled(Level::kDebug)) write(Level::kDebug, component, cat(a...));
}
template <class... A>
void info(std::string_view component, const A&... a) {
  if (enabled(Level::kInfo)) write(Level::kInfo, component, cat(a...));
}
template <class... A>
void warn(std::string_view component, const A&... a) {
  if (enabled(Level::kWarn)) write(Level::kWarn, component, cat(a...));
}
template <class... A>
void error(std::string_view component, const A&... a) {
  write(Level::kError, component, cat(a...));
}

}  // namespace bifrost::core::log
