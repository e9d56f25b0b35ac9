// The input thread of a stream input whose peers only send (tcp, syslog
// over TCP or TLS): reads every connection into the current batch, splits
// it into messages with the connection's own framer, and publishes.
//
// Backpressure: when the pipeline has no free batch the loop waits for one
// and reads nothing meanwhile: the sockets' buffers fill and the senders
// block. Nothing is dropped. Fairness: a connection is read for at most
// read_buffer_bytes per round before the others get their turn.
//
// No acknowledgement can reach a sender (neither TCP nor syslog has one),
// so what was received but not yet delivered when bifrost is killed is
// lost, as with every syslog or TCP receiver; at a clean stop the partial
// message each connection still holds is sent on as it is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/stats.h"
#include "inputs/common/framing.h"
#include "inputs/common/stream_server.h"
#include "pipeline/component.h"

namespace bifrost::inputs {

struct StreamReaderOptions {
  Framing framing = Framing::kNewline;
  std::size_t max_message_bytes = 1u << 20;
  std::size_t read_buffer_bytes = 256u << 10;
  std::size_t batch_events = 2048;
  const char* cut_tag = "line_cut";
};

class StreamReader {
 public:
  StreamReader(std::unique_ptr<StreamServer> server, StreamReaderOptions options, NetStats& stats, std::string id);
  ~StreamReader();
  const std::string& local() const { return server_->local(); }
  void run(pipeline::InputContext& ctx);

 private:
  struct ConnFramer;
  bool ensure_batch(pipeline::InputContext& ctx, bool final);
  bool ensure_room(std::size_t need, pipeline::InputContext& ctx, bool final);
  void publish(pipeline::InputContext& ctx);
  void read_conn(Conn& c, pipeline::InputContext& ctx);
  // Splits what `c` holds into the batch; `eof` sends its partial message too.
  void flush_conn(Conn& c, pipeline::InputContext& ctx, bool eof, bool final);
  void housekeeping(pipeline::InputContext& ctx, NetClock::time_point now);
  void stop(pipeline::InputContext& ctx);
  bool batch_full() const;

  std::unique_ptr<StreamServer> server_;
  StreamReaderOptions options_;
  NetStats& stats_;
  std::string id_;
  core::Batch* batch_ = nullptr;
  std::uint64_t serial_ = 0;  // of the current batch: a connection adds its peer once per batch
  NetClock::time_point next_housekeeping_{};
  NetClock::time_point next_metrics_{};
  std::vector<Conn*> idle_;
};

}  // namespace bifrost::inputs
