// libFuzzer: every filter on arbitrary bytes. The first byte picks the
// filter; the rest is the message (and, for some, a field) of one event,
// which then goes through JSON encoding as an output would.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "outputs/common/codec.h"

namespace {

const char* kConfig = R"(
api: {listen: "off"}
inputs: [{id: in, type: stdin}]
filters:
  - {id: regex, type: parse_regex, patterns: ['^(?P<a>\S+) (?P<n>\d+)(?: (?P<f>[\d.]+))?', '(?P<rest>.+)'], types: {n: int, f: float}}
  - {id: json, type: parse_json, on_failure: tag}
  - {id: jsonf, type: parse_json, field: raw, target: doc, on_failure: drop}
  - {id: ts, type: parse_timestamp, field: message, formats: [rfc3339, '%b %d %H:%M:%S', '%Y-%m-%d %H:%M:%S,%f', unix_ms], timezone: Europe/Berlin, max_past: 1d, action: tag}
  - {id: valid, type: drop_invalid, utf8: true, json: false, max_bytes: 1000, require: [message], types: {n: int}, match: 'message =~ "a"', action: tag}
  - {id: b64, type: decode_base64, field: message, parse_json: false, on_failure: tag}
  - {id: b64j, type: decode_base64, field: message, target: doc, alphabet: url, parse_json: true, on_failure: tag}
  - {id: mod, type: modify, rename: {message: m}, copy: {m: c.d}, add: {x: '{{c.d}}-%Y', n: 1}, remove: [c]}
  - {id: drop, type: drop, when: 'x == "a"'}
outputs: [{id: out, type: stdout}]
)";

struct Fixture {
  std::unique_ptr<bifrost::config::Config> cfg;
  std::vector<std::unique_ptr<bifrost::pipeline::Filter>> filters;
  Fixture() {
    bifrost::config::Diagnostics diag;
    cfg = bifrost::config::load_text("fuzz.yaml", kConfig, diag);
    if (!cfg) __builtin_trap();
    for (const auto& f : cfg->pipelines[0].filters) filters.push_back(f.spec->build({"main", f.id, "/tmp"}));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fx;
  if (size == 0) return 0;
  std::size_t which = data[0] % fx.filters.size();
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  bifrost::core::BatchPool pool(1);
  bifrost::core::Batch* b = pool.acquire();
  bifrost::core::Event& e = b->events.emplace_back();
  e.message = text;
  bifrost::core::set_field(e, *bifrost::core::FieldPath::parse("raw"), bifrost::core::Value::string(text), b->arena);
  std::vector<std::uint32_t> sel{0};
  fx.filters[which]->process(*b, sel);
  b->slots.resize(1);
  b->slots[0].selected.push_back(0);
  bifrost::outputs::encode_slot(*b, b->slots[0], bifrost::outputs::Codec::kJson);
  b->release();
  return 0;
}
