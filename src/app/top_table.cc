#include "app/top_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace bifrost::app::top {

namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

struct Column {
  const char* name;
  std::size_t width;  // numbers: fixed; text: at most
  int keep;           // when they do not all fit, the lowest goes first
  bool text;
};

// The order shown. What a column holds: see cell().
const Column kColumns[] = {
    {"PIPELINE", 16, 9, true}, {"COMPONENT", 20, 9, true}, {"KIND", 6, 3, true},      {"TYPE", 14, 5, true},
    {"IN/S", 8, 9, false},     {"OUT/S", 8, 9, false},     {"IN", 9, 2, false},       {"OUT", 9, 2, false},
    {"DROPPED", 8, 4, false},  {"ERRORS", 8, 8, false},    {"RETRIES", 8, 6, false},  {"QUEUE", 7, 7, false},
    {"FULL%", 6, 6, false},    {"BUFFER", 9, 5, false},    {"FAILED-Q", 9, 7, false}, {"LAG", 9, 8, false},
};
constexpr int kColumnCount = sizeof kColumns / sizeof kColumns[0];

void add(double& into, double v) { into = std::isnan(into) ? v : into + v; }

double rate(double now, double before, double seconds) {
  if (std::isnan(now) || std::isnan(before) || seconds <= 0) return kNone;
  // A counter below its last value was reset (a reload builds new pipelines).
  return (now >= before ? now - before : now) / seconds;
}

std::string fixed(const char* fmt, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// A value with k, M, G past 100000.
std::string scaled(double v) {
  if (v < 1e6) return fixed("%.1fk", v / 1e3);
  if (v < 1e9) return fixed("%.1fM", v / 1e6);
  return fixed("%.1fG", v / 1e9);
}

double number(const Row& r, int column) {
  switch (column) {
    case 4: return r.in_rate;
    case 5: return r.out_rate;
    case 6: return r.in;
    case 7: return r.out;
    case 8: return r.dropped;
    case 9: return r.errors;
    case 10: return r.retries;
    case 11: return r.queue;
    case 12: return r.full_pct;
    case 13: return r.buffer;
    case 14: return r.failed;
    case 15: return r.lag;
    default: return kNone;
  }
}

std::string cell(const Row& r, int column) {
  switch (column) {
    case 0: return r.pipeline;
    case 1: return r.component;
    case 2: return r.kind;
    case 3: return r.type;
    case 4:
    case 5: return format_rate(number(r, column));
    case 12: return std::isnan(r.full_pct) ? "-" : fixed("%.0f%%", r.full_pct);
    case 13:
    case 14: return format_bytes(number(r, column));
    case 15: return r.lag_in_bytes ? format_bytes(r.lag) : format_count(r.lag);
    default: return format_count(number(r, column));
  }
}

std::string fit(std::string s, std::size_t width, bool left) {
  if (s.size() > width) s = s.substr(0, width - 1) + "~";
  std::string padding(width - s.size(), ' ');
  return left ? s + padding : padding + s;
}

}  // namespace

std::string format_count(double v) {
  if (std::isnan(v)) return "-";
  return v < 1e5 ? fixed("%.0f", v) : scaled(v);
}

std::string format_rate(double v) {
  if (std::isnan(v)) return "-";
  if (v < 10) return fixed("%.1f", v);
  return v < 1e5 ? fixed("%.0f", v) : scaled(v);
}

std::string format_bytes(double v) {
  if (std::isnan(v)) return "-";
  if (v < 1024) return fixed("%.0fB", v);
  if (v < 1024.0 * 1024) return fixed("%.1fKiB", v / 1024);
  if (v < 1024.0 * 1024 * 1024) return fixed("%.1fMiB", v / (1024.0 * 1024));
  return fixed("%.1fGiB", v / (1024.0 * 1024 * 1024));
}

std::vector<Row> rows(const std::vector<Sample>& now, const std::vector<Sample>& before, double seconds) {
  auto collect = [](const std::vector<Sample>& samples) {
    std::vector<Row> out;
    std::map<std::pair<std::string, std::string>, std::size_t> index;
    for (const Sample& s : samples) {
      const std::string& pipeline = s.label("pipeline");
      const std::string& component = s.label("component");
      if (pipeline.empty() || component.empty() || !s.name.starts_with("bifrost_")) continue;
      auto [it, fresh] = index.emplace(std::make_pair(pipeline, component), out.size());
      if (fresh) {
        Row r{pipeline, component, "",    "",    out.size(), kNone, kNone, kNone, kNone, kNone,
              kNone,    kNone,     kNone, kNone, kNone,      kNone, kNone, false, kNone};
        out.push_back(std::move(r));
      }
      Row& r = out[it->second];
      const std::string& n = s.name;
      if (n == "bifrost_component_info") {
        r.kind = s.label("kind");
        r.type = s.label("type");
      } else if (n == "bifrost_events_in_total") add(r.in, s.value);
      else if (n == "bifrost_events_out_total") add(r.out, s.value);
      else if (n == "bifrost_events_dropped_total") add(r.dropped, s.value);
      else if (n == "bifrost_events_failed_total") add(r.errors, s.value);
      else if (n == "bifrost_retries_total") add(r.retries, s.value);
      else if (n == "bifrost_queue_events") add(r.queue, s.value);
      else if (n == "bifrost_output_queue_full_seconds_total" || n == "bifrost_input_blocked_seconds_total")
        add(r.full_seconds, s.value);
      else if (n == "bifrost_buffer_bytes") add(r.buffer, s.value);
      else if (n == "bifrost_failed_queue_bytes") add(r.failed, s.value);
      else if (n == "bifrost_file_lag_bytes") {
        add(r.lag, s.value);
        r.lag_in_bytes = true;
      } else if (n == "bifrost_kafka_consumer_lag") add(r.lag, s.value);
    }
    for (Row& r : out) {
      if (r.kind == "input") r.failed = kNone;                        // inputs park nothing
      if (std::isnan(r.dropped) && !std::isnan(r.in)) r.dropped = 0;  // nothing dropped yet: no series
    }
    return out;
  };
  std::vector<Row> rows = collect(now);
  std::vector<Row> old = collect(before);
  for (Row& r : rows) {
    for (const Row& o : old) {
      if (o.pipeline != r.pipeline || o.component != r.component || o.kind != r.kind || o.type != r.type) continue;
      r.in_rate = rate(r.in, o.in, seconds);
      r.out_rate = rate(r.out, o.out, seconds);
      double full = rate(r.full_seconds, o.full_seconds, seconds);
      if (!std::isnan(full)) r.full_pct = std::clamp(full * 100, 0.0, 100.0);
    }
  }
  return rows;
}

std::vector<std::string> column_names() {
  std::vector<std::string> names;
  for (const Column& c : kColumns) names.push_back(c.name);
  return names;
}

int column_named(std::string_view name) {
  for (int i = 0; i < kColumnCount; ++i) {
    std::string_view c = kColumns[i].name;
    if (c.size() != name.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < c.size(); ++k) same = same && std::toupper(static_cast<unsigned char>(name[k])) == c[k];
    if (same) return i;
  }
  return -1;
}

void sort_rows(std::vector<Row>& rows, int column, bool reverse) {
  auto less = [&](const Row& a, const Row& b) {
    if (column < 0 || column >= kColumnCount) return a.order < b.order;
    if (kColumns[column].text) {
      std::string x = cell(a, column), y = cell(b, column);
      return x != y ? x < y : a.order < b.order;
    }
    // Largest first; what does not apply last.
    double x = number(a, column), y = number(b, column);
    if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
    return x != y && !std::isnan(x) ? x > y : a.order < b.order;
  };
  std::stable_sort(rows.begin(), rows.end(), less);
  if (reverse) std::reverse(rows.begin(), rows.end());
}

std::vector<std::string> render(const std::vector<Row>& rows, std::size_t width, int sort_column) {
  // Text columns as wide as what they hold (up to their width).
  std::size_t widths[kColumnCount];
  for (int i = 0; i < kColumnCount; ++i) {
    widths[i] = kColumns[i].width;
    if (!kColumns[i].text) continue;
    std::size_t need = std::string(kColumns[i].name).size() + 1;
    for (const Row& r : rows) need = std::max(need, cell(r, i).size());
    widths[i] = std::min(need, kColumns[i].width);
  }
  // Leave out the columns that matter least until the rest fits.
  bool shown[kColumnCount];
  std::size_t total = 0;
  for (int i = 0; i < kColumnCount; ++i) {
    shown[i] = true;
    total += widths[i] + 1;
  }
  for (int keep = 0; keep < 9 && total > width + 1; ++keep) {
    for (int i = kColumnCount - 1; i >= 0 && total > width + 1; --i) {
      if (shown[i] && kColumns[i].keep == keep) {
        shown[i] = false;
        total -= widths[i] + 1;
      }
    }
  }
  auto line = [&](auto&& text_of) {
    std::string out;
    for (int i = 0; i < kColumnCount; ++i) {
      if (!shown[i]) continue;
      if (!out.empty()) out += ' ';
      out += fit(text_of(i), widths[i], kColumns[i].text);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out.size() > width ? out.substr(0, width) : out;
  };
  std::vector<std::string> out;
  out.push_back(line([&](int i) { return std::string(i == sort_column ? ">" : "") + kColumns[i].name; }));
  for (const Row& r : rows) out.push_back(line([&](int i) { return cell(r, i); }));
  return out;
}

}  // namespace bifrost::app::top
