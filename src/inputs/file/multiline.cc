#include "inputs/file/multiline.h"

namespace bifrost::inputs::file {

std::size_t join_lines(core::Batch& batch, const MultilineSpec& spec, std::uint64_t max_bytes) {
  std::vector<core::Event>& events = batch.events;
  std::size_t out = 0;
  bool open = false;
  std::int64_t lines = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    core::Event e = events[i];
    const bool cut = e.fields.is_object();  // only the splitter's line_cut tag is there yet
    const bool matches = re2::RE2::PartialMatch(e.message, *spec.pattern);
    const bool starts = spec.mode == MultilineSpec::Mode::kStart ? matches : !matches;
    if (open && !cut && !starts) {
      core::Event& g = events[out - 1];
      std::size_t joined = static_cast<std::size_t>(e.message.data() + e.message.size() - g.message.data());
      if (lines < spec.max_lines && joined <= max_bytes) {
        g.message = std::string_view(g.message.data(), joined);
        ++lines;
        continue;
      }
      // Full: this line begins the next event; both are marked.
      core::add_tag(g, kMultilineCutTag, batch.arena);
      events[out++] = e;
      core::add_tag(events[out - 1], kMultilineCutTag, batch.arena);
      lines = 1;
      continue;
    }
    events[out++] = e;
    open = !cut;
    lines = 1;
  }
  events.resize(out);
  return open ? out - 1 : out;
}

}  // namespace bifrost::inputs::file
