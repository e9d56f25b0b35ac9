// The connections of one stream input (tcp, syslog over TCP or TLS, http):
// one epoll loop on the input's own thread that accepts, refuses past
// max_connections, does TLS handshakes, and says which connections have
// something to read. The input reads them itself (into its batches), so
// when the pipeline holds the input back it simply stops calling poll():
// nothing is read and nothing accepted, the kernel's buffers fill, and the
// senders' TCP windows close. Nothing is dropped.
//
// Bounds: at most max_connections connections (more are accepted and
// closed at once, counted as refused); a TLS handshake gets 10 s; a
// connection with nothing to read for idle_timeout is closed (the input
// first sends on what it still holds of it). Per connection the input keeps
// at most one partial message, so memory is bounded by max_connections
// times the largest message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "inputs/common/net_address.h"
#include "inputs/common/net_metrics.h"
#include "inputs/common/socket.h"
#include "inputs/common/tls_server.h"

namespace bifrost::inputs {

// Idle timeouts, handshake bounds and pauses run on the pipeline's clock
// (BuildContext::clock), so tests can move it.
using NetClock = core::Clock;

// What an input keeps per connection (its framer, its parser).
class ConnState {
 public:
  virtual ~ConnState() = default;
};

enum class ConnIo : std::uint8_t { kOk, kAgain, kClosed, kError };

class Conn {
 public:
  ~Conn();
  ConnIo read(char* buf, std::size_t n, std::size_t& got);
  ConnIo write(const char* buf, std::size_t n, std::size_t& done);
  // Bytes already decrypted and waiting (TLS): readable without the socket.
  bool buffered() const;

  std::uint64_t id = 0;
  int fd = -1;
  SSL* ssl = nullptr;
  PeerAddr peer;
  std::string subject;    // the TLS client certificate's subject, when one was sent
  std::string peer_text;  // "1.2.3.4:5678", for the log
  std::unique_ptr<ConnState> state;

 private:
  friend class StreamServer;
  bool handshaking = false;
  bool closed = false;
  bool want_write = false;
  bool want_read = true;
  bool in_ready = false;
  std::uint32_t events = 0;  // what epoll registered
  NetClock::time_point last_active;
  NetClock::time_point opened;
};

struct StreamOptions {
  std::size_t max_connections = 256;
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(5);
  std::shared_ptr<TlsContext> tls;              // null: plain TCP
  core::Clock* clock = &core::Clock::system();  // the pipeline's (BuildContext::clock)
};

class StreamServer {
 public:
  StreamServer(Fd listener, StreamOptions options, NetStats& stats, std::string id);
  ~StreamServer();
  NetClock& clock() const { return *options_.clock; }
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Called for each connection once it is ready for data (after its TLS
  // handshake): where the input attaches its state.
  void on_open(std::function<void(Conn&)> f) { on_open_ = std::move(f); }

  // Waits up to `timeout` for activity (0: only what is ready now), accepts,
  // advances handshakes, and fills ready(): connections with bytes (or a
  // hangup) to read, and writable ones that asked for it.
  void poll(std::chrono::milliseconds timeout);
  const std::vector<Conn*>& ready() const { return ready_; }
  // A connection the input did not read to the end this round: in ready()
  // again after the next poll(), which then does not wait.
  void keep_ready(Conn& c);
  // Asks to be told (in ready()) when `c` can be written to.
  void want_write(Conn& c, bool on);
  // Stops (or resumes) watching `c` for bytes to read: its bytes wait in the
  // socket. A hangup or error still puts it in ready().
  void want_read(Conn& c, bool on);
  // Closes `c`, counted under `reason` (eof, idle_timeout, error). Its
  // memory is freed at the next poll().
  void close(Conn& c, const char* reason);

  // Connections idle for idle_timeout, into `out`; the caller sends on what
  // it holds of them and closes them. Handshakes past 10 s are closed here.
  void idle(NetClock::time_point now, std::vector<Conn*>& out);
  // After a spell of not reading (held back): no connection counts as idle for it.
  void touch_all(NetClock::time_point now);
  // Every open connection (to close them all at stop).
  std::vector<Conn*> all();
  std::size_t open() const { return conns_.size(); }
  void touch(Conn& c, NetClock::time_point now) { c.last_active = now; }
  // Thread-safe: ends the current or next poll() early.
  void wake();
  const std::string& local() const { return local_; }

 private:
  void accept_all(NetClock::time_point now);
  void handshake(Conn& c, NetClock::time_point now);
  void update_events(Conn& c);
  void sweep_closed();

  Fd listener_;
  Fd epoll_;
  Fd wake_fd_;
  StreamOptions options_;
  NetStats& stats_;
  std::string id_;
  std::string local_;
  std::function<void(Conn&)> on_open_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> ready_;
  std::vector<Conn*> carried_;  // keep_ready()
  std::vector<std::unique_ptr<Conn>> dead_;
  std::uint64_t next_id_ = 1;
  NetClock::time_point listener_paused_until_{};
  bool listener_paused_ = false;
};

}  // namespace bifrost::inputs
