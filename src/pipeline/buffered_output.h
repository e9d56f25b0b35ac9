// An output with `buffer.type: disk` (delivery/disk_buffer.h): the output's
// thread writes each batch's events to the buffer, and once they are durable
// the batch is finished (acknowledged); a sender reads the buffer back in
// order and delivers it through the OutputRunner like any batch (retries,
// failed queue). What is in the buffer survives a restart and goes out
// before newer events.
//
// Threads: the writer ("out:ID", the output's thread), the reader
// ("send:ID", which reads, decodes and encodes the next batch) and the
// deliverer ("dlv:ID", which delivers the one before it), so that reading
// overlaps sending.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/batch.h"
#include "delivery/disk_buffer.h"
#include "pipeline/topology.h"

namespace bifrost::pipeline {

class OutputRunner;

class BufferedOutput {
 public:
  // Opens the buffer under data_dir/buffers/<pipeline>/<output>/.
  BufferedOutput(OutputRunner& runner, const OutputNode& node, const std::string& data_dir);
  ~BufferedOutput();

  // A worker: the slot's events as buffer records (encoded for the sink
  // only when read back).
  static void encode(const core::Batch& batch, core::OutputSlot& slot);

  // Starts the writer and the reader; the writer sets the runner's done
  // once the reader has sent everything (or was given up).
  void start();
  void join() {
    if (writer_.joinable()) writer_.join();
  }
  std::uint64_t bytes() const { return buffer_->bytes(); }

 private:
  void write_loop();
  void send_loop();

  OutputRunner& runner_;
  std::unique_ptr<delivery::DiskBuffer> buffer_;
  std::thread writer_, sender_;
};

}  // namespace bifrost::pipeline
