// The Kafka input's reading: records into batches of one partition each,
// pause and resume for backpressure, decoding, lag.
#include "inputs/kafka/consumer.h"

#include <absl/time/time.h>

#include <array>
#include <thread>

#include "common/kafka/statistics.h"
#include "core/json_value.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/time.h"
#include "inputs/kafka/decoding.h"
#include "inputs/kafka/metrics.h"

namespace bifrost::inputs::kafka {

KafkaInput::KafkaInput(const Spec& spec, const pipeline::BuildContext& ctx)
    : spec_(spec), id_(ctx.component), clock_(*ctx.clock), eo_(ctx.exactly_once), decoder_(spec_, id_) {
  if (eo_) eo_->join(id_, pipeline::ExactlyOnce::Kind::kConsumerGroup, spec_.group_id);
}

KafkaInput::~KafkaInput() { close_consumer(); }

void KafkaInput::run(pipeline::InputContext& ctx) {
  stats_ = &ctx.stats();
  decoder_.start(stats_);
  ctx_ = &ctx;
  if (!create()) {
    // Not transient: the configuration was checked at load, so this is
    // librdkafka refusing it at start. Retried slowly until stop.
    // Real time, not the pipeline's clock: a stop is noticed within the
    // second, also when a test's clock stands still.
    while (!ctx.stopping() && !rk_) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (!ctx.stopping()) create();
    }
    if (!rk_) return;
  }
  if (eo_) {
    epoch_ = eo_->epoch();
    eo_->attach(id_, this);
  }
  auto next_housekeeping = clock_.now();
  while (!ctx.stopping()) {
    if (eo_ && eo_->epoch() != epoch_) rewind();
    if (auto now = clock_.now(); now >= next_housekeeping) {
      if (commits() && store_acknowledged()) rd_kafka_commit(rk_, nullptr, /*async=*/1);
      publish_lag();
      next_housekeeping = now + std::chrono::milliseconds(100);
    }
    if (!batch_) {
      batch_ = ctx.acquire_for(std::chrono::milliseconds(held_waits_ > 0 || paused_ ? 100 : 0));
      if (!batch_) {
        if (ctx.stopping()) break;
        // Held back. librdkafka drops what it has fetched for a paused
        // partition and fetches it again after the resume (0.5-1 s
        // measured): pausing whenever a sink holds us back a moment per
        // batch starved InfluxDB (46% of curl's rate). So wait for a
        // batch up to a second first (rebalances wait that long at most),
        // then pause and keep polling so the group keeps us.
        if (++held_waits_ > kWaitsBeforePause) {
          set_paused(true);
          serve();
        }
        continue;
      }
    }
    held_waits_ = 0;
    set_paused(false);
    rd_kafka_message_t* m = peek(batch_->events.empty() ? 100 : 0);
    if (!m) {
      if (!batch_->events.empty()) publish(ctx);
      continue;
    }
    if (m->err) {
      ++next_;
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        core::log::warn(id_, "consumer: ", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    if (!batch_->events.empty() && (m->rkt != batch_rkt_ || m->partition != batch_partition_ ||
                                    static_cast<std::int64_t>(batch_->events.size()) >= spec_.batch_events)) {
      publish(ctx);  // m starts the next batch
      continue;
    }
    ++next_;
    append(m);
    rd_kafka_message_destroy(m);
  }
  drop_read();
  if (batch_) {
    if (!batch_->events.empty()) {
      publish(ctx);
    } else {
      batch_->release();
      batch_ = nullptr;
    }
  }
}

void KafkaInput::drained() {
  if (!rk_) return;
  if (commits()) {
    store_acknowledged();
    commit_sync("stop");
  }
  close_consumer();
}

void KafkaInput::decorate(core::Batch& batch) const {
  // source is "topic/partition"; topic names cannot hold '/'.
  std::string_view src = batch.source;
  std::size_t slash = src.rfind('/');
  std::string_view topic = batch.arena.copy(src.substr(0, slash));
  std::int64_t partition = std::stoll(std::string(src.substr(slash + 1)));
  for (core::Event& e : batch.events) {
    if (!e.fields.is_object()) e.fields = core::Value::object(batch.arena, 2);
    core::Value* meta = e.fields.find("kafka");
    if (!meta || !meta->is_object()) meta = &e.fields.set("kafka", core::Value::object(batch.arena, 6), batch.arena);
    meta->set("topic", core::Value::string(topic), batch.arena);
    meta->set("partition", core::Value::integer(partition), batch.arena);
    meta->set("offset", core::Value::integer(static_cast<std::int64_t>(e.offset)), batch.arena);
  }
}

bool KafkaInput::create() {
  std::vector<std::pair<std::string, std::string>> ours = {
      {"client.id", "bifrost"},
      {"group.id", spec_.group_id},
      {"enable.auto.commit", "false"},  // committed by us, as soon as acknowledged (within 100 ms)
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", spec_.start_at == "latest" ? "latest" : "earliest"},
      {"queued.max.messages.kbytes", "16384"},
      {"statistics.interval.ms", common::kafka::kStatisticsIntervalMs},
  };
  // Exactly once: only committed records are read (the default, said here
  // so a passthrough cannot silently lose it), and fetching the committed
  // offsets waits for a transaction still committing them (KIP-447).
  if (eo_) ours.emplace_back("isolation.level", "read_committed");
  auto made = common::kafka::make_conf(spec_.client, ours);
  if (!made) {
    core::log::error(id_, made.error().message);
    return false;
  }
  rd_kafka_conf_t* conf = *made;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_rebalance_cb(conf, &KafkaInput::on_rebalance);
  rd_kafka_conf_set_error_cb(conf, &KafkaInput::on_error);
  rd_kafka_conf_set_log_cb(conf, &KafkaInput::on_log);
  rd_kafka_conf_set_offset_commit_cb(conf, &KafkaInput::on_commit);
  rd_kafka_conf_set_stats_cb(conf, &KafkaInput::on_statistics);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    core::log::error(id_, "cannot create the consumer: ", err);
    return false;
  }
  {
    std::lock_guard lock(mu_);  // positions() reads rk_
    rk_ = rk;
  }
  rd_kafka_poll_set_consumer(rk_);
  queue_ = rd_kafka_queue_get_consumer(rk_);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(static_cast<int>(spec_.topics.size()));
  for (const auto& t : spec_.topics) rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e) {
    core::log::error(id_, "subscribe: ", rd_kafka_err2str(e));
    rd_kafka_queue_destroy(queue_);
    queue_ = nullptr;
    std::lock_guard lock(mu_);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    return false;
  }
  if (spec_.start_at == "time") {
    start_ms_ = spec_.start_time_ms >= 0 ? spec_.start_time_ms : (core::now_ns() - spec_.start_ago_ns) / 1'000'000;
  }
  core::log::info(id_, "consuming ", core::cat(spec_.topics.size()), " topic pattern(s) as group ", spec_.group_id,
                  eo_ ? " (exactly once: offsets committed by the output's transactions)" : "");
  return true;
}

void KafkaInput::close_consumer() {
  if (!rk_) return;
  if (eo_) eo_->detach(id_);
  drop_read();
  if (queue_) rd_kafka_queue_destroy(queue_);
  queue_ = nullptr;
  rd_kafka_consumer_close(rk_);  // revokes (our callback commits) and leaves the group
  std::lock_guard lock(mu_);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

// The next record read (not taken: the caller moves next_), reading up to
// read_.size() at once when none is left; nullptr when none came within
// `timeout_ms`.
rd_kafka_message_t* KafkaInput::peek(int timeout_ms) {
  if (next_ == read_.size()) {
    // read_ stays empty during the call: a rebalance callback inside it
    // drops what read_ holds.
    read_.clear();
    next_ = 0;
    fetch_.resize(kReadAtOnce);
    ssize_t n = rd_kafka_consume_batch_queue(queue_, timeout_ms, fetch_.data(), fetch_.size());
    if (n > 0) read_.assign(fetch_.begin(), fetch_.begin() + n);
  }
  return next_ < read_.size() ? read_[next_] : nullptr;
}

// While held back: keeps calling into the consumer (rebalances, and the
// group's max.poll.interval) without taking records out of order. Paused
// partitions deliver nothing new; whatever does come is kept after the rest.
void KafkaInput::serve() {
  if (next_ > 0) {
    read_.erase(read_.begin(), read_.begin() + static_cast<std::ptrdiff_t>(next_));
    next_ = 0;
  }
  // Always call in, even with records still waiting here: polling is
  // what keeps the member in the group (max.poll.interval.ms).
  std::array<rd_kafka_message_t*, 64> more;
  ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, more.data(), more.size());
  for (ssize_t i = 0; i < n; ++i) read_.push_back(more[static_cast<std::size_t>(i)]);
}

void KafkaInput::drop_read() {
  for (std::size_t i = next_; i < read_.size(); ++i) rd_kafka_message_destroy(read_[i]);
  read_.clear();
  next_ = 0;
}

void KafkaInput::append(const rd_kafka_message_t* m) {
  if (batch_->events.empty()) {
    batch_rkt_ = m->rkt;
    batch_partition_ = m->partition;
    PartitionState& p = partition(rd_kafka_topic_name(m->rkt), m->partition);
    if (!p.tracker) {
      std::lock_guard lock(mu_);
      p.tracker = std::make_shared<core::AckTracker>(static_cast<std::uint64_t>(m->offset));
      p.epoch = epoch_;
      if (p.start < 0) p.start = m->offset;
    }
    batch_->source = p.source;
    batch_->tracker = p.tracker;
    batch_->ingest_ns = core::now_ns();
  }
  core::Batch& b = *batch_;
  rd_kafka_timestamp_type_t tstype;
  std::int64_t ts_ms = rd_kafka_message_timestamp(m, &tstype);
  std::string_view value(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
  value = b.arena.copy(value);
  // Per-record metadata; topic, partition and offset are added by decorate().
  core::Value meta = core::Value::object(b.arena, 6);
  if (ts_ms >= 0) meta.append("timestamp", core::Value::integer(ts_ms), b.arena);
  if (m->key) {
    meta.append("key", core::Value::string(b.arena.copy({static_cast<const char*>(m->key), m->key_len})), b.arena);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
    core::Value h = core::Value::object(b.arena, static_cast<std::uint32_t>(rd_kafka_header_cnt(headers)));
    const char* name;
    const void* val;
    std::size_t size;
    for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      h.set(b.arena.copy(name), core::Value::string(b.arena.copy({static_cast<const char*>(val), val ? size : 0})),
            b.arena);
    }
    meta.append("headers", h, b.arena);
  }
  decoder_.decode(b, static_cast<std::uint64_t>(m->offset), ts_ms >= 0 ? ts_ms * 1'000'000 : b.ingest_ns, value, meta);
}

void KafkaInput::publish(pipeline::InputContext& ctx) {
  core::Batch* b = batch_;
  batch_ = nullptr;
  decoder_.published(*b);
  const core::Event& last = b->events.back();
  b->ack_seq = b->tracker->track(last.offset + 1);
  b->epoch = epoch_;
  ctx.publish(b);
}

void KafkaInput::set_paused(bool pause) {
  if (pause == paused_ || !rk_) return;
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(rk_, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  if (pause) {
    rd_kafka_pause_partitions(rk_, assigned);
  } else {
    rd_kafka_resume_partitions(rk_, assigned);
  }
  rd_kafka_topic_partition_list_destroy(assigned);
  paused_ = pause;
}

// Per partition: high watermark minus the acknowledged offset.
void KafkaInput::publish_lag() {
  std::vector<core::Series> series;
  for (auto& [key, p] : partitions_) {
    std::int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(rk_, key.topic.c_str(), key.partition, &low, &high) || high < 0) continue;
    std::int64_t acked = p.tracker ? static_cast<std::int64_t>(p.tracker->acknowledged()) : p.stored;
    if (acked < 0) acked = low;
    series.push_back({&kConsumerLag,
                      {key.topic, std::to_string(key.partition)},
                      static_cast<double>(std::max<std::int64_t>(0, high - acked))});
  }
  stats_->series.replace(std::move(series));
}

}  // namespace bifrost::inputs::kafka
