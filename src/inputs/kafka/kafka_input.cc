#include "inputs/kafka/kafka_input.h"

#include <absl/time/time.h>

#include <array>
#include <map>
#include <set>
#include <thread>

#include "common/kafka/statistics.h"
#include "core/ack.h"
#include "core/clock.h"
#include "core/json_value.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/time.h"
#include "inputs/kafka/decoding.h"
#include "inputs/kafka/metrics.h"

namespace bifrost::inputs::kafka {

namespace {

struct PartitionKey {
  std::string topic;
  std::int32_t partition;
  auto operator<=>(const PartitionKey&) const = default;
};

// What the input keeps per assigned partition.
struct PartitionState {
  std::shared_ptr<core::AckTracker> tracker;  // made at the first record read
  std::int64_t stored = -1;                   // last offset handed to offsets_store
  std::string source;                         // "topic/partition"
};

class KafkaInput final : public pipeline::Input {
 public:
  KafkaInput(const Spec& spec, const pipeline::BuildContext& ctx)
      : spec_(spec), id_(ctx.component), clock_(*ctx.clock), decoder_(spec_, id_) {}
  ~KafkaInput() override { close_consumer(); }

  void run(pipeline::InputContext& ctx) override {
    stats_ = &ctx.stats();
    decoder_.start(stats_);
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
    auto next_housekeeping = clock_.now();
    while (!ctx.stopping()) {
      if (auto now = clock_.now(); now >= next_housekeeping) {
        if (store_acknowledged()) rd_kafka_commit(rk_, nullptr, /*async=*/1);
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

  // Every batch is finished or given up: store and commit what was
  // acknowledged, then leave the group.
  void drained() override {
    if (!rk_) return;
    store_acknowledged();
    commit_sync("stop");
    close_consumer();
  }

  void decorate(core::Batch& batch) const override {
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

 private:
  bool create() {
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
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk_) {
      rd_kafka_conf_destroy(conf);
      core::log::error(id_, "cannot create the consumer: ", err);
      return false;
    }
    rd_kafka_poll_set_consumer(rk_);
    queue_ = rd_kafka_queue_get_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(static_cast<int>(spec_.topics.size()));
    for (const auto& t : spec_.topics) rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
      core::log::error(id_, "subscribe: ", rd_kafka_err2str(e));
      rd_kafka_destroy(rk_);
      rk_ = nullptr;
      return false;
    }
    if (spec_.start_at == "time") {
      start_ms_ = spec_.start_time_ms >= 0 ? spec_.start_time_ms : (core::now_ns() - spec_.start_ago_ns) / 1'000'000;
    }
    core::log::info(id_, "consuming ", core::cat(spec_.topics.size()), " topic pattern(s) as group ", spec_.group_id);
    return true;
  }

  void close_consumer() {
    if (!rk_) return;
    drop_read();
    if (queue_) rd_kafka_queue_destroy(queue_);
    queue_ = nullptr;
    rd_kafka_consumer_close(rk_);  // revokes (our callback commits) and leaves the group
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

  // The next record read (not taken: the caller moves next_), reading up to
  // read_.size() at once when none is left; nullptr when none came within
  // `timeout_ms`.
  rd_kafka_message_t* peek(int timeout_ms) {
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
  void serve() {
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

  void drop_read() {
    for (std::size_t i = next_; i < read_.size(); ++i) rd_kafka_message_destroy(read_[i]);
    read_.clear();
    next_ = 0;
  }

  void append(const rd_kafka_message_t* m) {
    if (batch_->events.empty()) {
      batch_rkt_ = m->rkt;
      batch_partition_ = m->partition;
      PartitionState& p = partition(rd_kafka_topic_name(m->rkt), m->partition);
      if (!p.tracker) p.tracker = std::make_shared<core::AckTracker>(static_cast<std::uint64_t>(m->offset));
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
    decoder_.decode(b, static_cast<std::uint64_t>(m->offset), ts_ms >= 0 ? ts_ms * 1'000'000 : b.ingest_ns, value,
                    meta);
  }

  void publish(pipeline::InputContext& ctx) {
    core::Batch* b = batch_;
    batch_ = nullptr;
    decoder_.published(*b);
    const core::Event& last = b->events.back();
    b->ack_seq = b->tracker->track(last.offset + 1);
    ctx.publish(b);
  }

  PartitionState& partition(const std::string& topic, std::int32_t p) {
    auto [it, fresh] = partitions_.try_emplace(PartitionKey{topic, p});
    if (fresh) it->second.source = topic + "/" + std::to_string(p);
    return it->second;
  }

  // Hands the acknowledged position of every partition to librdkafka.
  // Returns whether one moved (then the caller commits).
  bool store_acknowledged() {
    rd_kafka_topic_partition_list_t* list = nullptr;
    for (auto& [key, p] : partitions_) {
      if (!p.tracker) continue;
      auto acked = static_cast<std::int64_t>(p.tracker->acknowledged());
      if (acked <= p.stored) continue;
      if (!list) list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size()));
      rd_kafka_topic_partition_list_add(list, key.topic.c_str(), key.partition)->offset = acked;
      p.stored = acked;
    }
    if (!list) return false;
    if (rd_kafka_resp_err_t e = rd_kafka_offsets_store(rk_, list); e) {
      core::log::debug(id_, "offsets_store: ", rd_kafka_err2str(e));  // e.g. a partition just revoked
    }
    rd_kafka_topic_partition_list_destroy(list);
    return true;
  }

  void commit_sync(const char* why) {
    rd_kafka_resp_err_t e = rd_kafka_commit(rk_, nullptr, /*async=*/0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) core::log::warn(id_, "commit at ", why, ": ", rd_kafka_err2str(e));
  }

  void set_paused(bool pause) {
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
  void publish_lag() {
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

  void assign(rd_kafka_topic_partition_list_t* parts) {
    // Where each partition starts when start_at is a time, or with reset.
    if (spec_.start_at == "time" || spec_.reset) {
      rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(parts);
      rd_kafka_committed(rk_, committed, 10'000);
      rd_kafka_topic_partition_list_t* by_time = rd_kafka_topic_partition_list_new(parts->cnt);
      for (int i = 0; i < parts->cnt; ++i) {
        rd_kafka_topic_partition_t& tp = parts->elems[i];
        PartitionKey key{tp.topic, tp.partition};
        bool reset_now = spec_.reset && !reset_done_.contains(key);
        reset_done_.insert(key);
        bool has_committed = committed->elems[i].offset >= 0;
        if (has_committed && !reset_now) continue;  // the group's position wins
        if (spec_.start_at == "earliest") tp.offset = RD_KAFKA_OFFSET_BEGINNING;
        else if (spec_.start_at == "latest") tp.offset = RD_KAFKA_OFFSET_END;
        else rd_kafka_topic_partition_list_add(by_time, tp.topic, tp.partition)->offset = start_ms_;
      }
      if (by_time->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk_, by_time, 10'000);
        if (e) core::log::warn(id_, "offsets_for_times: ", rd_kafka_err2str(e), "; those partitions start at earliest");
        for (int i = 0; i < by_time->cnt; ++i) {
          const auto& r = by_time->elems[i];
          rd_kafka_topic_partition_t* tp = rd_kafka_topic_partition_list_find(parts, r.topic, r.partition);
          if (!tp) continue;
          // -1: no record at or after the time: start at the end.
          tp->offset = e || r.err ? RD_KAFKA_OFFSET_BEGINNING : (r.offset < 0 ? RD_KAFKA_OFFSET_END : r.offset);
          core::log::info(id_, r.topic, "/", r.partition, ": start_at time -> offset ", tp->offset);
        }
      }
      rd_kafka_topic_partition_list_destroy(by_time);
      rd_kafka_topic_partition_list_destroy(committed);
    }
    for (int i = 0; i < parts->cnt; ++i) partition(parts->elems[i].topic, parts->elems[i].partition);
    paused_ = false;
    rd_kafka_assign(rk_, parts);
  }

  void revoke(rd_kafka_topic_partition_list_t* parts) {
    store_acknowledged();
    commit_sync("rebalance");
    for (int i = 0; i < parts->cnt; ++i)
      partitions_.erase(PartitionKey{parts->elems[i].topic, parts->elems[i].partition});
    drop_read();  // records of the old assignment: read again by whoever gets their partition
    rd_kafka_assign(rk_, nullptr);
  }

  static void on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<KafkaInput*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      core::log::info(self->id_, "assigned ", parts->cnt, " partition(s)");
      self->assign(parts);
    } else {
      core::log::info(self->id_, "revoked ", parts->cnt, " partition(s)");
      self->revoke(parts);
    }
  }

  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void* opaque) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
    auto* self = static_cast<KafkaInput*>(opaque);
    core::log::warn(self->id_, "offset commit failed (tried again with the next): ", rd_kafka_err2str(err));
  }

  // librdkafka's thread that polls (this input's): the statistics document.
  static int on_statistics(rd_kafka_t*, char* json, std::size_t len, void* opaque) {
    auto* self = static_cast<KafkaInput*>(opaque);
    if (self->stats_)
      self->stats_->series.replace(common::kafka::parse_statistics({json, len}), common::kafka::kStatisticsGroup);
    return 0;  // librdkafka frees the document
  }

  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    common::kafka::log_librdkafka_error(static_cast<KafkaInput*>(opaque)->id_, err, reason);
  }

  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    common::kafka::log_librdkafka(static_cast<KafkaInput*>(rd_kafka_opaque(rk))->id_, level, fac, buf);
  }

  Spec spec_;
  std::string id_;
  core::Clock& clock_;  // the pipeline's
  core::ComponentStats* stats_ = nullptr;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer's queue
  static constexpr std::size_t kReadAtOnce = 1024;
  std::vector<rd_kafka_message_t*> read_;   // read from it; [next_, end) not yet in a batch
  std::vector<rd_kafka_message_t*> fetch_;  // where consume_batch_queue writes
  std::size_t next_ = 0;
  core::Batch* batch_ = nullptr;  // being filled: records of one partition
  rd_kafka_topic_t* batch_rkt_ = nullptr;
  std::int32_t batch_partition_ = -1;
  bool paused_ = false;
  int held_waits_ = 0;                          // waits of 100 ms for a batch in a row, not yet paused
  static constexpr int kWaitsBeforePause = 10;  // 1 s
  std::int64_t start_ms_ = 0;
  std::map<PartitionKey, PartitionState> partitions_;
  std::set<PartitionKey> reset_done_;
  RecordDecoder decoder_;
};

}  // namespace

std::unique_ptr<pipeline::Input> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<KafkaInput>(*this, ctx);
}

std::unique_ptr<pipeline::InputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->client = common::kafka::read_client_settings(r);
  s->topics = r.string_list("topics", "topic names, or ^regex patterns", /*required=*/true);
  s->group_id =
      r.string("group_id", s->group_id, "consumer group: members share the partitions, offsets are the group's");
  auto start = r.get("start_at", "string", "earliest",
                     "where a partition without a committed offset starts: earliest, latest, an RFC 3339 time, "
                     "or a negative duration such as -2h");
  s->reset =
      r.boolean("reset", s->reset, "start every partition at start_at even when the group has a committed offset");
  const std::string decoding =
      r.choice("decoding", "text", {"text", "json", "influx"},
               "text: the record value is the message; json: it is a JSON event (message, @timestamp, fields); "
               "influx: InfluxDB line protocol (Telegraf's), each line one event, as parse_influx makes them");
  s->decoding = decoding == "json"     ? Spec::Decoding::kJson
                : decoding == "influx" ? Spec::Decoding::kInflux
                                       : Spec::Decoding::kText;
  s->precision = *common::influx::parse_precision(
      r.choice("precision", "ns", {"ns", "us", "ms", "s"},
               "decoding: influx: the unit of the points' times (Telegraf writes ns)"));
  s->batch_events = r.integer("batch_events", s->batch_events, 1, 1 << 20, "records per batch at most");
  if (r.describing()) return s;
  if (start) {
    if (auto text = start->scalar("earliest, latest, a time or a negative duration")) {
      std::int64_t ns = 0;
      absl::Time t;
      if (*text == "earliest" || *text == "latest") {
        s->start_at = *text;
      } else if (text->size() > 1 && (*text)[0] == '-' && core::parse_duration_ns(text->substr(1), ns)) {
        s->start_at = "time";
        s->start_ago_ns = ns;
      } else if (absl::ParseTime(absl::RFC3339_full, *text, &t, nullptr)) {
        s->start_at = "time";
        s->start_time_ms = absl::ToUnixMillis(t);
      } else {
        start->error(
            "expected earliest, latest, an RFC 3339 time (2026-11-21T06:00:00Z) or a negative duration "
            "(-2h), got \"" +
            *text + "\"");
      }
    }
  }
  return s;
}

}  // namespace bifrost::inputs::kafka
