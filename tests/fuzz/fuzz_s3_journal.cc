// libFuzzer: the s3 output's journal read from arbitrary bytes (torn and
// garbled lines, CRCs that lie, percent-escapes cut short). Whatever it
// reads, writing that state out compact and reading it again must give
// the same state, and every partition's cuts stay in order, past its done.
#include <cstdint>
#include <string_view>

#include "outputs/s3/journal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bifrost::outputs::s3;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const JournalState a = parse_journal(text, 1);
  for (const auto& [key, log] : a.logs) {
    for (std::size_t i = 0; i < log.cuts.size(); ++i) {
      if (log.cuts[i].first > log.cuts[i].last) __builtin_trap();
      if (log.done && log.cuts[i].last <= *log.done) __builtin_trap();
      if (i > 0 && log.cuts[i - 1].first > log.cuts[i].first) __builtin_trap();
    }
  }
  const JournalState b = parse_journal(render_journal(a), 1);
  if (a.uploads != b.uploads || a.logs.size() != b.logs.size()) __builtin_trap();
  for (auto x = a.logs.begin(), y = b.logs.begin(); x != a.logs.end(); ++x, ++y) {
    if (x->first != y->first || x->second.done != y->second.done || x->second.cuts != y->second.cuts) __builtin_trap();
  }
  return 0;
}
