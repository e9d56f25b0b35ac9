#include "config/delivery_reader.h"

namespace bifrost::config {

delivery::DeliveryOptions read_delivery(MapReader& r) {
  delivery::DeliveryOptions d;
  r.section("retry", "transient failures: retried with exponential backoff and full jitter", [&](MapReader& m) {
    d.retry.max_attempts = m.integer("max_attempts", d.retry.max_attempts, 0, 1 << 30,
                                     "attempts before the events go to the failed queue; 0: no limit");
    d.retry.initial_backoff_ns = m.duration_ns("initial_backoff", d.retry.initial_backoff_ns, "first wait");
    d.retry.max_backoff_ns = m.duration_ns("max_backoff", d.retry.max_backoff_ns, "longest wait");
    d.retry.breaker_after = m.integer("circuit_breaker_after", d.retry.breaker_after, 0, 1 << 30,
                                      "failed attempts in a row after which the sink counts as down: attempts "
                                      "become probes that do not use up max_attempts; 0: off");
    if (m.describing()) return;
    if (d.retry.initial_backoff_ns <= 0) m.node().error("initial_backoff must be above 0");
    if (d.retry.max_backoff_ns < d.retry.initial_backoff_ns)
      m.node().error("max_backoff must be at least initial_backoff");
  });
  r.section("failed_queue", "where rejected events and exhausted retries are kept (data_dir/failed/)",
            [&](MapReader& m) {
              d.failed_queue.max_bytes = m.bytes("max_bytes", d.failed_queue.max_bytes, "bytes on disk at most");
              d.failed_queue.drop_oldest = m.choice("when_full", "block", {"block", "drop_oldest"},
                                                    "wait for space, or drop the oldest (counted)") == "drop_oldest";
              if (!m.describing() && d.failed_queue.max_bytes < 4096)
                m.node().error("failed_queue.max_bytes must be at least 4096");
            });
  r.section("buffer", "where events wait for the sink (disk: data_dir/buffers/, survives restarts)", [&](MapReader& m) {
    d.buffer.disk =
        m.choice("type", "memory", {"memory", "disk"}, "memory: the output's queue; disk: durable") == "disk";
    d.buffer.max_bytes = m.bytes("max_bytes", d.buffer.max_bytes, "disk bytes at most");
    d.buffer.drop_newest = m.choice("when_full", "block", {"block", "drop_newest"},
                                    "hold the pipeline, or drop what arrives (counted)") == "drop_newest";
    if (!m.describing() && d.buffer.max_bytes < 65536) m.node().error("buffer.max_bytes must be at least 64KiB");
  });
  return d;
}

}  // namespace bifrost::config
