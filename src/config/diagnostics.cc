#include "config/diagnostics.h"

#include <algorithm>

#include "core/secrets.h"

namespace bifrost::config {

void Diagnostics::error(Location loc, std::string path, std::string message) {
  items_.push_back(Diagnostic{std::move(loc), std::move(path), std::move(message)});
}

void Diagnostics::warning(Location loc, std::string path, std::string message) {
  warnings_.push_back(Diagnostic{std::move(loc), std::move(path), std::move(message)});
}

namespace {
std::string render_all(const std::vector<Diagnostic>& items, const char* tag) {
  std::vector<const Diagnostic*> sorted;
  for (const auto& d : items) sorted.push_back(&d);
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
    out += tag;
    if (!d->path.empty()) out += d->path + ": ";
    out += d->message + "\n";
  }
  core::secrets::mask(out);  // an error that quotes a value never shows a secret
  return out;
}
}  // namespace

std::string Diagnostics::render() const { return render_all(items_, ""); }
std::string Diagnostics::render_warnings() const { return render_all(warnings_, "warning: "); }

}  // namespace bifrost::config
