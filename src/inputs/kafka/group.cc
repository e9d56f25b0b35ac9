// The Kafka input's side of its consumer group: assignments and
// revocations, where partitions start, acknowledged offsets stored and
// committed; or, with an exactly-once output, handed to its transactions.
#include <algorithm>

#include "common/kafka/statistics.h"
#include "core/log.h"
#include "inputs/kafka/consumer.h"

namespace bifrost::inputs::kafka {

PartitionState& KafkaInput::partition(const std::string& topic, std::int32_t p) {
  PartitionKey key{topic, p};
  if (auto it = partitions_.find(key); it != partitions_.end()) return it->second;
  std::lock_guard lock(mu_);  // positions() walks the map
  auto [it, fresh] = partitions_.try_emplace(std::move(key));
  it->second.source = topic + "/" + std::to_string(p);
  return it->second;
}

// Hands the acknowledged position of every partition to librdkafka.
// Returns whether one moved (then the caller commits).
bool KafkaInput::store_acknowledged() {
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

void KafkaInput::commit_sync(const char* why) {
  rd_kafka_resp_err_t e = rd_kafka_commit(rk_, nullptr, /*async=*/0);
  if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) core::log::warn(id_, "commit at ", why, ": ", rd_kafka_err2str(e));
}

void KafkaInput::assign(rd_kafka_topic_partition_list_t* parts) {
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

void KafkaInput::revoke(rd_kafka_topic_partition_list_t* parts) {
  if (commits()) {
    store_acknowledged();
    commit_sync("rebalance");
  } else {
    // The open transaction holds records of these partitions: it ends
    // (committed with their offsets, or aborted when the group already gave
    // them away) before another member may read them from the committed
    // offsets. What is still on its way is then left unsent (a new epoch).
    const bool lost = rd_kafka_assignment_lost(rk_);
    core::log::info(id_, lost ? "assignment lost: the open transaction is aborted"
                              : "ending the open transaction before the partitions go");
    eo_->settle(lost, std::chrono::seconds(30));
  }
  {
    std::lock_guard lock(mu_);
    for (int i = 0; i < parts->cnt; ++i)
      partitions_.erase(PartitionKey{parts->elems[i].topic, parts->elems[i].partition});
  }
  drop_read();  // records of the old assignment: read again by whoever gets their partition
  rd_kafka_assign(rk_, nullptr);
}

bool KafkaInput::positions(std::uint64_t epoch, pipeline::InputPositions& out) {
  std::lock_guard lock(mu_);
  if (!rk_) return false;
  for (const auto& [key, p] : partitions_) {
    if (!p.tracker || p.epoch != epoch) continue;
    out.offsets.push_back({key.topic, key.partition, static_cast<std::int64_t>(p.tracker->acknowledged())});
  }
  if (out.offsets.empty()) return false;
  // Asked now, not kept from the assignment: a transaction must carry the
  // generation it commits in, so that a member the group has since fenced
  // cannot commit (KIP-447). Empty when it cannot be had: the committer
  // then aborts.
  if (rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata(rk_)) {
    void* buf = nullptr;
    std::size_t size = 0;
    if (rd_kafka_error_t* e = rd_kafka_consumer_group_metadata_write(md, &buf, &size)) {
      core::log::warn(id_, "consumer group metadata: ", rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    } else {
      out.group_metadata.assign(static_cast<const char*>(buf), size);
      rd_kafka_mem_free(rk_, buf);
    }
    rd_kafka_consumer_group_metadata_destroy(md);
  }
  return true;
}

void KafkaInput::rewind() {
  // What was read and not published belongs to the old epoch; note where it
  // started, for partitions with nothing committed yet.
  std::map<PartitionKey, std::int64_t> lowest;
  for (std::size_t i = next_; i < read_.size(); ++i) {
    const rd_kafka_message_t* m = read_[i];
    if (m->err) continue;
    auto [it, fresh] = lowest.try_emplace(PartitionKey{rd_kafka_topic_name(m->rkt), m->partition}, m->offset);
    if (!fresh) it->second = std::min(it->second, m->offset);
  }
  drop_read();
  if (batch_ && !batch_->events.empty()) {
    batch_->tracker.reset();  // never tracked: released without acknowledging anything
    batch_->release();
    batch_ = nullptr;
  }
  epoch_ = eo_->epoch();
  {
    std::lock_guard lock(mu_);
    for (auto& [key, p] : partitions_) {
      p.tracker.reset();
      p.stored = -1;
      if (p.start >= 0) {
        auto [it, fresh] = lowest.try_emplace(key, p.start);
        if (!fresh) it->second = std::min(it->second, p.start);
      }
    }
  }
  rd_kafka_topic_partition_list_t* parts = nullptr;
  if (rd_kafka_assignment(rk_, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || !parts) return;
  if (parts->cnt > 0) {
    // The committed offsets are the truth: a seek anywhere else loses or
    // repeats records, so this waits for them (a broker away is waited out).
    for (int attempt = 1;; ++attempt) {
      rd_kafka_resp_err_t e = rd_kafka_committed(rk_, parts, 10'000);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      core::log::warn(id_, "rewind: fetching the committed offsets (attempt ", attempt, "): ", rd_kafka_err2str(e));
      if (ctx_ && ctx_->stopping()) {  // nothing read now is committed: the next start reads it
        rd_kafka_topic_partition_list_destroy(parts);
        return;
      }
    }
    rd_kafka_topic_partition_list_t* seek = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = parts->elems[i];
      std::int64_t to = tp.offset;
      if (to < 0) {  // nothing committed: back to where reading started, if anything was read
        auto it = lowest.find(PartitionKey{tp.topic, tp.partition});
        if (it == lowest.end()) continue;
        to = it->second;
      }
      rd_kafka_topic_partition_list_add(seek, tp.topic, tp.partition)->offset = to;
    }
    if (seek->cnt > 0) {
      if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_, seek, 10'000)) {
        core::log::error(id_, "rewind: seek: ", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    }
    core::log::info(id_, "rewound ", seek->cnt, " partition(s) to their committed offsets");
    rd_kafka_topic_partition_list_destroy(seek);
  }
  rd_kafka_topic_partition_list_destroy(parts);
}

void KafkaInput::on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                              void* opaque) {
  auto* self = static_cast<KafkaInput*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    core::log::info(self->id_, "assigned ", parts->cnt, " partition(s)");
    self->assign(parts);
  } else {
    core::log::info(self->id_, "revoked ", parts->cnt, " partition(s)");
    self->revoke(parts);
  }
}

void KafkaInput::on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void* opaque) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  auto* self = static_cast<KafkaInput*>(opaque);
  core::log::warn(self->id_, "offset commit failed (tried again with the next): ", rd_kafka_err2str(err));
}

// librdkafka's thread that polls (this input's): the statistics document.
int KafkaInput::on_statistics(rd_kafka_t*, char* json, std::size_t len, void* opaque) {
  auto* self = static_cast<KafkaInput*>(opaque);
  if (self->stats_)
    self->stats_->series.replace(common::kafka::parse_statistics({json, len}), common::kafka::kStatisticsGroup);
  return 0;  // librdkafka frees the document
}

void KafkaInput::on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  common::kafka::log_librdkafka_error(static_cast<KafkaInput*>(opaque)->id_, err, reason);
}

void KafkaInput::on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  common::kafka::log_librdkafka(static_cast<KafkaInput*>(rd_kafka_opaque(rk))->id_, level, fac, buf);
}

}  // namespace bifrost::inputs::kafka
