// Input `file`: tails the files `paths` matches, following rotation
// (rename and create, copytruncate), surviving restarts with checkpoints that
// hold only acknowledged offsets. See README.md in this folder.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "inputs/file/multiline.h"
#include "pipeline/component.h"

namespace bifrost::inputs::file {

struct Spec final : pipeline::InputSpec {
  std::vector<std::string> paths;
  std::vector<std::string> exclude;
  bool start_at_end = false;
  std::uint64_t fingerprint_bytes = 1024;
  std::optional<MultilineSpec> multiline;
  std::uint64_t max_line_bytes = 16u << 20;
  std::int64_t scan_interval_ns = 1'000'000'000;
  std::int64_t close_inactive_ns = 300'000'000'000;
  std::int64_t rotate_wait_ns = 5'000'000'000;
  std::int64_t forget_after_ns = 600'000'000'000;
  std::int64_t max_open_files = 1024;
  std::uint64_t read_buffer_bytes = 256u << 10;
  std::int64_t batch_events = 2048;
  bool end_at_eof = false;
  std::unique_ptr<pipeline::Input> build(const pipeline::BuildContext& ctx) const override;
  bool supports_exactly_once() const override { return true; }
};

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r);

}  // namespace bifrost::inputs::file
