// The input thread of a datagram input (syslog over UDP): each datagram is
// one message, read many at a time (recvmmsg) and copied into the batch.
//
// UDP cannot push back. While the pipeline holds the input back, datagrams
// wait in the socket's receive buffer (receive_buffer_bytes); when it is
// full the kernel drops them. Those drops are read from the socket's own
// counter (SO_MEMINFO's drop count, the one /proc/net/udp shows) about
// once a second and counted in bifrost_events_dropped_total{reason=
// "udp_overflow"}. A datagram longer than max_message_bytes is cut by the
// kernel: what came is tagged line_cut and counted (reason "truncated").
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "inputs/common/net_address.h"
#include "inputs/common/net_metrics.h"
#include "inputs/common/socket.h"
#include "pipeline/component.h"

namespace bifrost::inputs {

struct UdpReaderOptions {
  std::size_t max_message_bytes = 64u << 10;
  std::size_t read_buffer_bytes = 256u << 10;
  std::size_t batch_events = 2048;
  const char* cut_tag = "line_cut";
  core::Clock* clock = &core::Clock::system();  // the pipeline's: the once-a-second metrics
};

class UdpReader {
 public:
  UdpReader(Fd socket, UdpReaderOptions options, NetStats& stats, std::string id);
  const std::string& local() const { return local_; }
  void run(pipeline::InputContext& ctx);

 private:
  // Reads what waits in the socket into the scratch slots; false when nothing did.
  bool receive();
  // Moves read datagrams into `batch` until it is full (then false) or none is left.
  bool take(core::Batch& batch);
  void publish(core::Batch*& batch, pipeline::InputContext& ctx);
  std::uint64_t peer_key(core::Batch& b, const PeerAddr& p);
  void count_drops(pipeline::InputContext& ctx);

  Fd socket_;
  UdpReaderOptions options_;
  NetStats& stats_;
  std::string id_;
  std::string local_;
  std::size_t slot_;   // bytes per datagram slot
  std::size_t slots_;  // datagrams per recvmmsg
  std::unique_ptr<char[]> scratch_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iov_;
  std::vector<sockaddr_storage> from_;
  std::size_t received_ = 0, next_ = 0;  // datagrams in the slots; the next one to take
  std::int64_t drops_seen_ = 0;
  // Peers already in the current batch (a few, looked up linearly).
  struct Known {
    PeerAddr peer;
    std::uint64_t key;
  };
  std::array<Known, 8> known_{};
  std::size_t known_n_ = 0, known_next_ = 0;
};

}  // namespace bifrost::inputs
