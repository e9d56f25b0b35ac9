#include "inputs/common/stream_server.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/log.h"

namespace bifrost::inputs {

namespace {
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// Out of file descriptors: accepting is paused this long (the listener
// would otherwise stay readable and spin the loop).
constexpr auto kFdLimitPause = std::chrono::milliseconds(200);
char listener_tag;
char wake_tag;
}  // namespace

Conn::~Conn() {
  tls_free(ssl);
  if (fd >= 0) ::close(fd);
}

ConnIo Conn::read(char* buf, std::size_t n, std::size_t& got) {
  got = 0;
  if (ssl) {
    switch (tls_read(ssl, buf, n, got)) {
      case TlsIo::kOk: return ConnIo::kOk;
      case TlsIo::kWantRead:
      case TlsIo::kWantWrite: return ConnIo::kAgain;
      case TlsIo::kClosed: return ConnIo::kClosed;
      case TlsIo::kFailed: return ConnIo::kError;
    }
  }
  for (;;) {
    ssize_t r = ::recv(fd, buf, n, 0);
    if (r > 0) {
      got = static_cast<std::size_t>(r);
      return ConnIo::kOk;
    }
    if (r == 0) return ConnIo::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ConnIo::kAgain;
    return ConnIo::kError;
  }
}

ConnIo Conn::write(const char* buf, std::size_t n, std::size_t& done) {
  done = 0;
  if (ssl) {
    switch (tls_write(ssl, buf, n, done)) {
      case TlsIo::kOk: return ConnIo::kOk;
      case TlsIo::kWantRead:
      case TlsIo::kWantWrite: return ConnIo::kAgain;
      case TlsIo::kClosed: return ConnIo::kClosed;
      case TlsIo::kFailed: return ConnIo::kError;
    }
  }
  for (;;) {
    ssize_t r = ::send(fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) {
      done = static_cast<std::size_t>(r);
      return ConnIo::kOk;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ConnIo::kAgain;
    return ConnIo::kError;
  }
}

bool Conn::buffered() const { return ssl != nullptr && tls_pending(ssl); }

StreamServer::StreamServer(Fd listener, StreamOptions options, NetStats& stats, std::string id)
    : listener_(std::move(listener)), options_(std::move(options)), stats_(stats), id_(std::move(id)) {
  epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  wake_fd_ = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_ || !wake_fd_) throw std::runtime_error(std::string("epoll/eventfd: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &listener_tag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &ev);
  ev.data.ptr = &wake_tag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev);
  local_ = local_address(listener_.get());
}

StreamServer::~StreamServer() {
  stats_.open.fetch_sub(static_cast<std::int64_t>(conns_.size()), std::memory_order_relaxed);
}

void StreamServer::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_fd_.get(), &one, sizeof one);
}

void StreamServer::poll(std::chrono::milliseconds timeout) {
  ready_.clear();
  for (Conn* c : carried_) {  // before the sweep: one may have closed since
    if (c->closed || c->in_ready) continue;
    c->in_ready = true;
    ready_.push_back(c);
  }
  carried_.clear();
  sweep_closed();
  const auto now = options_.clock->now();
  if (listener_paused_ && now >= listener_paused_until_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listener_tag;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &ev);
    listener_paused_ = false;
  }
  epoll_event events[128];
  int wait_ms = ready_.empty() ? static_cast<int>(timeout.count()) : 0;
  if (listener_paused_) wait_ms = std::min(wait_ms, 50);
  int n = ::epoll_wait(epoll_.get(), events, 128, wait_ms);
  if (n < 0) n = 0;  // EINTR: the next call
  const auto after = n > 0 ? options_.clock->now() : now;
  for (int i = 0; i < n; ++i) {
    void* p = events[i].data.ptr;
    if (p == &listener_tag) {
      accept_all(after);
      continue;
    }
    if (p == &wake_tag) {
      std::uint64_t v;
      [[maybe_unused]] ssize_t r = ::read(wake_fd_.get(), &v, sizeof v);
      continue;
    }
    Conn* c = static_cast<Conn*>(p);
    if (c->closed) continue;
    if (c->handshaking) {
      handshake(*c, after);
      continue;
    }
    if (!c->in_ready) {
      c->in_ready = true;
      ready_.push_back(c);
    }
  }
  for (Conn* c : ready_) c->in_ready = false;
}

void StreamServer::keep_ready(Conn& c) {
  if (!c.closed) carried_.push_back(&c);
}

void StreamServer::accept_all(NetClock::time_point now) {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        stats_.refused.add("fd_limit");
        core::log::warn(id_, "cannot accept connections: ", std::strerror(errno), "; pausing accept for 200ms");
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
        listener_paused_ = true;
        listener_paused_until_ = now + kFdLimitPause;
      }
      return;  // EAGAIN: all taken
    }
    if (conns_.size() >= options_.max_connections) {
      ::close(fd);
      stats_.refused.add("max_connections");
      core::log::warn(id_, "refused a connection from ", format_address(reinterpret_cast<sockaddr*>(&ss)), ": ",
                      options_.max_connections, " connections open (max_connections)");
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->id = next_id_++;
    c->fd = fd;
    c->peer = PeerAddr::from(reinterpret_cast<sockaddr*>(&ss));
    c->peer_text = format_address(reinterpret_cast<sockaddr*>(&ss));
    c->last_active = c->opened = now;
    stats_.accepted.fetch_add(1, std::memory_order_relaxed);
    stats_.open.fetch_add(1, std::memory_order_relaxed);
    Conn* raw = c.get();
    conns_.push_back(std::move(c));
    if (options_.tls) {
      raw->ssl = options_.tls->session(fd);
      if (!raw->ssl) {
        stats_.refused.add("tls_handshake");
        core::log::warn(id_, "TLS session for ", raw->peer_text, ": ", tls_error());
        close(*raw, nullptr);
        continue;
      }
      raw->handshaking = true;
    }
    raw->events = EPOLLIN | EPOLLRDHUP;
    epoll_event ev{};
    ev.events = raw->events;
    ev.data.ptr = raw;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
    if (raw->handshaking) {
      handshake(*raw, now);
    } else {
      if (on_open_) on_open_(*raw);
      // Bytes may already be there: read them without waiting for an edge.
      keep_ready(*raw);
    }
  }
}

void StreamServer::handshake(Conn& c, NetClock::time_point now) {
  switch (tls_handshake(c.ssl)) {
    case TlsIo::kOk:
      c.handshaking = false;
      c.last_active = now;
      c.subject = tls_peer_subject(c.ssl);
      c.want_write = false;
      update_events(c);
      if (on_open_) on_open_(c);
      keep_ready(c);  // the handshake may have brought application data along
      return;
    case TlsIo::kWantRead:
      c.want_write = false;
      update_events(c);
      return;
    case TlsIo::kWantWrite:
      c.want_write = true;
      update_events(c);
      return;
    case TlsIo::kClosed:
    case TlsIo::kFailed:
      stats_.refused.add("tls_handshake");
      core::log::warn(id_, "TLS handshake with ", c.peer_text, " failed: ", tls_error());
      close(c, nullptr);
      return;
  }
}

void StreamServer::update_events(Conn& c) {
  std::uint32_t want = (c.want_read ? EPOLLIN | EPOLLRDHUP : 0u) | (c.want_write ? EPOLLOUT : 0u);
  if (want == c.events) return;
  c.events = want;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = &c;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd, &ev);
}

void StreamServer::want_write(Conn& c, bool on) {
  if (c.closed || c.want_write == on) return;
  c.want_write = on;
  update_events(c);
}

void StreamServer::want_read(Conn& c, bool on) {
  if (c.closed || c.handshaking || c.want_read == on) return;
  c.want_read = on;
  update_events(c);
}

void StreamServer::close(Conn& c, const char* reason) {
  if (c.closed) return;
  c.closed = true;
  if (reason) stats_.closed.add(reason);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.fd, nullptr);
  stats_.open.fetch_sub(1, std::memory_order_relaxed);
  auto it = std::find_if(conns_.begin(), conns_.end(), [&](const auto& p) { return p.get() == &c; });
  if (it != conns_.end()) {
    dead_.push_back(std::move(*it));
    *it = std::move(conns_.back());
    conns_.pop_back();
  }
}

void StreamServer::sweep_closed() { dead_.clear(); }

void StreamServer::idle(NetClock::time_point now, std::vector<Conn*>& out) {
  std::vector<Conn*> stuck;
  for (const auto& c : conns_) {
    if (c->handshaking) {
      if (now - c->opened > kHandshakeTimeout) stuck.push_back(c.get());
    } else if (now - c->last_active > options_.idle_timeout) {
      out.push_back(c.get());
    }
  }
  for (Conn* c : stuck) {
    stats_.refused.add("tls_handshake");
    core::log::warn(id_, "TLS handshake with ", c->peer_text, " not done after 10s: closed");
    close(*c, nullptr);
  }
}

void StreamServer::touch_all(NetClock::time_point now) {
  for (auto& c : conns_) c->last_active = now;
}

std::vector<Conn*> StreamServer::all() {
  std::vector<Conn*> out;
  for (auto& c : conns_) out.push_back(c.get());
  return out;
}

}  // namespace bifrost::inputs
