#include "inputs/common/udp_reader.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/time.h"
#include "inputs/common/peers.h"

namespace bifrost::inputs {

namespace {
constexpr std::size_t kMaxSlots = 64;
}

UdpReader::UdpReader(Fd socket, UdpReaderOptions options, NetStats& stats, std::string id)
    : socket_(std::move(socket)), options_(options), stats_(stats), id_(std::move(id)) {
  local_ = local_address(socket_.get());
  // One byte more than a message may be, so that the kernel's MSG_TRUNC
  // tells a datagram of exactly max_message_bytes from a longer one.
  slot_ = std::min<std::size_t>(options_.max_message_bytes, 65535) + 1;
  slots_ = std::clamp<std::size_t>((1u << 20) / slot_, 1, kMaxSlots);
  scratch_.reset(new char[slot_ * slots_]);
  msgs_.resize(slots_);
  iov_.resize(slots_);
  from_.resize(slots_);
  drops_seen_ = std::max<std::int64_t>(0, socket_drops(socket_.get()));
}

std::uint64_t UdpReader::peer_key(core::Batch& b, const PeerAddr& p) {
  for (std::size_t i = 0; i < known_n_; ++i) {
    if (known_[i].peer == p) return known_[i].key;
  }
  const std::uint64_t key = add_peer(b, p);
  known_[known_next_] = {p, key};
  known_next_ = (known_next_ + 1) % known_.size();
  known_n_ = std::min(known_n_ + 1, known_.size());
  return key;
}

void UdpReader::count_drops(pipeline::InputContext& ctx) {
  const std::int64_t now = socket_drops(socket_.get());
  if (now > drops_seen_) {
    ctx.stats().add_dropped("udp_overflow", static_cast<std::uint64_t>(now - drops_seen_));
    core::log::warn(id_, now - drops_seen_,
                    " datagram(s) dropped by the kernel: the receive buffer was full "
                    "(raise receive_buffer_bytes, or the pipeline is too slow)");
    drops_seen_ = now;
  }
}

bool UdpReader::receive() {
  for (std::size_t i = 0; i < slots_; ++i) {
    iov_[i] = {scratch_.get() + i * slot_, slot_};
    msgs_[i] = {};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &from_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof from_[i];
  }
  int n = ::recvmmsg(socket_.get(), msgs_.data(), static_cast<unsigned>(slots_), MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      core::log::warn(id_, "recvmmsg: ", std::strerror(errno));
    return false;
  }
  received_ = static_cast<std::size_t>(n);
  next_ = 0;
  return true;
}

bool UdpReader::take(core::Batch& b) {
  for (; next_ < received_; ++next_) {
    const mmsghdr& m = msgs_[next_];
    std::size_t len = m.msg_len;
    const bool truncated = (m.msg_hdr.msg_flags & MSG_TRUNC) != 0 || len > options_.max_message_bytes;
    len = std::min(len, options_.max_message_bytes);
    const char* data = scratch_.get() + next_ * slot_;
    // A trailer some senders add is no part of the message.
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == '\0')) --len;
    if (!b.events.empty() && (b.chunk.capacity() - b.chunk.size() < len || b.events.size() >= options_.batch_events))
      return false;
    if (b.chunk.capacity() - b.chunk.size() < len) b.chunk.reserve(b.chunk.size() + len);  // empty: may move
    stats_.received_bytes.fetch_add(m.msg_len, std::memory_order_relaxed);
    const std::size_t at = b.chunk.size();
    b.chunk.resize(at + len);
    std::memcpy(b.chunk.data() + at, data, len);
    core::Event& e = b.events.emplace_back();
    e.message = std::string_view(b.chunk.data() + at, len);
    e.offset = peer_key(b, PeerAddr::from(reinterpret_cast<const sockaddr*>(&from_[next_])));
    if (truncated) {
      core::add_tag(e, options_.cut_tag, b.arena);
      stats_.parse_errors.add("truncated");
    }
  }
  return true;
}

void UdpReader::publish(core::Batch*& batch, pipeline::InputContext& ctx) {
  if (batch->events.empty()) {
    batch->release();
  } else {
    batch->ingest_ns = core::now_ns();
    for (core::Event& e : batch->events) e.timestamp_ns = batch->ingest_ns;
    ctx.publish(batch);
  }
  batch = nullptr;
}

void UdpReader::run(pipeline::InputContext& ctx) {
  core::log::info(id_, "listening on ", local_, " (udp)");
  auto next_tick = options_.clock->now();
  core::Batch* batch = nullptr;
  while (!ctx.stopping()) {
    if (auto now = options_.clock->now(); now >= next_tick) {
      next_tick = now + std::chrono::seconds(1);
      count_drops(ctx);
      ctx.stats().series.replace(stats_.samples(false));
    }
    if (!batch) {
      // Held back: datagrams wait in the socket's buffer, or are dropped and counted.
      batch = ctx.acquire_for(std::chrono::milliseconds(100));
      if (!batch) continue;
      batch->chunk.reserve(options_.read_buffer_bytes);
      known_n_ = 0;
    }
    if (next_ < received_ || receive()) {
      if (!take(*batch)) publish(batch, ctx);  // full; the rest of the read waits in the slots
      continue;
    }
    if (!batch->events.empty()) {
      publish(batch, ctx);
      continue;
    }
    pollfd p{socket_.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
  }
  // Stopping: what was read from the socket goes on.
  while (batch || next_ < received_) {
    if (!batch) {
      batch = ctx.acquire_final();
      if (!batch) {
        ctx.stats().add_dropped("shutdown", received_ - next_);
        break;
      }
      known_n_ = 0;
    }
    take(*batch);
    publish(batch, ctx);
  }
  count_drops(ctx);
  ctx.stats().series.replace(stats_.samples(false));
}

}  // namespace bifrost::inputs
