#include "inputs/file/file_input.h"

#include "inputs/file/tailer.h"

namespace bifrost::inputs::file {

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<Tailer>(*this, ctx);
}

namespace {

// The keys of `multiline:`; sets `out` when they make a valid spec.
void read_multiline_keys(config::MapReader& r, std::optional<MultilineSpec>& out) {
  MultilineSpec m;
  auto start = r.get("start", "regex", "", "a line matching this begins a new event");
  auto cont = r.get("continuation", "regex", "", "a line matching this continues the previous event");
  m.max_lines =
      r.integer("max_lines", m.max_lines, 1, 1 << 20, "lines per event at most (then cut, tagged multiline_cut)");
  m.timeout_ns =
      r.duration_ns("timeout", m.timeout_ns, "an event still open after this long without a new line is sent");
  if (r.describing()) return;
  if (start && cont) {
    cont->error("give start or continuation, not both");
    return;
  }
  if (!start && !cont) {
    r.node().error("multiline needs `start` or `continuation` (a regex)");
    return;
  }
  const config::Node& p = start ? *start : *cont;
  auto text = p.scalar("a regular expression");
  if (!text) return;
  auto re = std::make_shared<re2::RE2>(*text, re2::RE2::Quiet);
  if (!re->ok()) {
    p.error("invalid regular expression: " + re->error());
    return;
  }
  m.mode = start ? MultilineSpec::Mode::kStart : MultilineSpec::Mode::kContinuation;
  m.pattern = std::move(re);
  out = std::move(m);
}

std::optional<MultilineSpec> read_multiline(config::MapReader& parent) {
  std::optional<MultilineSpec> out;
  parent.section("multiline", "join lines into one event (off when absent): give start or continuation",
                 [&](config::MapReader& r) { read_multiline_keys(r, out); });
  return out;
}

void at_least(config::MapReader& r, const char* key, std::uint64_t value, std::uint64_t min, const std::string& what) {
  if (value >= min || r.describing()) return;
  if (auto n = r.node().yaml()[key]; n.IsDefined()) r.node().child(key, n).error("must be at least " + what);
}

}  // namespace

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->paths = r.string_list("paths", "globs of the files to read (symlinks followed; no **)", /*required=*/true);
  s->exclude = r.string_list("exclude", "globs of paths not to read (matched against the whole path)");
  s->start_at_end =
      r.choice("start_at", "beginning", {"beginning", "end"},
               "where to start in files found at the very first start (no checkpoint yet); files that appear "
               "later are always read from their beginning") == "end";
  s->fingerprint_bytes = r.bytes("fingerprint_bytes", s->fingerprint_bytes,
                                 "bytes at the start of a file that identify it with (device, inode)");
  s->multiline = read_multiline(r);
  s->max_line_bytes = r.bytes("max_line_bytes", s->max_line_bytes,
                              "longer lines are cut into pieces of this size, each tagged line_cut");
  s->scan_interval_ns = r.duration_ns("scan_interval", s->scan_interval_ns,
                                      "how often `paths` are expanded again (inotify makes it sooner)");
  s->close_inactive_ns =
      r.duration_ns("close_inactive", s->close_inactive_ns,
                    "a file that has not grown for this long is closed (and reopened when it grows)");
  s->rotate_wait_ns =
      r.duration_ns("rotate_wait", s->rotate_wait_ns,
                    "a file renamed out of `paths` is read to its end and kept this long for late writes");
  s->forget_after_ns = r.duration_ns("forget_after", s->forget_after_ns,
                                     "checkpoint entries of files no longer found are kept this long");
  s->max_open_files =
      r.integer("max_open_files", s->max_open_files, 1, 1 << 20, "files held open at once; the others wait their turn");
  s->read_buffer_bytes = r.bytes("read_buffer_bytes", s->read_buffer_bytes, "bytes read per batch at most");
  s->batch_events = r.integer("batch_events", s->batch_events, 1, 1 << 20, "events per batch at most");
  s->end_at_eof = r.boolean("end_at_eof", s->end_at_eof,
                            "end the input once every file is read to its end (a backfill; bifrost exits when "
                            "every input has ended)");
  if (r.describing()) return s;
  at_least(r, "max_line_bytes", s->max_line_bytes, 16, "16");
  at_least(r, "read_buffer_bytes", s->read_buffer_bytes, 4096, "4096");
  at_least(r, "fingerprint_bytes", s->fingerprint_bytes, 1, "1");
  if (s->fingerprint_bytes > (1u << 20)) {
    if (auto n = r.node().yaml()["fingerprint_bytes"]; n.IsDefined()) {
      r.node().child("fingerprint_bytes", n).error("must be at most 1MiB");
    }
  }
  for (const std::string& p : s->paths) {
    if (p.find("**") != std::string::npos) {
      r.node().child("paths", r.node().yaml()["paths"]).error("`**` is not supported; list each directory level");
    }
  }
  return s;
}

}  // namespace bifrost::inputs::file
