#include "core/strings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace bifrost::core {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) != std::tolower(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  // Ties go to the candidate that starts like the word, then to the one
  // that contains it ("ad" -> "add" rather than "id").
  std::string best;
  std::size_t best_d = SIZE_MAX;
  int best_bonus = -1;
  for (const std::string& c : candidates) {
    std::size_t d = edit_distance(word, c);
    int bonus = (!word.empty() && !c.empty() && std::tolower(word[0]) == std::tolower(c[0])) * 2 +
                (c.find(word) != std::string::npos);
    if (d < best_d || (d == best_d && bonus > best_bonus)) {
      best_d = d;
      best = c;
      best_bonus = bonus;
    }
  }
  std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  if (best_d <= limit) return best;
  // A longer or shorter spelling of a name: integer -> int, str -> string.
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  std::string w = lower(word);
  for (const std::string& c : candidates) {
    std::string lc = lower(c);
    std::size_t common = std::min(w.size(), lc.size());
    if (common >= 3 && w.compare(0, common, lc, 0, common) == 0) return c;
  }
  return std::string();
}

namespace {
bool split_number(std::string_view text, double& num, std::string_view& unit) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  auto r = std::from_chars(text.data(), text.data() + i, num);
  if (r.ec != std::errc() || r.ptr != text.data() + i) return false;
  unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}
}  // namespace

bool parse_duration_ns(std::string_view text, std::int64_t& out_ns) {
  double num;
  std::string_view unit;
  if (!split_number(text, num, unit)) return false;
  double mult;
  if (unit.empty() || unit == "s") mult = 1e9;
  else if (unit == "ms") mult = 1e6;
  else if (unit == "us") mult = 1e3;
  else if (unit == "ns") mult = 1;
  else if (unit == "m") mult = 60e9;
  else if (unit == "h") mult = 3600e9;
  else if (unit == "d") mult = 86400e9;
  else return false;
  double ns = num * mult;
  if (!std::isfinite(ns) || ns > 9e18) return false;
  out_ns = static_cast<std::int64_t>(ns);
  return true;
}

bool parse_bytes(std::string_view text, std::uint64_t& out) {
  double num;
  std::string_view unit;
  if (!split_number(text, num, unit)) return false;
  double mult;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1024.0;
  else if (unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else if (unit == "kB" || unit == "KB") mult = 1e3;
  else if (unit == "MB") mult = 1e6;
  else if (unit == "GB") mult = 1e9;
  else return false;
  double v = num * mult;
  if (!std::isfinite(v) || v > 1.8e19) return false;
  out = static_cast<std::uint64_t>(v);
  return true;
}

}  // namespace bifrost::core
