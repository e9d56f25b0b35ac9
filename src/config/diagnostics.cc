#include "config/diagnostics.h"

#include <algorithm>

namespace bifrost::config {

void Diagnostics::error(Location loc, std::string path, std::string message) {
  items_.push_back(Diagnostic{std::move(loc), std::move(path), std::move(message)});
}

std::string Diagnostics::render() const {
  std::vector<const Diagnostic*> sorted;
  for (const auto& d : items_) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    if (a->loc.file != b->loc.file) return a->loc.file < b->loc.file;
    if (a->loc.line != b->loc.line) return a->loc.line < b->loc.line;
    return a->loc.col < b->loc.col;
  });
  std::string out;
  for (const Diagnostic* d : sorted) {
    out += d->loc.file;
    if (d->loc.line > 0) {
      out.append(":").append(std::to_string(d->loc.line)).append(":").append(std::to_string(d->loc.col));
    }
    out += ": ";
    if (!d->path.empty()) out += d->path + ": ";
    out += d->message + "\n";
  }
  return out;
}

}  // namespace bifrost::config
