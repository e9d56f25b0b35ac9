// libFuzzer: the condition parser and evaluator on arbitrary bytes.
#include <cstdint>
#include <string_view>
#include <variant>

#include "expr/condition.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = bifrost::expr::Condition::parse(text);
  if (auto* c = std::get_if<bifrost::expr::Condition>(&parsed)) {
    bifrost::core::Arena arena;
    bifrost::core::Event e;
    e.message = text;
    bifrost::core::set_field(e, *bifrost::core::FieldPath::parse("status"), bifrost::core::Value::integer(503), arena);
    bifrost::core::set_field(e, *bifrost::core::FieldPath::parse("a.b"), bifrost::core::Value::string(text), arena);
    (void)c->evaluate(e);
  }
  return 0;
}
