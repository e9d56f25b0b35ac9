#include "pipeline/buffered_output.h"

#include "delivery/buffer_record.h"
#include "delivery/retry_policy.h"
#include "pipeline/output_runner.h"
#include "pipeline/threads.h"

namespace bifrost::pipeline {

using core::Batch;
using core::OutputSlot;

BufferedOutput::BufferedOutput(OutputRunner& runner, const OutputNode& node, const std::string& data_dir)
    : runner_(runner) {
  const std::string& pipeline = runner.stats_.pipeline;
  buffer_ = std::make_unique<delivery::DiskBuffer>(
      data_dir, "buffers/" + pipeline + "/" + node.id, node.delivery.buffer,
      delivery::CheckpointStore(data_dir, pipeline, node.id + ".buffer", &runner.stats_), &runner.stats_);
  buffer_->open();
}

BufferedOutput::~BufferedOutput() { join(); }

void BufferedOutput::encode(const Batch& batch, OutputSlot& slot) { delivery::encode_buffer_records(batch, slot); }

void BufferedOutput::start() {
  writer_ = std::thread([this] {
    name_thread("out:" + runner_.stats_.component);
    write_loop();
  });
  sender_ = std::thread([this] {
    name_thread("send:" + runner_.stats_.component);
    send_loop();
  });
}

// Each batch's events into the buffer, durably, before the batch is
// released (acknowledged). A full buffer waits (or drops newest, counted);
// a failed write is tried again until it succeeds or delivery is given up.
void BufferedOutput::write_loop() {
  core::Interruptible& pause = runner_.pause_;
  while (auto item = runner_.queue_.pop()) {
    Batch& batch = *item->batch;
    const OutputSlot& slot = batch.slots[item->slot];
    bool dropped = false;
    const bool stored = delivery::retry_disk_write(pause, [&] {
      auto put = buffer_->append(slot.encoded, [&] { return pause.interrupted(); });
      dropped = put && *put == delivery::DiskBuffer::Put::kDropped;
      return put.has_value();
    });
    if (dropped) runner_.stats_.add_dropped("buffer_full", slot.selected.size());
    if (!stored) batch.abandon();
    core::add_queue(runner_.stats_, -static_cast<std::int64_t>(slot.selected.size()));
    batch.release();
  }
  buffer_->close_writer();
  if (sender_.joinable()) sender_.join();
  runner_.done_.store(true);
}

// Reads the buffer in order and delivers it. Two stages, so that reading
// overlaps sending: this thread reads, decodes and encodes the next batch
// while the deliverer delivers the one before it. The read position is
// committed only past what is finished.
void BufferedOutput::send_loop() {
  constexpr std::size_t kEvents = 2048;
  struct Ready {
    Batch* batch;
    delivery::DiskBuffer::Position end;
  };
  Output& output = *runner_.output_;
  core::Clock& clock = runner_.clock_;
  core::Interruptible& pause = runner_.pause_;
  core::BatchPool pool(2);
  BoundedQueue<Ready> ready(1);
  std::thread deliverer([&] {
    name_thread("dlv:" + runner_.stats_.component);
    const auto interval = output.flush_interval();
    auto next_flush = clock.now() + interval;
    while (true) {
      auto item = ready.pop_until(clock, next_flush);
      if (item) {
        core::add_queue(runner_.stats_, static_cast<std::int64_t>(item->batch->events.size()));
        runner_.deliver(Delivery{item->batch, 0});  // releases the batch
        if (pause.interrupted()) break;             // not finished: it stays in the buffer
        buffer_->commit(item->end);
      } else if (ready.closed_and_empty()) {
        break;
      }
      if (const auto now = clock.now(); now >= next_flush) {
        output.flush();
        next_flush = now + interval;
      }
    }
    ready.close();  // the reader stops too
    output.flush();
    output.close();
  });
  bool finished = false;
  while (!pause.interrupted()) {
    Batch* batch = pool.acquire_for(std::chrono::milliseconds(200));
    if (!batch) continue;
    if (batch->slots.size() != 1) batch->slots.resize(1);
    OutputSlot& slot = batch->slots[0];
    slot.clear();
    std::size_t n = buffer_->read(*batch, kEvents, std::chrono::milliseconds(200));
    if (n > 0) {
      for (std::uint32_t i = 0; i < n; ++i) slot.selected.push_back(i);
      output.encode(*batch, slot);
      if (!ready.push(Ready{batch, buffer_->read_position()})) {
        batch->release();  // the deliverer gave up
        break;
      }
    } else {
      batch->release();
      if (buffer_->finished()) {
        finished = true;
        break;
      }
    }
  }
  ready.close();
  deliverer.join();
  while (auto item = ready.pop()) item->batch->release();                           // left when delivery was given up
  if (finished && !pause.interrupted()) buffer_->commit(buffer_->read_position());  // all sent: removes the segments
  buffer_->save_cursor();
}

}  // namespace bifrost::pipeline
