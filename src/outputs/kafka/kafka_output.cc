#include "outputs/kafka/kafka_output.h"

#include <array>
#include <unordered_map>

#include "common/kafka/statistics.h"
#include "config/expr_reader.h"
#include "core/log.h"

namespace bifrost::outputs::kafka {

namespace {

class KafkaOutput final : public pipeline::Output {
 public:
  KafkaOutput(const Spec& spec, std::string id, core::ComponentStats* stats, core::Clock& clock)
      : spec_(spec), id_(std::move(id)), stats_(stats), times_(spec.bounds, id_, clock, stats) {
    if (spec_.event_time) times_.publish();  // the counters exist from the start, at 0
  }
  ~KafkaOutput() override { destroy(); }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    outputs::encode_slot(batch, slot, spec_.codec);
  }

  // Up to kInFlight batches produced at once; one more ring slot for a
  // retry's write() while they are on their way.
  std::size_t in_flight() const override { return kInFlight; }

  std::uint64_t begin(const core::Batch& batch, const core::OutputSlot& slot) override {
    std::uint64_t r = 0;
    while (flights_[r].used) ++r;  // the pipeline never has more than kInFlight + 1 begun
    Flight& f = flights_[r];
    f.used = true;
    f.outstanding = 0;
    f.report.reset(slot.selected.size());
    if (!rk_ && !create()) {
      for (std::size_t i = 0; i < slot.selected.size(); ++i) f.report.set(i, pipeline::Outcome::kRetry, create_error_);
      return r;
    }
    const std::int64_t now = spec_.event_time ? times_.now_ns() : 0;
    for (std::size_t i = 0; i < slot.selected.size(); ++i) produce(batch, slot, i, r, now);
    return r;
  }

  void end(std::uint64_t ticket, pipeline::DeliveryReport& report) override {
    Flight& f = flights_[ticket];
    // Every record produced is reported exactly once (delivered, failed, or
    // timed out after message_timeout), so this ends.
    while (f.outstanding > 0 && rk_) rd_kafka_poll(rk_, 5);
    std::swap(report, f.report);
    f.used = false;
    if (rk_) check_fatal();
    if (spec_.event_time) {
      times_.poll();
      times_.publish();
    }
  }

  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    end(begin(batch, slot), report);
  }

  void flush() override {
    if (rk_) rd_kafka_poll(rk_, 0);  // serves error callbacks while idle
    if (spec_.event_time) times_.poll();
  }

  void close() override { destroy(); }

 private:
  // Produces event i of the slot as one record; its delivery report goes to
  // flight `r`. `now_ns`: the wall time, for timestamp: event.
  void produce(const core::Batch& batch, const core::OutputSlot& slot, std::size_t i, std::uint64_t r,
               std::int64_t now_ns) {
    Flight& f = flights_[r];
    const core::Event& e = batch.events[slot.selected[i]];
    std::int64_t ts_ms = 0;  // 0: the produce time
    bool bad_time = false;
    if (spec_.event_time) {
      const TimeCheck c = times_.check(e.timestamp_ns, now_ns);
      if (c == TimeCheck::kOk) {
        ts_ms = e.timestamp_ns / 1'000'000;
      } else if (spec_.bounds.reject) {
        f.report.set(i, pipeline::Outcome::kRejected, times_.reason(c, e.timestamp_ns, now_ns));
        return;
      } else {
        bad_time = true;
      }
    }
    rd_kafka_topic_t* rkt = topic_for(e);
    if (!rkt) {
      f.report.set(i, pipeline::Outcome::kRejected,
                   "the topic template \"" + spec_.topic->text() + "\" rendered empty");
      return;
    }
    const std::size_t begin = i == 0 ? 0 : slot.ends[i - 1];
    const std::size_t len = slot.ends[i] - begin - 1;  // without the '\n'
    key_.clear();
    if (spec_.key) spec_.key->render(e, key_);
    rd_kafka_headers_t* headers = nullptr;
    if (!spec_.headers.empty() || bad_time) {
      headers = rd_kafka_headers_new(spec_.headers.size() + 1);
      for (const auto& [name, tmpl] : spec_.headers) {
        header_.clear();
        tmpl.render(e, header_);
        rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), header_.data(),
                            static_cast<ssize_t>(header_.size()));
      }
      if (bad_time) rd_kafka_header_add(headers, kEventTimeHeader, -1, times_.format(e.timestamp_ns), -1);
    }
    void* opaque = reinterpret_cast<void*>((r << 32) | i);
    while (true) {
      // The value is not copied: the slot stays valid until end(), which
      // returns only after librdkafka has reported on every record.
      rd_kafka_resp_err_t err = rd_kafka_producev(rk_, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(0),
                                                  RD_KAFKA_V_VALUE(const_cast<char*>(slot.encoded.data() + begin), len),
                                                  RD_KAFKA_V_KEY(key_.empty() ? nullptr : key_.data(), key_.size()),
                                                  RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_HEADERS(headers),
                                                  RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++f.outstanding;
        return;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {  // librdkafka's queue is full: let it send
        rd_kafka_poll(rk_, 10);
        continue;
      }
      if (headers) rd_kafka_headers_destroy(headers);  // not taken by librdkafka on failure
      f.report.set(i, common::kafka::retriable(err) ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected,
                   std::string("produce: ") + rd_kafka_err2str(err));
      return;
    }
  }

  bool create() {
    std::vector<std::pair<std::string, std::string>> ours = {
        {"client.id", "bifrost"},
        {"acks", spec_.acks == "all" ? "-1" : spec_.acks},
        {"compression.codec", spec_.compression},
        {"enable.idempotence", spec_.idempotent ? "true" : "false"},
        {"message.timeout.ms", std::to_string(spec_.message_timeout_ns / 1'000'000)},
        {"message.max.bytes", "16777216"},
        {"linger.ms", "1"},
        {"queue.buffering.max.messages", "1000000"},
        {"queue.buffering.max.kbytes", "1048576"},
        {"statistics.interval.ms", common::kafka::kStatisticsIntervalMs},
    };
    auto made = common::kafka::make_conf(spec_.client, ours);
    if (!made) {
      create_error_ = made.error().message;
      return false;
    }
    rd_kafka_conf_t* conf = *made;
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaOutput::on_delivery);
    rd_kafka_conf_set_error_cb(conf, &KafkaOutput::on_error);
    rd_kafka_conf_set_log_cb(conf, &KafkaOutput::on_log);
    rd_kafka_conf_set_stats_cb(conf, &KafkaOutput::on_statistics);
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);  // takes conf on success only
    if (!rk_) {
      rd_kafka_conf_destroy(conf);
      create_error_ = std::string("cannot create the producer: ") + err;
      core::log::error(id_, create_error_);
      return false;
    }
    if (spec_.event_time) times_.attach(rk_);
    return true;
  }

  void destroy() {
    if (!rk_) return;
    rd_kafka_flush(rk_, 10'000);
    for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
    topics_.clear();
    times_.detach();
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

  // After a fatal error (an idempotent producer's broken sequence) the
  // producer is unusable: a new one is made for the next write.
  void check_fatal() {
    char err[512];
    if (rd_kafka_fatal_error(rk_, err, sizeof err) == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    core::log::error(id_, "fatal producer error: ", err, "; starting a new producer");
    for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
    topics_.clear();
    // Records still on their way are reported as purged (retriable): the
    // pipeline retries them on the new producer.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    auto busy = [&] {
      for (const Flight& f : flights_)
        if (f.outstanding > 0) return true;
      return false;
    };
    for (int i = 0; i < 1000 && busy(); ++i) rd_kafka_poll(rk_, 10);
    times_.detach();
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

  rd_kafka_topic_t* topic_for(const core::Event& e) {
    topic_name_.clear();
    spec_.topic->render(e, topic_name_);
    if (topic_name_.empty()) return nullptr;
    if (auto it = topics_.find(topic_name_); it != topics_.end()) return it->second;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic_name_.c_str(), nullptr);
    if (rkt) {
      topics_.emplace(topic_name_, rkt);
      if (spec_.event_time) times_.describe(topic_name_);
    }
    return rkt;
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    auto tag = reinterpret_cast<std::uint64_t>(m->_private);
    Flight& f = self->flights_[tag >> 32];
    --f.outstanding;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    bool again = common::kafka::retriable(m->err);
    // The error's name too (TOPIC_AUTHORIZATION_FAILED): what the broker's
    // and librdkafka's documentation go by.
    f.report.set(tag & 0xffffffffu, again ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected,
                 std::string(rd_kafka_err2name(m->err)) + ": " + rd_kafka_err2str(m->err));
  }

  // The thread that polls the producer (this output's): the statistics document.
  static int on_statistics(rd_kafka_t*, char* json, std::size_t len, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    if (self->stats_)
      self->stats_->series.replace(common::kafka::parse_statistics({json, len}), common::kafka::kStatisticsGroup);
    return 0;  // librdkafka frees the document
  }

  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    common::kafka::log_librdkafka_error(static_cast<KafkaOutput*>(opaque)->id_, err, reason);
  }

  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    common::kafka::log_librdkafka(static_cast<KafkaOutput*>(rd_kafka_opaque(rk))->id_, level, fac, buf);
  }

  Spec spec_;
  std::string id_;
  core::ComponentStats* stats_;
  TimestampGuard times_;
  rd_kafka_t* rk_ = nullptr;
  std::string create_error_;
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
  struct Flight {
    pipeline::DeliveryReport report;
    std::size_t outstanding = 0;
    bool used = false;
  };
  static constexpr std::size_t kInFlight = 4;
  std::array<Flight, kInFlight + 1> flights_;
  std::string topic_name_, key_, header_;  // scratch, reused
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<KafkaOutput>(*this, ctx.component, ctx.stats, *ctx.clock);
}

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->client = common::kafka::read_client_settings(r);
  s->topic = config::read_template(r, "topic", "", "topic of each record (a template: {{field}}, %Y.%m.%d)", true);
  s->key = config::read_template(r, "key", "", "record key (a template); none when absent or rendered empty");
  auto headers = r.get("headers", "map", "{}", "record headers, name: template");
  s->compression = r.choice("compression", s->compression, {"none", "gzip", "snappy", "lz4", "zstd"},
                            "compression codec of record batches");
  s->acks = r.choice("acks", s->acks, {"all", "1", "0"}, "acknowledgements the leader waits for");
  s->idempotent = r.boolean("idempotent", s->idempotent,
                            "idempotent producer: order kept and no duplicates across librdkafka's retries");
  s->event_time = r.choice("timestamp", "event", {"event", "now"},
                           "record timestamp: the event time, or the time it is produced") == "event";
  s->bounds.max_past_ns = r.duration_ns(
      "max_past", s->bounds.max_past_ns,
      "timestamp: event — an event time older than this is a bad timestamp (past the topic's retention.ms the "
      "broker may delete the record at once; the default is the broker's default retention)");
  s->bounds.max_future_ns = r.duration_ns("max_future", s->bounds.max_future_ns,
                                          "timestamp: event — an event time further ahead than this is a bad "
                                          "timestamp (its segment would not expire until then)");
  s->bounds.reject =
      r.choice("on_bad_timestamp", "now", {"now", "reject"},
               "timestamp: event — a bad timestamp: now (the record gets the produce time, the event "
               "time goes in the header bifrost_event_time) or reject (to the failed queue)") == "reject";
  s->codec = *outputs::codec_from_name(
      r.choice("encoding", "json", {"json", "text"}, "json: the whole event; text: the message only"));
  s->message_timeout_ns = r.duration_ns(
      "message_timeout", s->message_timeout_ns,
      "a record not delivered within this time is reported failed and retried by bifrost (message.timeout.ms)");
  if (r.describing()) return s;
  if (headers) {
    config::each_entry(*headers, "header: template", [&](const config::Node& k, const config::Node& v) {
      if (auto t = config::parse_template(v)) s->headers.emplace_back(k.yaml().Scalar(), std::move(*t));
    });
  }
  for (const char* key : {"max_past", "max_future"}) {
    const std::int64_t v = std::string_view(key) == "max_past" ? s->bounds.max_past_ns : s->bounds.max_future_ns;
    if (auto n = r.node().yaml()[key]; v <= 0 && n.IsDefined()) r.node().child(key, n).error("must be more than 0");
  }
  if (s->acks != "all" && s->idempotent) {
    r.node().error("idempotent: true needs acks: all (set idempotent: false to use acks: " + s->acks + ")");
  }
  if (!s->topic) s->topic = std::get<expr::Template>(expr::Template::parse("-"));
  return s;
}

}  // namespace bifrost::outputs::kafka
