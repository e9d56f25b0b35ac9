// The Kafka output's producer: batches produced as records, their delivery
// reports collected into each batch's outcomes.
#include "outputs/kafka/producer.h"

#include <algorithm>

#include "common/kafka/statistics.h"
#include "core/log.h"
#include "outputs/common/codec.h"
#include "outputs/kafka/metrics.h"

namespace bifrost::outputs::kafka {

KafkaOutput::KafkaOutput(const Spec& spec, const pipeline::BuildContext& ctx)
    : spec_(spec),
      id_(ctx.component),
      pipeline_(ctx.pipeline),
      data_dir_(ctx.data_dir),
      stats_(ctx.stats),
      clock_(*ctx.clock),
      times_(spec.bounds, id_, clock_, stats_),
      // Without a pipeline's positions to commit (bifrost replay) the
      // producer is the plain idempotent one.
      eo_(spec.transactional ? ctx.exactly_once : nullptr) {
  if (eo_) name_transactions();            // the pipeline built its inputs first: they have joined
  if (spec_.event_time) times_.publish();  // the counters exist from the start, at 0
}

KafkaOutput::~KafkaOutput() { destroy(); }

void KafkaOutput::encode(const core::Batch& batch, core::OutputSlot& slot) const {
  outputs::encode_slot(batch, slot, spec_.codec);
}

std::chrono::milliseconds KafkaOutput::flush_interval() const {
  if (!eo_) return std::chrono::seconds(1);
  // At most 100ms, whatever the interval: flush() also makes the producer
  // ready at start (the file inputs wait for it to read their checkpoints
  // back) and answers a revocation; a transaction still ends when due().
  return std::chrono::milliseconds(std::clamp<std::int64_t>(spec_.transaction_interval_ns / 1'000'000, 1, 100));
}

std::uint64_t KafkaOutput::begin(const core::Batch& batch, const core::OutputSlot& slot) {
  std::uint64_t r = 0;
  while (flights_[r].used) ++r;  // the pipeline never has more than kInFlight + 1 begun
  Flight& f = flights_[r];
  f.used = true;
  f.outstanding = 0;
  f.report.reset(slot.selected.size());
  f.batch = &batch;
  f.slot = &slot;
  f.order = ++next_order_;
  f.deferred = f.discard = false;
  f.txn = 0;
  if (eo_) {
    begin_exactly_once(f, r);
  } else if (!ready()) {
    for (std::size_t i = 0; i < slot.selected.size(); ++i) f.report.set(i, pipeline::Outcome::kRetry, create_error_);
  } else {
    produce(f, r);
  }
  return r;
}

void KafkaOutput::end(std::uint64_t ticket, pipeline::DeliveryReport& report) {
  Flight& f = flights_[ticket];
  if (eo_) {
    end_exactly_once(f, ticket);
  } else {
    // Every record produced is reported exactly once (delivered, failed, or
    // timed out after message_timeout), so this ends.
    while (f.outstanding > 0 && rk_) rd_kafka_poll(rk_, 5);
  }
  std::swap(report, f.report);
  f.used = false;
  f.batch = nullptr;
  f.slot = nullptr;
  if (rk_) check_fatal();
  if (spec_.event_time) {
    times_.poll();
    times_.publish();
  }
}

void KafkaOutput::flush() {
  if (eo_) {
    // Also when no batch comes: the file inputs wait for the checkpoints
    // recovered from Kafka before they read anything.
    if (!ready()) return;
    rd_kafka_poll(rk_, 0);
    if (spec_.event_time) times_.poll();
    const bool settle = eo_->settle_requested() != 0;
    if (at_commit_point() && (txn_open_ ? due() || sealed_ || settle || doomed_ : settle)) end_transaction();
  } else if (rk_) {
    rd_kafka_poll(rk_, 0);  // serves error callbacks while idle
    if (spec_.event_time) times_.poll();
  }
  if (const auto now = clock_.now(); now >= next_series_) {
    publish_series();
    next_series_ = now + std::chrono::seconds(1);
  }
}

void KafkaOutput::close() {
  if (eo_) {
    if (txn_open_ && rk_) end_transaction(/*closing=*/true);
    eo_->close();
  }
  publish_series();
  destroy();
}

void KafkaOutput::produce(Flight& f, std::uint64_t r) {
  const std::int64_t now = spec_.event_time ? times_.now_ns() : 0;
  for (std::size_t i = 0; i < f.slot->selected.size(); ++i) produce_one(f, i, r, now);
}

// Produces event i of the flight's slot as one record; its delivery report
// goes to flight `r`.
void KafkaOutput::produce_one(Flight& f, std::size_t i, std::uint64_t r, std::int64_t now_ns) {
  const core::OutputSlot& slot = *f.slot;
  const core::Event& e = f.batch->events[slot.selected[i]];
  if (eo_ && !parked_.empty() && parked_.contains({f.batch->source, e.offset})) {
    return;  // in the failed queue already (read again after a later abort): done with
  }
  if (eo_ && !poison_.empty() && poisoned(*f.batch, e)) {
    f.report.set(i, pipeline::Outcome::kRejected, poison_reason_);
    return;
  }
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
    f.report.set(i, pipeline::Outcome::kRejected, "the topic template \"" + spec_.topic->text() + "\" rendered empty");
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
    const bool again = common::kafka::retriable(err);
    if (eo_ && again) {
      // In a transaction a record that could not be queued (a failed
      // transaction refuses them) fails the whole of it.
      if (!doomed_) doom_reason_ = std::string("produce: ") + rd_kafka_err2str(err);
      doomed_ = true;
    }
    f.report.set(i, again ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected,
                 std::string("produce: ") + rd_kafka_err2str(err));
    return;
  }
}

bool KafkaOutput::create() {
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
  if (eo_) ours.emplace_back("transactional.id", transactional_id_);
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

bool KafkaOutput::ready() {
  if (!eo_) return rk_ || create();
  if (ready_) return true;
  if (!rk_ && !create()) return false;
  return init_transactions();
}

void KafkaOutput::destroy() {
  if (!rk_) return;
  rd_kafka_flush(rk_, 10'000);
  for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
  topics_.clear();
  times_.detach();
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  ready_ = false;
}

// After a fatal error (an idempotent producer's broken sequence, a fenced
// transactional one) the producer is unusable: a new one is made for the
// next write.
void KafkaOutput::check_fatal() {
  char err[512];
  if (rd_kafka_fatal_error(rk_, err, sizeof err) == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  if (eo_) {
    fenced(std::string("fatal producer error: ") + err);
    return;
  }
  core::log::error(id_, "fatal producer error: ", err, "; starting a new producer");
  discard_producer();
}

// Records still on their way are reported as purged (retriable): the
// pipeline retries them on the new producer (exactly once: they are read
// again). Then the producer goes, unflushed.
void KafkaOutput::discard_producer() {
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  auto busy = [&] {
    for (const Flight& f : flights_)
      if (f.outstanding > 0) return true;
    return false;
  };
  for (int i = 0; i < 1000 && busy(); ++i) rd_kafka_poll(rk_, 10);
  for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
  topics_.clear();
  times_.detach();
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

rd_kafka_topic_t* KafkaOutput::topic_for(const core::Event& e) {
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

void KafkaOutput::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaOutput*>(opaque);
  auto tag = reinterpret_cast<std::uint64_t>(m->_private);
  const bool purged = m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
  if (tag == kOwnRecord) {  // a checkpoint record of the offsets topic
    if (m->err && !purged && self->txn_open_) {
      if (!self->doomed_) self->doom_reason_ = std::string("offsets topic: ") + rd_kafka_err2str(m->err);
      self->doomed_ = true;
    }
    return;
  }
  Flight& f = self->flights_[tag >> 32];
  --f.outstanding;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  const bool again = common::kafka::retriable(m->err);
  const std::size_t i = tag & 0xffffffffu;
  // The error's name too (TOPIC_AUTHORIZATION_FAILED): what the broker's
  // and librdkafka's documentation go by.
  f.report.set(i, again ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected,
               std::string(rd_kafka_err2name(m->err)) + ": " + rd_kafka_err2str(m->err));
  if (self->eo_ && f.txn == self->txn_ && self->txn_open_) {
    // A record that failed (or was purged by a failing transaction) fails
    // its transaction: it is aborted, and the events are read again. One the
    // broker refuses for good goes to the failed queue when it comes again,
    // instead of failing every retry.
    if (!self->doomed_) {  // the first error says why: the purges it causes follow it
      self->doomed_ = true;
      self->doom_reason_ = rd_kafka_err2str(m->err);
    }
    if (!again && !purged && f.batch) {
      const core::Event& e = f.batch->events[f.slot->selected[i]];
      if (self->poison_.size() < 100'000) self->poison_.emplace(f.batch->source, e.offset);
      self->poison_reason_ =
          std::string("refused by the broker in an earlier transaction: ") + rd_kafka_err2str(m->err);
    }
  }
}

// The thread that polls the producer (this output's): the statistics document.
int KafkaOutput::on_statistics(rd_kafka_t*, char* json, std::size_t len, void* opaque) {
  auto* self = static_cast<KafkaOutput*>(opaque);
  if (self->stats_)
    self->stats_->series.replace(common::kafka::parse_statistics({json, len}), common::kafka::kStatisticsGroup);
  return 0;  // librdkafka frees the document
}

void KafkaOutput::on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  common::kafka::log_librdkafka_error(static_cast<KafkaOutput*>(opaque)->id_, err, reason);
}

void KafkaOutput::on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  common::kafka::log_librdkafka(static_cast<KafkaOutput*>(rd_kafka_opaque(rk))->id_, level, fac, buf);
}

void KafkaOutput::publish_series() {
  if (!stats_) return;
  auto n = [](const std::atomic<std::uint64_t>& c) { return static_cast<double>(c.load()); };
  if (spec_.event_time) times_.publish();
  if (!eo_) return;
  std::vector<core::Series> series;
  {
    series.push_back({&kTransactions, {"committed"}, n(committed_)});
    series.push_back({&kTransactions, {"aborted"}, n(aborted_)});
    series.push_back({&kTransactions, {"fenced"}, n(fenced_)});
    series.push_back({&kDiscardedEvents, {}, n(discarded_)});
  }
  stats_->series.replace(std::move(series), kTransactionsGroup);
}

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<KafkaOutput>(*this, ctx);
}

}  // namespace bifrost::outputs::kafka
