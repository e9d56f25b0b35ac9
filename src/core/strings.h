// Small string helpers (g++ 12 has no <format>).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace bifrost::core {

template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or empty when none is close enough.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// Parses "250ms", "5s", "2m", "1h", "1d" or a plain number of seconds.
bool parse_duration_ns(std::string_view text, std::int64_t& out_ns);
// Parses "512", "64KiB", "10MiB", "1GiB", "10MB", "1kB".
bool parse_bytes(std::string_view text, std::uint64_t& out);

}  // namespace bifrost::core
