// The http input's thread: one epoll loop (inputs/common/stream_server.h)
// over its connections, each a small state machine:
//
//   head    reading the request line and headers (at most 16 KiB)
//   body    reading the body straight into the request's batch
//   wait    published; waiting for the acknowledgement (nothing read, so
//           a pipelined next request waits in the socket)
//   write   sending the answer
//   discard after an error answered before the body was read: its bytes
//           are read and dropped until the client closes (a lingering close,
//           so that the client gets the answer rather than a reset)
//
// Acknowledgement: a request is one batch with a tracker of its own. When
// the batch finishes, finished() (on whichever thread released it last)
// notes how many of its events were parked and wakes the loop, which
// answers once the tracker says the batch is acknowledged. At stop, run()
// returns at once; the requests still waiting are answered in drained(),
// after the pipeline drained: 200 if delivered, 503 if given up.
#include <poll.h>

#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "core/ack.h"
#include "core/log.h"
#include "core/secrets.h"
#include "core/time.h"
#include "inputs/common/influx_event.h"
#include "inputs/common/peers.h"
#include "inputs/common/stream_server.h"
#include "inputs/http/http_input.h"
#include "inputs/http/metrics.h"
#include "inputs/http/request.h"
#include "inputs/http/response.h"

namespace bifrost::inputs::http {

namespace {

struct Pending {
  std::shared_ptr<core::AckTracker> tracker;
  std::uint64_t conn_id = 0;
  std::size_t events = 0;
  std::uint32_t parked = 0;
  bool released = false;
  bool abandoned = false;
};

struct HttpConn final : ConnState {
  enum class Phase : std::uint8_t { kHead, kBody, kWait, kWrite, kDiscard };
  Phase phase = Phase::kHead;
  std::string in;  // read, not used yet: the head, a chunked body's raw bytes, a next request
  std::string head_text;
  RequestHead head;
  core::Batch* batch = nullptr;  // the request's, while its body is read
  std::uint64_t body_left = 0;
  ChunkedDecoder chunked;
  std::string out;
  std::size_t out_done = 0;
  bool close_after = false;
  std::uint64_t discard_left = 0;
  ~HttpConn() override {
    if (batch) batch->release();
  }
};

class HttpInput final : public pipeline::Input {
 public:
  HttpInput(const Spec& spec, const pipeline::BuildContext& ctx)
      : spec_(spec), id_(ctx.component), stats_(std::make_unique<NetStats>()) {
    if (spec.decoding == Decoding::kInflux) {
      influx_ = std::make_unique<InfluxLines>(spec.precision, ctx.stats, "http_influx_invalid");
    }
    expected_auth_ = expected_authorization(spec.auth);
    auto listener = listen_tcp(spec.net.listen);
    if (!listener) throw std::runtime_error(id_ + ": " + listener.error().message);
    StreamOptions options;
    options.max_connections = static_cast<std::size_t>(spec.net.max_connections);
    options.idle_timeout = std::chrono::nanoseconds(spec.net.idle_timeout_ns);
    options.clock = ctx.clock;
    if (spec.net.tls.enabled) {
      auto tls = TlsContext::make(spec.net.tls);
      if (!tls) throw std::runtime_error(id_ + ": " + tls.error().message);
      options.tls = *tls;
    }
    server_ = std::make_unique<StreamServer>(std::move(*listener), options, *stats_, id_);
    server_->on_open([this](Conn& c) {
      c.state = std::make_unique<HttpConn>();
      by_id_[c.id] = &c;
    });
  }

  void run(pipeline::InputContext& ctx) override;
  void drained() override;
  void decorate(core::Batch& batch) const override;
  void finished(const core::Batch& batch, bool acknowledged) const override;

 private:
  void serve(Conn& c, pipeline::InputContext& ctx);
  void read_head(Conn& c, HttpConn& h, pipeline::InputContext& ctx);
  void start_body(Conn& c, HttpConn& h, pipeline::InputContext& ctx);
  void read_body(Conn& c, HttpConn& h, pipeline::InputContext& ctx);
  void finish_request(Conn& c, HttpConn& h, pipeline::InputContext& ctx);
  void discard(Conn& c, HttpConn& h);
  void respond(Conn& c, HttpConn& h, int status, const std::string& body, const std::string& headers = {},
               bool close = false);
  void error(Conn& c, HttpConn& h, int status, const std::string& reason, bool body_unread,
             const std::string& headers = {});
  void flush(Conn& c, HttpConn& h);
  void close_conn(Conn& c, const char* reason);
  void settle(bool final);
  void answer(const Pending& p);
  void publish_series(pipeline::InputContext& ctx);

  Spec spec_;
  std::string id_;
  std::string expected_auth_;
  std::unique_ptr<NetStats> stats_;
  std::unique_ptr<InfluxLines> influx_;  // decoding: influx
  std::unique_ptr<StreamServer> server_;
  std::unordered_map<std::uint64_t, Conn*> by_id_;
  ReasonCounts requests_;
  // Shared with finished() on other threads.
  mutable std::mutex mu_;
  mutable std::unordered_map<const core::AckTracker*, std::shared_ptr<Pending>> pending_;
  mutable std::vector<std::shared_ptr<Pending>> released_;
  // Released but not yet acknowledged (a stage or output still holds them).
  std::vector<std::shared_ptr<Pending>> unsettled_;
  std::vector<Conn*> idle_;
};

void HttpInput::finished(const core::Batch& batch, bool acknowledged) const {
  if (!batch.tracker) return;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(batch.tracker.get());
    if (it == pending_.end()) return;
    Pending& p = *it->second;
    p.parked += batch.parked.load(std::memory_order_relaxed);
    p.released = true;
    p.abandoned = p.abandoned || !acknowledged;
    released_.push_back(it->second);
    pending_.erase(it);
  }
  server_->wake();
}

void HttpInput::decorate(core::Batch& batch) const {
  thread_local std::vector<PeerFields> peers;
  take_peers(batch, peers);
  std::size_t hint = 0;
  bool bad_points = false;
  for (core::Event& e : batch.events) {
    const PeerFields* p = find_peer(peers, e.offset, hint);
    e.offset = 0;
    if (influx_) bad_points |= !influx_->decode(batch, e, *stats_);
    if (p) set_peer_fields(batch, e, *p);
  }
  if (bad_points) influx_->publish();
}

void HttpInput::close_conn(Conn& c, const char* reason) {
  by_id_.erase(c.id);
  server_->close(c, reason);
}

void HttpInput::respond(Conn& c, HttpConn& h, int status, const std::string& body, const std::string& headers,
                        bool close) {
  requests_.add(status_label(status));
  h.close_after = close || !h.head.keep_alive;
  h.out = core::cat("HTTP/1.1 ", status, " ", status_text(status),
                    "\r\nServer: bifrost\r\nContent-Type: ", "application/json\r\nContent-Length: ", body.size() + 1,
                    "\r\n", headers, h.close_after ? "Connection: close\r\n" : "", "\r\n", body, "\n");
  h.out_done = 0;
  h.phase = HttpConn::Phase::kWrite;
  server_->want_read(c, false);
  flush(c, h);
}

// An error answer. `body_unread`: the body (if any) is still coming; the
// connection closes after the answer, reading and dropping what comes.
void HttpInput::error(Conn& c, HttpConn& h, int status, const std::string& reason, bool body_unread,
                      const std::string& headers) {
  if (h.batch) {
    h.batch->release();
    h.batch = nullptr;
  }
  if (status >= 500 || status == 429) core::log::warn(id_, status, " to ", c.peer_text, ": ", reason);
  else core::log::debug(id_, status, " to ", c.peer_text, ": ", reason);
  if (body_unread) {
    // A bounded lingering read: the body as announced, or what a chunked
    // or unannounced one sends within 64 MiB.
    h.discard_left = h.head.content_length >= 0 ? static_cast<std::uint64_t>(h.head.content_length) : (64u << 20);
    if (h.head.expect_continue) h.discard_left = 0;  // told not to send it
  }
  respond(c, h, status, "{\"error\":" + json_string(reason) + "}", headers, body_unread);
}

void HttpInput::flush(Conn& c, HttpConn& h) {
  while (h.out_done < h.out.size()) {
    std::size_t done = 0;
    const ConnIo io = c.write(h.out.data() + h.out_done, h.out.size() - h.out_done, done);
    if (io == ConnIo::kAgain) {
      server_->want_write(c, true);
      return;
    }
    if (io != ConnIo::kOk) {
      close_conn(c, "error");
      return;
    }
    h.out_done += done;
  }
  server_->want_write(c, false);
  h.out.clear();
  h.out_done = 0;
  if (h.phase == HttpConn::Phase::kWrite) {
    if (h.close_after) {
      if (h.discard_left == 0) {
        close_conn(c, "eof");
        return;
      }
      h.phase = HttpConn::Phase::kDiscard;
    } else {
      h.phase = HttpConn::Phase::kHead;
      h.head = RequestHead{};
    }
    server_->want_read(c, true);
    server_->touch(c, server_->clock().now());
    if (!h.in.empty()) server_->keep_ready(c);  // a pipelined request is already here
  }
}

void HttpInput::serve(Conn& c, pipeline::InputContext& ctx) {
  auto& h = static_cast<HttpConn&>(*c.state);
  switch (h.phase) {
    case HttpConn::Phase::kHead: read_head(c, h, ctx); return;
    case HttpConn::Phase::kBody: read_body(c, h, ctx); return;
    case HttpConn::Phase::kWait:
      // Nothing is read while waiting: this is a hangup or an error. The
      // events go on; the answer has nobody to go to.
      close_conn(c, "eof");
      return;
    case HttpConn::Phase::kWrite: flush(c, h); return;
    case HttpConn::Phase::kDiscard: discard(c, h); return;
  }
}

void HttpInput::read_head(Conn& c, HttpConn& h, pipeline::InputContext& ctx) {
  std::size_t end = head_end(h.in);
  while (end == 0) {
    if (h.in.size() >= kMaxHeadBytes) {
      stats_->parse_errors.add("head_too_large");
      error(c, h, 431, "the request head is over 16 KiB", true);
      return;
    }
    const std::size_t at = h.in.size();
    h.in.resize(kMaxHeadBytes);
    std::size_t got = 0;
    const ConnIo io = c.read(h.in.data() + at, kMaxHeadBytes - at, got);
    h.in.resize(at + got);
    if (io == ConnIo::kAgain) return;
    if (io != ConnIo::kOk) {
      close_conn(c, io == ConnIo::kClosed ? "eof" : "error");
      return;
    }
    stats_->received_bytes.fetch_add(got, std::memory_order_relaxed);
    server_->touch(c, server_->clock().now());
    end = head_end(h.in);
  }
  h.head_text.assign(h.in, 0, end);
  h.in.erase(0, end);
  int status = 400;
  std::string reason;
  if (!parse_head(h.head_text, h.head, status, reason)) {
    stats_->parse_errors.add("bad_request");
    h.head.keep_alive = false;
    error(c, h, status, reason, true);
    return;
  }
  start_body(c, h, ctx);
}

void HttpInput::start_body(Conn& c, HttpConn& h, pipeline::InputContext& ctx) {
  const RequestHead& r = h.head;
  std::string_view path = r.target.substr(0, r.target.find('?'));
  if (path != spec_.path) return error(c, h, 404, "events are posted to " + spec_.path, true);
  if (r.method != "POST") return error(c, h, 405, "POST only", true, "Allow: POST\r\n");
  if (!expected_auth_.empty() && !core::secrets::constant_time_equal(r.authorization, expected_auth_)) {
    stats_->parse_errors.add("unauthorized");
    const char* scheme = spec_.auth.kind == Auth::Kind::kBasic ? "Basic" : "Bearer";
    return error(c, h, 401, "missing or wrong credentials", true,
                 core::cat("WWW-Authenticate: ", scheme, " realm=\"bifrost\"\r\n"));
  }
  if (!r.content_encoding.empty() && r.content_encoding != "identity")
    return error(c, h, 415, "Content-Encoding is not supported (send the body as it is)", true);
  if (!r.chunked && r.content_length < 0) return error(c, h, 411, "Content-Length or chunked encoding needed", true);
  if (r.content_length > static_cast<std::int64_t>(spec_.max_body_bytes)) {
    stats_->parse_errors.add("body_too_large");
    return error(c, h, 413, core::cat("the body is over max_body_bytes (", spec_.max_body_bytes, ")"), true);
  }
  // The pipeline's batches are the bound: none free means full.
  h.batch = ctx.acquire_for(std::chrono::milliseconds(0));
  if (!h.batch) {
    return error(c, h, 429, "the pipeline is full; send again later", true,
                 core::cat("Retry-After: ", spec_.retry_after_s, "\r\n"));
  }
  h.batch->chunk.reserve(r.chunked ? 64u << 10 : static_cast<std::size_t>(r.content_length));
  h.body_left = r.chunked ? 0 : static_cast<std::uint64_t>(r.content_length);
  h.chunked.reset();
  h.phase = HttpConn::Phase::kBody;
  if (r.expect_continue) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    std::size_t done = 0;
    // Small enough for any socket buffer at this point; a short write fails the request.
    if (c.write(kContinue.data(), kContinue.size(), done) != ConnIo::kOk || done != kContinue.size()) {
      close_conn(c, "error");
      return;
    }
  }
  read_body(c, h, ctx);
}

void HttpInput::read_body(Conn& c, HttpConn& h, pipeline::InputContext& ctx) {
  core::ByteBuffer& body = h.batch->chunk;
  const std::size_t max = spec_.max_body_bytes;
  for (;;) {
    if (h.head.chunked) {
      if (!h.in.empty()) {
        std::size_t used = 0;
        const auto st = h.chunked.feed(h.in, used, &body, max);
        h.in.erase(0, used);
        if (st == ChunkedDecoder::Status::kDone) return finish_request(c, h, ctx);
        if (st == ChunkedDecoder::Status::kTooLarge) {
          stats_->parse_errors.add("body_too_large");
          return error(c, h, 413, core::cat("the body is over max_body_bytes (", max, ")"), true);
        }
        if (st == ChunkedDecoder::Status::kBad) {
          stats_->parse_errors.add("bad_chunked_encoding");
          return error(c, h, 400, "bad chunked encoding", true);
        }
      }
      char buf[64 * 1024];
      std::size_t got = 0;
      const ConnIo io = c.read(buf, sizeof buf, got);
      if (io == ConnIo::kAgain) return;
      if (io != ConnIo::kOk) return close_conn(c, io == ConnIo::kClosed ? "eof" : "error");
      stats_->received_bytes.fetch_add(got, std::memory_order_relaxed);
      server_->touch(c, server_->clock().now());
      h.in.append(buf, got);
      continue;
    }
    if (!h.in.empty() && h.body_left > 0) {  // body bytes read along with the head
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(h.body_left, h.in.size()));
      const std::size_t at = body.size();
      body.resize(at + n);
      std::memcpy(body.data() + at, h.in.data(), n);
      h.in.erase(0, n);
      h.body_left -= n;
    }
    if (h.body_left == 0) return finish_request(c, h, ctx);
    const std::size_t at = body.size();
    body.resize(at + h.body_left);  // reserved at the start: never moves
    std::size_t got = 0;
    const ConnIo io = c.read(body.data() + at, static_cast<std::size_t>(h.body_left), got);
    body.resize(at + got);
    if (io == ConnIo::kAgain) return;
    if (io != ConnIo::kOk) return close_conn(c, io == ConnIo::kClosed ? "eof" : "error");
    stats_->received_bytes.fetch_add(got, std::memory_order_relaxed);
    server_->touch(c, server_->clock().now());
    h.body_left -= got;
  }
}

void HttpInput::finish_request(Conn& c, HttpConn& h, pipeline::InputContext& ctx) {
  core::Batch* b = h.batch;
  const std::uint64_t peer = add_peer(*b, c.peer, c.subject);
  std::string reason;
  if (!decode_body(*b, spec_.decoding, peer, static_cast<std::size_t>(spec_.max_events), reason)) {
    const bool too_many = reason.find("max_events") != std::string::npos;
    stats_->parse_errors.add(too_many ? "too_many_events" : "bad_body");
    return error(c, h, too_many ? 413 : 400, reason, false);
  }
  const std::size_t n = b->events.size();
  h.batch = nullptr;
  if (n == 0) {
    b->release();
    return respond(c, h, 200, "{\"events\":0,\"parked\":0}", "Bifrost-Events: 0\r\nBifrost-Parked: 0\r\n");
  }
  b->ingest_ns = core::now_ns();
  for (core::Event& e : b->events) {
    if (e.timestamp_ns == 0) e.timestamp_ns = b->ingest_ns;
  }
  if (!spec_.acknowledgements) {
    ctx.publish(b);
    return respond(c, h, 200, core::cat("{\"events\":", n, "}"), core::cat("Bifrost-Events: ", n, "\r\n"));
  }
  auto p = std::make_shared<Pending>();
  p->tracker = std::make_shared<core::AckTracker>(0);
  p->conn_id = c.id;
  p->events = n;
  b->tracker = p->tracker;
  b->ack_seq = p->tracker->track(1);
  {
    std::lock_guard lock(mu_);
    pending_[p->tracker.get()] = p;
  }
  h.phase = HttpConn::Phase::kWait;
  server_->want_read(c, false);
  ctx.publish(b);
}

void HttpInput::discard(Conn& c, HttpConn& h) {
  h.in.clear();
  char buf[64 * 1024];
  while (h.discard_left > 0) {
    std::size_t got = 0;
    const ConnIo io = c.read(buf, sizeof buf, got);
    if (io == ConnIo::kAgain) return;
    if (io != ConnIo::kOk) break;
    server_->touch(c, server_->clock().now());
    h.discard_left -= std::min<std::uint64_t>(h.discard_left, got);
  }
  close_conn(c, "eof");
}

void HttpInput::answer(const Pending& p) {
  auto it = by_id_.find(p.conn_id);
  if (it == by_id_.end()) {
    core::log::debug(id_, "a request's client left before its answer (", p.events, " events)");
    return;
  }
  Conn& c = *it->second;
  auto& h = static_cast<HttpConn&>(*c.state);
  if (h.phase != HttpConn::Phase::kWait) return;
  if (p.abandoned) {
    respond(c, h, 503, "{\"error\":\"bifrost stopped before the events were delivered; send them again\"}",
            core::cat("Retry-After: ", spec_.retry_after_s, "\r\n"), true);
    return;
  }
  respond(c, h, 200, core::cat("{\"events\":", p.events, ",\"parked\":", p.parked, "}"),
          core::cat("Bifrost-Events: ", p.events, "\r\nBifrost-Parked: ", p.parked, "\r\n"));
}

// Answers the requests whose batch finished and is acknowledged (a hold of
// a stateful stage or an output may keep it pending after its release).
void HttpInput::settle(bool final) {
  {
    std::lock_guard lock(mu_);
    unsettled_.insert(unsettled_.end(), released_.begin(), released_.end());
    released_.clear();
    if (final) {
      // Given up: whatever still waits is not delivered.
      for (auto& [t, p] : pending_) {
        p->abandoned = true;
        unsettled_.push_back(p);
      }
      pending_.clear();
    }
  }
  std::size_t keep = 0;
  for (auto& p : unsettled_) {
    if (p->abandoned || p->tracker->acknowledged() >= 1 || final) {
      if (final && !p->abandoned && p->tracker->acknowledged() < 1) p->abandoned = true;
      answer(*p);
    } else {
      unsettled_[keep++] = p;
    }
  }
  unsettled_.resize(keep);
}

void HttpInput::publish_series(pipeline::InputContext& ctx) {
  auto series = stats_->samples(true);
  requests_.samples(kRequests, series);
  ctx.stats().series.replace(std::move(series));
}

void HttpInput::run(pipeline::InputContext& ctx) {
  core::log::info(id_, "listening on ", server_->local(), spec_.net.tls.enabled ? " (https)" : " (http)");
  auto next_housekeeping = server_->clock().now();
  while (!ctx.stopping()) {
    server_->poll(std::chrono::milliseconds(unsettled_.empty() ? 100 : 10));
    settle(false);
    for (Conn* c : server_->ready()) {
      if (c->state) serve(*c, ctx);
    }
    const auto now = server_->clock().now();
    if (now >= next_housekeeping) {
      next_housekeeping = now + std::chrono::seconds(1);
      idle_.clear();
      server_->idle(now, idle_);
      for (Conn* c : idle_) {
        auto* h = c->state ? static_cast<HttpConn*>(c->state.get()) : nullptr;
        if (h && h->phase == HttpConn::Phase::kWait) continue;  // waiting on us, not idle
        close_conn(*c, "idle_timeout");
      }
      publish_series(ctx);
    }
  }
  // Stopping: no new request; those waiting for their acknowledgement are
  // answered in drained().
  for (Conn* c : server_->all()) {
    auto* h = c->state ? static_cast<HttpConn*>(c->state.get()) : nullptr;
    if (!h || h->phase != HttpConn::Phase::kWait) close_conn(*c, "stop");
  }
  settle(false);
  publish_series(ctx);
}

void HttpInput::drained() {
  settle(true);
  // Send the answers, within a bound: a client that does not read is left.
  // Real time, not the pipeline's clock: it bounds a stop, which must end
  // even when a test's clock stands still.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    bool writing = false;
    for (Conn* c : server_->all()) {
      auto* h = c->state ? static_cast<HttpConn*>(c->state.get()) : nullptr;
      if (!h || h->phase != HttpConn::Phase::kWrite) continue;
      flush(*c, *h);
      writing = writing || h->phase == HttpConn::Phase::kWrite;
    }
    if (!writing) break;
    server_->poll(std::chrono::milliseconds(10));
  }
  for (Conn* c : server_->all()) close_conn(*c, "stop");
}

}  // namespace

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<HttpInput>(*this, ctx);
}

}  // namespace bifrost::inputs::http
