#include "inputs/file/state.h"

#include <simdjson.h>

#include <cinttypes>
#include <cstdio>

#include "core/json.h"

namespace bifrost::inputs::file {

std::string encode_state(const std::vector<SavedFile>& files) {
  std::string out = "{\"files\":[";
  char buf[256];
  bool first = true;
  for (const SavedFile& f : files) {
    if (!first) out.push_back(',');
    first = false;
    std::snprintf(
        buf, sizeof buf,
        "\n{\"dev\":%" PRIu64 ",\"ino\":%" PRIu64 ",\"fp_len\":%" PRIu32 ",\"fp\":\"%016" PRIx64
        "\",\"offset\":%" PRIu64 ",\"source\":\"%016" PRIx64 "\",\"seen\":%" PRId64 ",\"detached\":%s,\"path\":",
        f.id.dev, f.id.ino, f.fp.len, f.fp.hash, f.offset, f.source, f.seen_unix, f.detached ? "true" : "false");
    out.append(buf);
    core::append_json_string(out, f.path);
    out.push_back('}');
  }
  out.append("\n]}\n");
  return out;
}

namespace {
std::optional<std::uint64_t> hex(simdjson::dom::element e, const char* key) {
  std::string_view s;
  if (e[key].get(s) != simdjson::SUCCESS || s.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}
}  // namespace

core::Result<std::vector<SavedFile>, Error> decode_state(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err) {
    return core::fail(Errc::kBadState, simdjson::error_message(err));
  }
  simdjson::dom::array files;
  if (doc["files"].get(files) != simdjson::SUCCESS) {
    return core::fail(Errc::kBadState, "no \"files\" array");
  }
  std::vector<SavedFile> out;
  for (simdjson::dom::element e : files) {
    SavedFile f;
    std::uint64_t fp_len = 0;
    std::int64_t seen = 0;
    std::string_view path;
    bool detached = false;
    if (e["dev"].get(f.id.dev) || e["ino"].get(f.id.ino) || e["fp_len"].get(fp_len) || e["offset"].get(f.offset) ||
        e["seen"].get(seen) || e["path"].get(path) || e["detached"].get(detached) || fp_len > (1u << 20)) {
      return core::fail(Errc::kBadState, "an entry lacks a field or has a wrong type");
    }
    auto fp = hex(e, "fp");
    auto src = hex(e, "source");
    if (!fp || !src) {
      return core::fail(Errc::kBadState, "bad fingerprint or source id");
    }
    f.fp = Fingerprint{static_cast<std::uint32_t>(fp_len), *fp};
    f.source = *src;
    f.seen_unix = seen;
    f.path = std::string(path);
    f.detached = detached;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace bifrost::inputs::file
