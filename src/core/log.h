// bifrost's own log, to stderr: one line per record, as text or JSON.
// Thread-safe; a record is written with one write(2) so lines never mix.
#pragma once

#include <string>
#include <string_view>

#include "core/strings.h"

namespace bifrost::core::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

void configure(Level level, Format format);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

template <class... A> void debug(std::string_view component, const A&... a) {
  if (enabled(Level::kDebug)) write(Level::kDebug, component, cat(a...));
}
template <class... A> void info(std::string_view component, const A&... a) {
  if (enabled(Level::kInfo)) write(Level::kInfo, component, cat(a...));
}
template <class... A> void warn(std::string_view component, const A&... a) {
  if (enabled(Level::kWarn)) write(Level::kWarn, component, cat(a...));
}
template <class... A> void error(std::string_view component, const A&... a) {
  write(Level::kError, component, cat(a...));
}

}  // namespace bifrost::core::log
