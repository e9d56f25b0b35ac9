#include "inputs/stdin/stdin_input.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>

#include "core/log.h"
#include "core/time.h"
#include "inputs/common/line_splitter.h"
#include "inputs/common/source_fields.h"

namespace bifrost::inputs::stdin_ {

namespace {

// Standard input belongs to the process, not to one pipeline: what was read
// but not yet published (a partial line) survives a reload here.
struct ProcessStdin {
  std::mutex mu;
  LineSplitter splitter;
  bool eof = false;
};

ProcessStdin& process_stdin() {
  static ProcessStdin s;
  return s;
}

class StdinInput final : public pipeline::Input {
 public:
  StdinInput(const Spec& spec, std::string id) : spec_(spec), id_(std::move(id)), hostname_(host_name()) {}

  void run(pipeline::InputContext& ctx) override {
    ProcessStdin& in = process_stdin();
    std::lock_guard lock(in.mu);  // one stdin reader at a time, also across a reload
    in.splitter.configure(spec_.max_line_bytes, static_cast<std::size_t>(spec_.batch_events));
    auto tracker = std::make_shared<core::AckTracker>(in.splitter.offset());
    while (!ctx.stopping()) {
      if (in.eof && in.splitter.pending_bytes() == 0) return;
      core::Batch* batch = ctx.acquire();
      if (batch == nullptr) return;
      in.splitter.begin(*batch, static_cast<std::size_t>(spec_.read_buffer_bytes));
      if (!in.eof) fill(*batch, in, ctx);
      publish(batch, in, ctx, tracker);
    }
    finish_partial_line(in, ctx, tracker);
  }

  void decorate(core::Batch& batch) const override {
    const core::Value host = host_object(batch, hostname_);
    for (core::Event& e : batch.events) {
      core::Value log = core::Value::object(batch.arena, 1);
      log.append("offset", core::Value::integer(static_cast<std::int64_t>(e.offset)), batch.arena);
      set_host_and_log(batch, e, host, log);
    }
  }

 private:
  // Splits what the batch holds into events, stamps the ingest time, and
  // hands it over with the position it acknowledges.
  static void publish(core::Batch* batch, ProcessStdin& in, pipeline::InputContext& ctx,
                      const std::shared_ptr<core::AckTracker>& tracker) {
    in.splitter.finish(*batch, in.eof);
    batch->ingest_ns = core::now_ns();
    for (auto& e : batch->events) e.timestamp_ns = batch->ingest_ns;
    batch->tracker = tracker;
    batch->ack_seq = tracker->track(in.splitter.offset());
    ctx.publish(batch);
  }

  // Stopping with part of a line already taken from the pipe: read the rest
  // of that one line (byte by byte, so nothing after it is consumed) and
  // publish it, so the stream is cut exactly at a line boundary.
  void finish_partial_line(ProcessStdin& in, pipeline::InputContext& ctx,
                           const std::shared_ptr<core::AckTracker>& tracker) {
    if (in.eof || in.splitter.pending_bytes() == 0) return;
    core::Batch* batch = ctx.acquire_final();
    if (batch == nullptr) return;
    in.splitter.begin(*batch, static_cast<std::size_t>(spec_.max_line_bytes));
    // Real time, not the pipeline's clock: like the drain's deadline, it
    // bounds a stop, which must end even when a test's clock stands still.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!in.splitter.has_complete_line(*batch) && in.splitter.space(*batch) > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{0, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(0, in.splitter.write_ptr(*batch), 1);
      if (n == 0) in.eof = true;
      if (n <= 0) break;
      in.splitter.commit(*batch, 1);
    }
    publish(batch, in, ctx, tracker);
  }

  // Reads until the buffer is full, or nothing more is ready and at least one
  // line is complete (so a quiet stream is published at once, a busy one in
  // full batches).
  void fill(core::Batch& batch, ProcessStdin& in, pipeline::InputContext& ctx) {
    while (in.splitter.space(batch) > 0) {
      bool have_line = in.splitter.has_complete_line(batch);
      pollfd p{0, POLLIN, 0};
      int r = ::poll(&p, 1, have_line ? 0 : 100);
      if (r < 0 && errno != EINTR) {
        core::log::error(id_, "poll(stdin): ", std::strerror(errno));
        in.eof = true;
        return;
      }
      if (r == 0) {
        if (have_line || ctx.stopping()) return;
        continue;
      }
      if (r < 0) continue;
      ssize_t n = ::read(0, in.splitter.write_ptr(batch), in.splitter.space(batch));
      if (n == 0) {
        in.eof = true;
        return;
      }
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        core::log::error(id_, "read(stdin): ", std::strerror(errno));
        in.eof = true;
        return;
      }
      in.splitter.commit(batch, static_cast<std::size_t>(n));
      if (ctx.stopping()) return;
    }
  }

  Spec spec_;
  std::string id_;
  std::string hostname_;
};

}  // namespace

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<StdinInput>(*this, ctx.component);
}

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->max_line_bytes = r.bytes("max_line_bytes", s->max_line_bytes,
                              "longer lines are cut into pieces of this size, each tagged line_cut");
  s->read_buffer_bytes = r.bytes("read_buffer_bytes", s->read_buffer_bytes, "bytes read per batch at most");
  s->batch_events = r.integer("batch_events", s->batch_events, 1, 1 << 20, "events per batch at most");
  if (s->max_line_bytes < 16 && !r.describing()) {
    if (auto n = r.node().yaml()["max_line_bytes"]; n.IsDefined())
      r.node().child("max_line_bytes", n).error("must be at least 16");
  }
  if (s->read_buffer_bytes < 4096 && !r.describing()) {
    if (auto n = r.node().yaml()["read_buffer_bytes"]; n.IsDefined())
      r.node().child("read_buffer_bytes", n).error("must be at least 4096");
  }
  return s;
}

}  // namespace bifrost::inputs::stdin_
