// `exactly_once: true`: the Kafka output's transactions.
//
// One transaction gathers the records of many batches for
// `transaction_interval`, then commits with the inputs' positions
// (pipeline/exactly_once.h): a consumer's offsets through
// send_offsets_to_transaction with its group's metadata, a file input's
// checkpoint as a record of the offsets topic. The positions must cover
// exactly the batches whose records are in the transaction, so a commit
// happens only at a commit point: no batch with records in the transaction
// still on its way (every one of them ended, and so finished by this
// output: the runner finishes a batch before it calls the output again).
// Once the interval is over the transaction is sealed: batches begun
// meanwhile are deferred, and produced into the next transaction once the
// ones before them have ended (at the first deferred one's end()).
//
// A record that fails fails its transaction: it is aborted, the inputs go
// back to the committed positions (a new epoch; batches of the old one are
// ended unsent), and the events come again. A fenced or failed producer is
// replaced (init_transactions fences its predecessor and aborts what it
// left open). Every abort is logged and counted.
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "core/log.h"
#include "outputs/kafka/producer.h"

namespace bifrost::outputs::kafka {

namespace {

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

std::string hex32(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = digits[v & 15];
  return out;
}

std::string error_text(const rd_kafka_error_t* e) {
  return std::string(rd_kafka_error_name(e)) + ": " + rd_kafka_error_string(e);
}

// How long to wait after the n-th abort in a row before the next transaction.
std::chrono::milliseconds backoff(int n) { return std::chrono::milliseconds(std::min(5000, 100 << std::min(n, 6))); }

}  // namespace

void KafkaOutput::name_transactions() {
  transactional_id_ = spec_.transactional_id;
  if (transactional_id_.empty()) {
    std::vector<std::string> groups;
    for (const auto& m : eo_->members()) {
      if (!m.group.empty() && std::find(groups.begin(), groups.end(), m.group) == groups.end()) {
        groups.push_back(m.group);
      }
    }
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
    transactional_id_ = default_transactional_id(pipeline_, id_, groups, host, data_dir_);
  }
  offsets_topic_ = spec_.offsets_topic.empty() ? default_offsets_topic(transactional_id_) : spec_.offsets_topic;
}

std::string default_transactional_id(const std::string& pipeline, const std::string& output,
                                     const std::vector<std::string>& groups, const std::string& host,
                                     const std::string& data_dir) {
  std::string id = "bifrost." + pipeline + "." + output;
  if (!groups.empty()) {
    id += '.';
    for (std::size_t i = 0; i < groups.size(); ++i) id += (i ? "+" : "") + groups[i];
  }
  return id + "." + host + "." + hex32(fnv1a(data_dir));
}

std::string default_offsets_topic(const std::string& transactional_id) {
  std::string topic = "bifrost-offsets.";
  for (char c : transactional_id) {
    topic += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  }
  if (topic.size() > 249) topic = topic.substr(0, 240) + "." + hex32(fnv1a(transactional_id));
  return topic;
}

bool KafkaOutput::init_transactions() {
  // Fences any earlier producer with this id and aborts what it left open
  // (a kill -9), so that the inputs' committed positions are final.
  if (rd_kafka_error_t* e = rd_kafka_init_transactions(rk_, 10'000)) {
    create_error_ = "init_transactions: " + error_text(e);
    core::log::warn(id_, create_error_, rd_kafka_error_is_retriable(e) ? "; trying again" : "; a new producer next");
    const bool fatal = !rd_kafka_error_is_retriable(e);
    rd_kafka_error_destroy(e);
    if (fatal) destroy();
    return false;
  }
  if (!recovered_) {
    if (!recover_states()) return false;
    recovered_ = true;
  }
  ready_ = true;
  core::log::info(id_, "exactly once: transactions of ", spec_.transaction_interval_ns / 1'000'000,
                  "ms as transactional.id \"", transactional_id_, "\"");
  return true;
}

bool KafkaOutput::any_deferred(std::uint64_t except) const {
  for (std::uint64_t k = 0; k < flights_.size(); ++k) {
    if (k != except && flights_[k].used && flights_[k].deferred) return true;
  }
  return false;
}

bool KafkaOutput::due() const {
  return txn_open_ && clock_.now() - txn_started_ >= std::chrono::nanoseconds(spec_.transaction_interval_ns);
}

bool KafkaOutput::at_commit_point(std::uint64_t except) const {
  for (std::uint64_t k = 0; k < flights_.size(); ++k) {
    const Flight& f = flights_[k];
    if (k != except && f.used && !f.deferred && !f.discard && f.txn != 0 && f.txn == txn_ && txn_open_) return false;
  }
  return true;
}

bool KafkaOutput::open_transaction() {
  eo_->set_open(true);  // from now on a settle() waits for this transaction
  txn_epoch_ = eo_->epoch();
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(rk_)) {
    const std::string why = "begin_transaction: " + error_text(e);
    const bool fatal = rd_kafka_error_is_fatal(e);
    rd_kafka_error_destroy(e);
    eo_->set_open(false);
    create_error_ = why;
    if (fatal) fenced(why);
    else core::log::warn(id_, why);
    return false;
  }
  txn_open_ = true;
  ++txn_;
  txn_started_ = clock_.now();
  sealed_ = doomed_ = false;
  marks_.clear();
  return true;
}

void KafkaOutput::begin_exactly_once(Flight& f, std::uint64_t r) {
  if (!ready()) {
    read_again(f, create_error_);
    return;
  }
  if (txn_open_ && (doomed_ || eo_->epoch() != txn_epoch_)) {
    abort(doomed_ ? doom_reason_ : "the inputs went back to their committed positions");
  }
  if (any_deferred(r)) {  // batches begun before this one wait for the transaction to end: it goes after them
    f.deferred = true;
    return;
  }
  const bool settle = eo_->settle_requested() != 0;
  if (txn_open_ && (sealed_ || due() || settle)) {
    if (!at_commit_point(r)) {  // batches before this one are still on their way in it
      sealed_ = true;
      f.deferred = true;
      return;
    }
    end_transaction();
  } else if (!txn_open_ && settle) {
    end_transaction();  // nothing open: a new epoch at once
  }
  if (!eo_->current(*f.batch)) {
    discard(f);
    return;
  }
  if (!txn_open_ && !open_transaction()) {
    read_again(f, create_error_);
    return;
  }
  if (f.batch->epoch != txn_epoch_) {  // a rewind came between the check and the opening
    discard(f);
    return;
  }
  f.txn = txn_;
  mark(*f.batch);
  produce(f, r);
}

void KafkaOutput::end_exactly_once(Flight& f, std::uint64_t r) {
  if (f.deferred) {
    if (at_commit_point(r)) {
      // Every batch before this one has ended: the sealed transaction ends,
      // and the deferred batches go into the next one, in order.
      if (txn_open_ || eo_->settle_requested()) end_transaction();
      produce_deferred(r);
    } else {
      // Ended out of turn (a retry's write()): into the open transaction.
      f.deferred = false;
      if (eo_->current(*f.batch) && f.batch->epoch == txn_epoch_ && txn_open_) {
        f.txn = txn_;
        mark(*f.batch);
        produce(f, r);
      } else {
        discard(f);
      }
    }
  }
  while (f.outstanding > 0 && rk_) rd_kafka_poll(rk_, 5);
  if (doomed_ && txn_open_ && f.txn == txn_) abort(doom_reason_);
  // Its records are in the open transaction, or nowhere: a transaction
  // never commits with a batch of it still on its way.
  const bool aborted = f.txn != 0 && !(txn_open_ && f.txn == txn_);
  if (aborted && !f.discard) discard(f);
  // Nothing goes back to the pipeline to retry: a retry would come after
  // the batches behind it, out of order. What failed is read again.
  if (!f.discard && !poison_.empty() && f.report.count(pipeline::Outcome::kRejected) > 0) {
    for (std::size_t i = 0; i < f.report.size(); ++i) {
      if (f.report.outcome(i) != pipeline::Outcome::kRejected) continue;
      std::pair<std::string, std::uint64_t> key{f.batch->source, f.batch->events[f.slot->selected[i]].offset};
      if (poison_.erase(key) && parked_.size() < 100'000) parked_.insert(std::move(key));
    }
  }
  if (!f.discard && f.report.count(pipeline::Outcome::kRetry) > 0) {
    std::string why;
    for (std::size_t i = 0; i < f.report.size() && why.empty(); ++i) {
      if (f.report.outcome(i) == pipeline::Outcome::kRetry) why = f.report.reason(i);
    }
    if (txn_open_ && f.txn == txn_) abort(why);
    read_again(f, why);
  }
}

void KafkaOutput::produce_deferred(std::uint64_t first) {
  std::vector<std::uint64_t> order;
  for (std::uint64_t k = 0; k < flights_.size(); ++k) {
    if (flights_[k].used && flights_[k].deferred && k != first) order.push_back(k);
  }
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return flights_[a].order < flights_[b].order; });
  order.insert(order.begin(), first);
  for (std::uint64_t k : order) {
    Flight& d = flights_[k];
    d.deferred = false;
    if (!eo_->current(*d.batch)) {
      discard(d);
      continue;
    }
    if (!txn_open_ && !open_transaction()) {
      read_again(d, create_error_);
      continue;
    }
    if (d.batch->epoch != txn_epoch_) {
      discard(d);
      continue;
    }
    d.txn = txn_;
    mark(*d.batch);
    produce(d, k);
  }
}

void KafkaOutput::mark(const core::Batch& batch) {
  if (!batch.tracker) return;
  for (auto& [tracker, seq] : marks_) {
    if (tracker == batch.tracker) {
      seq = batch.ack_seq;
      return;
    }
  }
  marks_.emplace_back(batch.tracker, batch.ack_seq);
}

// A batch that cannot go into a transaction now is not retried by the
// pipeline: a retry would come after the batches behind it, out of order.
// Every input goes back to its committed positions instead (a new epoch),
// and reads it again, in order, once a transaction can take it.
void KafkaOutput::read_again(Flight& f, const std::string& why) {
  if (eo_->current(*f.batch)) {
    core::log::warn(id_, "exactly once: ", why, "; the inputs go back to their committed positions");
    eo_->rewind();
    std::this_thread::sleep_for(backoff(aborts_in_a_row_++));  // not a busy loop while the broker is away
  }
  discard(f);
}

void KafkaOutput::discard(Flight& f) {
  f.discard = true;
  f.report.reset(f.slot->selected.size());  // "delivered": nothing to retry, nothing to park; read again
  discarded_ += f.slot->selected.size();
}

bool KafkaOutput::poisoned(const core::Batch& batch, const core::Event& e) const {
  return poison_.contains({batch.source, e.offset});
}

// Other outputs of the pipeline (idempotent ones) may not have finished the
// batches this transaction holds: their positions may be committed only
// once every output has.
bool KafkaOutput::wait_for_others(bool closing) {
  const auto limit = std::chrono::steady_clock::now() + (closing ? std::chrono::seconds(5) : std::chrono::seconds(30));
  for (const auto& [tracker, seq] : marks_) {
    while (!tracker->finished_through(seq)) {
      if (std::chrono::steady_clock::now() >= limit) return false;
      rd_kafka_poll(rk_, 1);
    }
  }
  return true;
}

void KafkaOutput::end_transaction(bool closing) {
  const int settle = eo_->settle_requested();
  if (txn_open_) {
    std::string why;
    if (doomed_) why = doom_reason_;
    else if (settle == 2) why = "the consumer group gave the partitions to another member";
    else if (eo_->epoch() != txn_epoch_) why = "the inputs went back to their committed positions";
    else if (!wait_for_others(closing)) why = "the other outputs did not finish its events in time";
    TxnResult result = TxnResult::kAborted;
    if (why.empty()) {
      eo_->collect(positions_);
      result = commit(positions_, why);
    }
    switch (result) {
      case TxnResult::kCommitted:
        ++committed_;
        aborts_in_a_row_ = 0;
        for (const auto& p : positions_) {
          if (!p.state.empty()) states_[p.input] = p.state;
        }
        eo_->committed(positions_);
        txn_open_ = false;
        eo_->set_open(false);
        sealed_ = false;
        marks_.clear();
        if (settle) eo_->rewind();  // what is still on its way may belong to partitions now gone
        break;
      case TxnResult::kAborted: abort(why); break;
      case TxnResult::kFenced: fenced(why); break;
    }
  } else if (settle) {
    eo_->rewind();
  }
  if (settle) eo_->settled();
}

KafkaOutput::TxnResult KafkaOutput::commit(const std::vector<pipeline::InputPositions>& positions, std::string& why) {
  auto classify = [&](rd_kafka_error_t* e, const char* what) {
    why = std::string(what) + ": " + error_text(e);
    // Neither abortable nor retriable: fatal, per librdkafka's advice.
    const bool fatal =
        rd_kafka_error_is_fatal(e) || (!rd_kafka_error_txn_requires_abort(e) && !rd_kafka_error_is_retriable(e));
    rd_kafka_error_destroy(e);
    return fatal ? TxnResult::kFenced : TxnResult::kAborted;
  };
  for (const pipeline::InputPositions& p : positions) {
    if (!p.offsets.empty()) {
      if (p.group_metadata.empty()) {
        why = "no consumer group metadata from input \"" + p.input + "\"";
        return TxnResult::kAborted;
      }
      rd_kafka_consumer_group_metadata_t* md = nullptr;
      if (rd_kafka_error_t* e =
              rd_kafka_consumer_group_metadata_read(&md, p.group_metadata.data(), p.group_metadata.size())) {
        return classify(e, "consumer group metadata");
      }
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(p.offsets.size()));
      for (const auto& o : p.offsets) {
        rd_kafka_topic_partition_list_add(list, o.topic.c_str(), o.partition)->offset = o.offset;
      }
      rd_kafka_error_t* e = nullptr;
      for (int attempt = 1; attempt <= 3; ++attempt) {
        e = rd_kafka_send_offsets_to_transaction(rk_, list, md, -1);
        if (!e || !rd_kafka_error_is_retriable(e) || attempt == 3) break;
        rd_kafka_error_destroy(e);  // the same offsets and metadata again, as librdkafka advises
      }
      rd_kafka_topic_partition_list_destroy(list);
      rd_kafka_consumer_group_metadata_destroy(md);
      if (e) return classify(e, "send_offsets_to_transaction");
    }
    if (!p.state.empty() && !produce_state(p)) {
      why = "the checkpoint of input \"" + p.input + "\" could not be produced to " + offsets_topic_;
      return TxnResult::kAborted;
    }
  }
  for (int attempt = 1;; ++attempt) {
    rd_kafka_error_t* e = rd_kafka_commit_transaction(rk_, -1);
    if (!e) return TxnResult::kCommitted;
    if (rd_kafka_error_is_retriable(e) && attempt < 3) {
      rd_kafka_error_destroy(e);  // resumable: it goes on where it was
      continue;
    }
    return classify(e, "commit_transaction");
  }
}

void KafkaOutput::abort(const std::string& why) {
  for (int attempt = 1;; ++attempt) {
    rd_kafka_error_t* e = rd_kafka_abort_transaction(rk_, -1);
    if (!e) break;
    const std::string text = error_text(e);
    const bool again = rd_kafka_error_is_retriable(e) && attempt < 3;
    rd_kafka_error_destroy(e);
    if (!again) {
      fenced(why + "; then abort_transaction: " + text);
      return;
    }
  }
  ++aborted_;
  core::log::warn(id_, "transaction aborted (", why,
                  "); its events are read again from the inputs' committed positions");
  txn_open_ = false;
  eo_->set_open(false);
  sealed_ = doomed_ = false;
  marks_.clear();
  eo_->rewind();
  std::this_thread::sleep_for(backoff(aborts_in_a_row_++));  // a broker failing every transaction is not hammered
}

void KafkaOutput::fenced(const std::string& why) {
  ++fenced_;
  core::log::error(id_, "transactional producer fenced or failed (", why, "); transactional.id \"", transactional_id_,
                   "\" must be this instance's alone. A new producer takes over; the events of the open transaction "
                   "are read again from the inputs' committed positions");
  txn_open_ = false;
  eo_->set_open(false);
  sealed_ = doomed_ = false;
  marks_.clear();
  eo_->rewind();
  if (rk_) discard_producer();
  ready_ = false;
  std::this_thread::sleep_for(backoff(aborts_in_a_row_++));
}

}  // namespace bifrost::outputs::kafka
