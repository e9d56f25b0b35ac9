#include "inputs/journald/journald_input.h"

#include "inputs/journald/reader.h"

namespace bifrost::inputs::journald {

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<Reader>(*this, ctx);
}

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->directory = r.string("directory", "", "a directory of journal files to read; the local journal when empty");
  s->units = r.string_list("units", "only these systemd units (a name without a dot gets .service)");
  auto prio =
      r.get("priority", "0..7 or a name", "debug",
            "only entries at most this severity: emerg (0), alert, crit, err, warning, notice, info, debug (7)");
  s->start_at_end =
      r.choice("start_at", "beginning", {"beginning", "end"},
               "where to start without a checkpoint: the oldest entry, or only entries written from now") == "end";
  s->batch_events = r.integer("batch_events", s->batch_events, 1, 1 << 20, "entries per batch at most");
  s->max_field_bytes = r.bytes("max_field_bytes", s->max_field_bytes,
                               "a longer field is cut to this size and the event tagged line_cut");
  if (r.describing()) return s;
  for (auto& u : s->units) {
    if (u.find('.') == std::string::npos) u += ".service";
  }
  if (prio) {
    static const std::vector<std::string> kNames = {"emerg",   "alert",  "crit", "err",
                                                    "warning", "notice", "info", "debug"};
    if (auto text = prio->scalar("0..7 or a severity name")) {
      if (text->size() == 1 && (*text)[0] >= '0' && (*text)[0] <= '7') {
        s->priority = (*text)[0] - '0';
      } else if (auto v = config::parse_choice(*prio, kNames)) {
        for (std::size_t i = 0; i < kNames.size(); ++i) {
          if (kNames[i] == *v) s->priority = static_cast<int>(i);
        }
      }
    }
  }
  if (s->max_field_bytes < 16) {
    if (auto n = r.node().yaml()["max_field_bytes"]; n.IsDefined())
      r.node().child("max_field_bytes", n).error("must be at least 16");
  }
  return s;
}

}  // namespace bifrost::inputs::journald
