// Times one parse_regex engine alone, on one core: every line of a corpus
// matched with its captures, nothing else (no pipeline, no fields, no
// output). The benchmark's "single-core RE2" reference.
//
//   bifrost-regex-time auto|pcre2|re2 PATTERN CORPUS
//
// PATTERN is what `pattern:` would hold (named patterns are expanded).
// Prints "<MB/s> <lines> <matched> <wall seconds> <CPU seconds> <engine>"
// on one line (MB/s of wall time).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "filters/parse_regex/compiled_pattern.h"
#include "filters/parse_regex/grok.h"

using namespace bifrost::filters::parse_regex;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bifrost-regex-time auto|pcre2|re2 PATTERN CORPUS\n");
    return 2;
  }
  const std::string engine = argv[1];
  EngineChoice choice = engine == "re2"     ? EngineChoice::kRe2
                        : engine == "pcre2" ? EngineChoice::kPcre2
                                            : EngineChoice::kAuto;
  std::vector<GrokError> grok_errors;
  std::string pattern = expand_grok(argv[2], {}, grok_errors).pattern;
  if (!grok_errors.empty()) {
    std::fprintf(stderr, "bifrost-regex-time: %s\n", grok_errors[0].message.c_str());
    return 2;
  }
  std::string error;
  std::size_t offset = 0;
  auto cp = CompiledPattern::compile(pattern, choice, error, offset);
  if (!cp) {
    std::fprintf(stderr, "bifrost-regex-time: %s at %zu\n", error.c_str(), offset);
    return 2;
  }
  int fd = ::open(argv[3], O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(argv[3]);
    return 1;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = size ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : nullptr;
  if (map == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  std::string_view all(static_cast<const char*>(map), size);
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(cp->groups() + 1));
  CompiledPattern::Counts counts;
  std::size_t lines = 0, matched = 0;
  auto cpu = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  const double cpu0 = cpu();
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < all.size();) {
    std::size_t end = all.find('\n', at);
    if (end == std::string_view::npos) end = all.size();
    matched += cp->match(all.substr(at, end - at), groups.data(), counts) == CompiledPattern::Outcome::kMatch;
    ++lines;
    at = end + 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_seconds = cpu() - cpu0;
  std::printf("%.1f %zu %zu %.3f %.3f %s\n", static_cast<double>(size) / 1e6 / seconds, lines, matched, seconds,
              cpu_seconds, std::string(cp->engine_name()).c_str());
  return 0;
}
