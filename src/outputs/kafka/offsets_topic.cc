// exactly_once with file inputs: their checkpoints live in Kafka, as records
// of a compacted topic of this instance (keyed by pipeline/input, the last
// one wins), written in the same transaction as the records they cover,
// the way Kafka Connect's exactly-once sources keep their offsets. At start
// the topic is read back (read_committed: only what committed) and handed
// to the inputs, which prefer it to their local checkpoint when the two
// differ: the local one is written apart from the transaction, Kafka's with
// it.
#include <map>

#include "core/log.h"
#include "outputs/kafka/producer.h"

namespace bifrost::outputs::kafka {

namespace {

// Creates `topic` compacted, one partition; true when it is there now.
bool create_topic(rd_kafka_t* rk, const std::string& topic, const std::string& id) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), 1, -1, err, sizeof err);  // -1: the broker's default
  if (!nt) {
    core::log::error(id, "offsets topic ", topic, ": ", err);
    return false;
  }
  rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
  // Segments roll often enough for compaction to keep the topic small: one
  // record per input and transaction.
  rd_kafka_NewTopic_set_config(nt, "segment.ms", "3600000");
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_NewTopic_destroy(nt);
  bool ok = false;
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30'000);
  if (!ev) {
    core::log::warn(id, "offsets topic ", topic, ": no answer to CreateTopics within 30s");
  } else if (rd_kafka_event_error(ev)) {
    core::log::warn(id, "offsets topic ", topic, ": CreateTopics: ", rd_kafka_event_error_string(ev));
  } else {
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (std::size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      ok = e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) core::log::info(id, "created the offsets topic ", topic, " (compacted)");
      if (!ok) core::log::warn(id, "offsets topic ", topic, ": ", rd_kafka_topic_result_error_string(results[i]));
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  return ok;
}

}  // namespace

bool KafkaOutput::recover_states() {
  if (!eo_->has(pipeline::ExactlyOnce::Kind::kState)) {
    eo_->set_recovered({});
    return true;
  }
  if (!create_topic(rk_, offsets_topic_, id_)) return false;
  // A consumer of its own, assigned (not subscribed) to the one partition.
  auto made = common::kafka::make_conf(spec_.client, {{"client.id", "bifrost"},
                                                      {"group.id", transactional_id_},
                                                      {"enable.auto.commit", "false"},
                                                      {"enable.partition.eof", "true"},
                                                      {"isolation.level", "read_committed"},
                                                      {"fetch.wait.max.ms", "10"},
                                                      {"auto.offset.reset", "earliest"}});
  if (!made) {
    core::log::error(id_, "offsets topic reader: ", made.error().message);
    return false;
  }
  rd_kafka_conf_t* conf = *made;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_log_cb(conf, &KafkaOutput::on_log);
  char err[512];
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!c) {
    rd_kafka_conf_destroy(conf);
    core::log::error(id_, "offsets topic reader: ", err);
    return false;
  }
  rd_kafka_poll_set_consumer(c);
  // An empty topic (a first start) is not read: its end would take a fetch
  // round of its own to be told.
  std::int64_t low = 0, high = 0;
  const rd_kafka_resp_err_t marks = rd_kafka_query_watermark_offsets(c, offsets_topic_.c_str(), 0, &low, &high, 10'000);
  if (marks == RD_KAFKA_RESP_ERR_NO_ERROR && low == high) {
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    core::log::info(id_, "offsets topic ", offsets_topic_, ": empty, no checkpoint committed yet");
    states_.clear();
    eo_->set_recovered({});
    return true;
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, offsets_topic_.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(c, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  std::map<std::string, std::string> by_key;
  bool at_end = false;
  std::size_t records = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!at_end && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end = true;
    } else if (m->err) {
      core::log::debug(id_, "offsets topic reader: ", rd_kafka_message_errstr(m));  // e.g. a topic just created
    } else if (m->key) {
      std::string key(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) {
        by_key[key].assign(static_cast<const char*>(m->payload), m->len);
      } else {
        by_key.erase(key);  // a tombstone
      }
      ++records;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  if (!at_end) {
    core::log::warn(id_, "offsets topic ", offsets_topic_, ": not read to its end within 60s; trying again");
    return false;
  }
  std::map<std::string, std::string> states;
  const std::string prefix = pipeline_ + "/";
  for (auto& [key, body] : by_key) {
    if (key.starts_with(prefix)) states[key.substr(prefix.size())] = std::move(body);
  }
  core::log::info(id_, "offsets topic ", offsets_topic_, ": ", records, " record(s), checkpoints of ", states.size(),
                  " input(s)");
  states_ = states;  // what is committed already: not written again until it changes
  eo_->set_recovered(std::move(states));
  return true;
}

bool KafkaOutput::produce_state(const pipeline::InputPositions& p) {
  if (auto it = states_.find(p.input); it != states_.end() && it->second == p.state) return true;
  key_ = pipeline_ + "/" + p.input;
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(offsets_topic_.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key_.data(), key_.size()), RD_KAFKA_V_VALUE(const_cast<char*>(p.state.data()), p.state.size()),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(kOwnRecord)), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      core::log::error(id_, "offsets topic ", offsets_topic_, ": ", rd_kafka_err2str(err));
      return false;
    }
    rd_kafka_poll(rk_, 10);
  }
}

}  // namespace bifrost::outputs::kafka
