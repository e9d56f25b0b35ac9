// Output `file`: appends each event, one per line, to a file whose path is a
// template ("/var/log/out/{{service}}-%Y-%m-%d.log"). Parent directories are
// created. Data reaches the kernel with one write per batch and file; files
// are handed to the disk every flush_interval, fsynced at close and
// shutdown, closed after idle_timeout without writes, and (drop_behind)
// leave the page cache once written back: the whole pages of a write at
// once by the kernel where it can (UncachedWrites), the rest 32 MiB behind
// the end (DropBehind), and what is left when the file is closed.
#pragma once

#include <memory>
#include <optional>

#include "config/reader.h"
#include "expr/template.h"
#include "outputs/common/codec.h"
#include "pipeline/component.h"

namespace bifrost::outputs::file {

struct Spec final : pipeline::OutputSpec {
  std::optional<expr::Template> path;
  outputs::Codec codec = outputs::Codec::kJson;
  std::int64_t flush_interval_ns = 1'000'000'000;
  std::int64_t idle_timeout_ns = 60'000'000'000;
  std::int64_t max_open_files = 256;
  bool drop_behind = true;
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

}  // namespace bifrost::outputs::file
