#include "inputs/common/stream_reader.h"

#include "core/log.h"
#include "core/time.h"
#include "inputs/common/peers.h"

namespace bifrost::inputs {

namespace {
// A read smaller than this is not worth it: the batch goes out first.
constexpr std::size_t kMinRead = 4096;
}  // namespace

struct StreamReader::ConnFramer final : ConnState {
  StreamFramer framer;
  std::uint64_t serial = 0;  // the batch its peer was added to
  std::uint64_t peer_key = 0;
};

StreamReader::StreamReader(std::unique_ptr<StreamServer> server, StreamReaderOptions options, NetStats& stats,
                           std::string id)
    : server_(std::move(server)), options_(options), stats_(stats), id_(std::move(id)) {
  server_->on_open([this](Conn& c) {
    auto st = std::make_unique<ConnFramer>();
    st->framer.configure(options_.framing, options_.max_message_bytes);
    c.state = std::move(st);
  });
}

StreamReader::~StreamReader() {
  if (batch_) batch_->release();
}

bool StreamReader::batch_full() const {
  return batch_->events.size() >= options_.batch_events || batch_->chunk.capacity() - batch_->chunk.size() < kMinRead;
}

bool StreamReader::ensure_batch(pipeline::InputContext& ctx, bool final) {
  if (batch_) return true;
  const auto before = server_->clock().now();
  while (!batch_) {
    batch_ = final ? ctx.acquire_final() : ctx.acquire_for(std::chrono::milliseconds(100));
    if (batch_) break;
    if (final || ctx.stopping()) return false;
    // Held back: nothing is read (the senders' windows fill); the metrics stay fresh.
    if (const auto now = server_->clock().now(); now >= next_metrics_) {
      next_metrics_ = now + std::chrono::seconds(1);
      ctx.stats().series.replace(stats_.samples(true));
    }
  }
  // Held back for a while: the connections were not idle, only unread.
  if (server_->clock().now() - before > std::chrono::seconds(1)) server_->touch_all(server_->clock().now());
  ++serial_;
  batch_->chunk.reserve(options_.read_buffer_bytes);
  return true;
}

bool StreamReader::ensure_room(std::size_t need, pipeline::InputContext& ctx, bool final) {
  if (!ensure_batch(ctx, final)) return false;
  if (batch_->chunk.capacity() - batch_->chunk.size() >= need) return true;
  if (!batch_->events.empty()) {
    publish(ctx);
    if (!ensure_batch(ctx, final)) return false;
  }
  // Nothing points into the chunk yet: it may move.
  batch_->chunk.reserve(batch_->chunk.size() + need + options_.read_buffer_bytes);
  return true;
}

void StreamReader::publish(pipeline::InputContext& ctx) {
  core::Batch* b = batch_;
  batch_ = nullptr;
  if (b->events.empty()) {
    b->release();
    return;
  }
  b->ingest_ns = core::now_ns();
  for (core::Event& e : b->events) e.timestamp_ns = b->ingest_ns;
  ctx.publish(b);
}

void StreamReader::flush_conn(Conn& c, pipeline::InputContext& ctx, bool eof, bool final) {
  auto& st = static_cast<ConnFramer&>(*c.state);
  do {
    if (!ensure_room(st.framer.carried() + 1, ctx, final)) return;
    if (st.serial != serial_) {
      st.serial = serial_;
      st.peer_key = add_peer(*batch_, c.peer, c.subject);
    }
    const std::size_t from = st.framer.begin(batch_->chunk);
    BatchSink emit(*batch_, st.peer_key, options_.batch_events, options_.cut_tag, stats_);
    st.framer.split(batch_->chunk, from, eof, emit);
    if (batch_full()) publish(ctx);
  } while (st.framer.has_more());
}

void StreamReader::read_conn(Conn& c, pipeline::InputContext& ctx) {
  if (!c.state) return;
  auto& st = static_cast<ConnFramer&>(*c.state);
  std::size_t budget = options_.read_buffer_bytes;
  if (st.framer.has_more()) flush_conn(c, ctx, false, false);
  while (budget > 0) {
    if (!ensure_room(st.framer.carried() + kMinRead, ctx, false)) return;
    if (st.serial != serial_) {
      st.serial = serial_;
      st.peer_key = add_peer(*batch_, c.peer, c.subject);
    }
    core::ByteBuffer& chunk = batch_->chunk;
    const std::size_t from = st.framer.begin(chunk);
    const std::size_t room = std::min(chunk.capacity() - chunk.size(), budget);
    std::size_t got = 0;
    const ConnIo io = c.read(chunk.data() + chunk.size(), room, got);
    if (io == ConnIo::kAgain) {
      chunk.resize(from);  // the carry stays with the framer
      return;
    }
    const bool eof = io != ConnIo::kOk;
    chunk.resize(chunk.size() + got);
    stats_.received_bytes.fetch_add(got, std::memory_order_relaxed);
    budget -= std::min(budget, got);
    BatchSink emit(*batch_, st.peer_key, options_.batch_events, options_.cut_tag, stats_);
    st.framer.split(chunk, from, eof, emit);
    if (batch_full()) publish(ctx);
    if (st.framer.has_more()) flush_conn(c, ctx, false, false);
    if (eof) {
      if (io == ConnIo::kError && c.ssl) core::log::warn(id_, "TLS: ", tls_error());
      if (st.framer.carried() > 0) flush_conn(c, ctx, true, false);
      server_->close(c, io == ConnIo::kClosed ? "eof" : "error");
      return;
    }
    server_->touch(c, server_->clock().now());
  }
  server_->keep_ready(c);  // its budget is spent: the others first
}

void StreamReader::housekeeping(pipeline::InputContext& ctx, NetClock::time_point now) {
  if (now < next_housekeeping_) return;
  next_housekeeping_ = now + std::chrono::seconds(1);
  next_metrics_ = next_housekeeping_;
  idle_.clear();
  server_->idle(now, idle_);
  for (Conn* c : idle_) {
    if (c->state) flush_conn(*c, ctx, true, false);
    server_->close(*c, "idle_timeout");
  }
  ctx.stats().series.replace(stats_.samples(true));
}

void StreamReader::run(pipeline::InputContext& ctx) {
  core::log::info(id_, "listening on ", server_->local());
  while (!ctx.stopping()) {
    if (!batch_ && !ensure_batch(ctx, false)) break;
    server_->poll(std::chrono::milliseconds(batch_->events.empty() ? 100 : 0));
    for (Conn* c : server_->ready()) {
      read_conn(*c, ctx);
      if (ctx.stopping()) break;
    }
    if (batch_ && !batch_->events.empty() && server_->ready().empty()) publish(ctx);
    housekeeping(ctx, server_->clock().now());
  }
  stop(ctx);
}

// Stopping: the partial message of each connection goes out as it is, then
// every connection is closed.
void StreamReader::stop(pipeline::InputContext& ctx) {
  for (Conn* c : server_->all()) {
    auto* st = c->state ? static_cast<ConnFramer*>(c->state.get()) : nullptr;
    if (st && st->framer.carried() > 0) flush_conn(*c, ctx, true, true);
    server_->close(*c, "stop");
  }
  if (batch_) publish(ctx);
  ctx.stats().series.replace(stats_.samples(true));
}

}  // namespace bifrost::inputs
