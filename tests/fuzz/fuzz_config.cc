// libFuzzer: the config loader (YAML, every component's options, conditions,
// templates, tests) on arbitrary bytes: errors, never a crash.
#include <cstdint>
#include <string>

#include "config/model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  bifrost::config::Diagnostics diag;
  auto cfg = bifrost::config::load_text(
      "fuzz.yaml", text, diag, [](const std::string&) -> std::optional<std::string> { return std::string("x"); });
  (void)diag.render();
  return 0;
}
