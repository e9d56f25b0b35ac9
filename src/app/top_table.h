// The table of `bifrost top`: one row per component of the running daemon,
// read from two scrapes of /metrics (rates are their difference), sorted,
// rendered to a width. Pure: no terminal, no socket (top.cc has those).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "app/prometheus_text.h"

namespace bifrost::app::top {

// NaN: does not apply to the component, or not known yet (a rate before the
// second scrape).
struct Row {
  std::string pipeline, component, kind, type;
  std::size_t order = 0;  // where /metrics lists it: the pipelines' own order
  double in_rate, out_rate;
  double in, out, dropped, errors, retries;
  double queue, full_pct;  // events queued for an output; % of the time full (inputs: held back)
  double buffer, failed;   // bytes in the disk buffer and the failed queue
  double lag;              // file inputs: bytes; Kafka inputs: records
  bool lag_in_bytes = false;
  double full_seconds;  // the counter full_pct comes from
};

// The rows of `now`; rates against `before` (empty: none yet), `seconds` apart.
std::vector<Row> rows(const std::vector<Sample>& now, const std::vector<Sample>& before, double seconds);

// The columns, in the order shown.
std::vector<std::string> column_names();
// A column by name (case does not matter), or -1.
int column_named(std::string_view name);

// By column `column` (-1: the pipelines' own order); numbers largest first
// unless `reverse`.
void sort_rows(std::vector<Row>& rows, int column, bool reverse);

// Header and rows, each line at most `width` wide: columns that matter less
// are left out first when they do not all fit. The sort column's header is
// marked with `>`.
std::vector<std::string> render(const std::vector<Row>& rows, std::size_t width, int sort_column);

std::string format_count(double v);
std::string format_rate(double v);
std::string format_bytes(double v);

}  // namespace bifrost::app::top
