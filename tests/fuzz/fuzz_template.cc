// libFuzzer: the template parser and renderer on arbitrary bytes.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "expr/template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = bifrost::expr::Template::parse(text);
  if (auto* t = std::get_if<bifrost::expr::Template>(&parsed)) {
    bifrost::core::Arena arena;
    bifrost::core::Event e;
    e.message = text;
    e.timestamp_ns = static_cast<std::int64_t>(size) * 1'000'000'007LL - 4'000'000'000'000'000'000LL;
    bifrost::core::set_field(e, *bifrost::core::FieldPath::parse("a.b"), bifrost::core::Value::string(text), arena);
    std::string out;
    t->render(e, out);
  }
  return 0;
}
