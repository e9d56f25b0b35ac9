#include "pipeline/exactly_once.h"

#include <doctest.h>

#include <atomic>
#include <thread>

#include "outputs/kafka/producer.h"

using bifrost::pipeline::ExactlyOnce;
using bifrost::pipeline::InputPositions;
using bifrost::pipeline::PositionSource;
using namespace std::chrono_literals;

namespace {

struct Source final : PositionSource {
  std::uint64_t epoch = 0;  // what it has gone back to
  bool positions(std::uint64_t e, InputPositions& out) override {
    if (e != epoch) return false;
    out.state = "state of epoch " + std::to_string(e);
    return true;
  }
};

}  // namespace

TEST_CASE("exactly once: a rewind starts a new epoch and the batches of older ones are stale") {
  ExactlyOnce eo;
  bifrost::core::Batch b;
  b.epoch = eo.epoch();
  CHECK(eo.current(b));
  eo.rewind();
  CHECK_FALSE(eo.current(b));
  b.epoch = eo.epoch();
  CHECK(eo.current(b));
}

TEST_CASE("exactly once: only inputs back at the current epoch hand positions to a commit") {
  ExactlyOnce eo;
  eo.join("a", ExactlyOnce::Kind::kState);
  eo.join("b", ExactlyOnce::Kind::kConsumerGroup, "g");
  CHECK(eo.has(ExactlyOnce::Kind::kState));
  Source a, b;
  a.epoch = b.epoch = eo.epoch();
  eo.attach("a", &a);
  eo.attach("b", &b);
  std::vector<InputPositions> got;
  eo.collect(got);
  CHECK(got.size() == 2);
  eo.rewind();
  a.epoch = eo.epoch();  // a went back; b has not yet
  eo.collect(got);
  REQUIRE(got.size() == 1);
  CHECK(got[0].input == "a");
  eo.detach("a");
  eo.collect(got);
  CHECK(got.empty());
}

TEST_CASE("exactly once: a rewind goes back to the last committed state, else to the baseline") {
  ExactlyOnce eo;
  CHECK_FALSE(eo.rewind_state("in").has_value());
  eo.set_baseline("in", "at start");
  CHECK(eo.rewind_state("in") == "at start");
  InputPositions p;
  p.input = "in";
  p.state = "committed 1";
  eo.committed({p});
  CHECK(eo.rewind_state("in") == "committed 1");
  eo.set_baseline("in", "a later start");  // a committed state stays
  CHECK(eo.rewind_state("in") == "committed 1");
}

TEST_CASE("exactly once: an input waits for what the committer recovered, or for its stop") {
  ExactlyOnce eo;
  std::atomic<bool> stop{false};
  std::optional<std::string> got = "unset";
  std::thread t([&] { got = eo.recovered("in", [&] { return stop.load(); }); });
  std::this_thread::sleep_for(20ms);
  eo.set_recovered({{"in", "from kafka"}});
  t.join();
  CHECK(got == "from kafka");
  CHECK_FALSE(eo.recovered("other", [] { return false; }).has_value());  // nothing committed for it

  ExactlyOnce never;
  std::thread u([&] { got = never.recovered("in", [&] { return stop.load(); }); });
  stop = true;
  u.join();
  CHECK_FALSE(got.has_value());
}

TEST_CASE("exactly once: a revocation with no transaction open rewinds at once") {
  ExactlyOnce eo;
  const auto before = eo.epoch();
  eo.settle(/*lost=*/false, 10s);  // returns at once: nothing to wait for
  CHECK(eo.epoch() == before + 1);
  CHECK(eo.settle_requested() == 0);
}

TEST_CASE("exactly once: a revocation waits for the committer to end the open transaction") {
  ExactlyOnce eo;
  eo.set_open(true);
  std::thread committer([&] {
    while (eo.settle_requested() == 0) std::this_thread::sleep_for(1ms);
    CHECK(eo.settle_requested() == 1);  // not lost: commit it
    eo.set_open(false);
    eo.rewind();
    eo.settled();
  });
  const auto before = eo.epoch();
  eo.settle(/*lost=*/false, 30s);
  committer.join();
  CHECK(eo.epoch() == before + 1);
  CHECK(eo.settle_requested() == 0);
}

TEST_CASE("exactly once: a revocation the committer does not answer in time asks for an abort") {
  ExactlyOnce eo;
  eo.set_open(true);
  eo.settle(/*lost=*/false, 10ms);
  CHECK(eo.settle_requested() == 2);  // the partitions may be gone: what was read must not commit
  eo.close();                         // the committer is gone: later revocations do not wait
  eo.settle(false, 10s);
}

TEST_CASE("exactly once: the derived transactional id is stable per instance and the offsets topic a valid name") {
  using bifrost::outputs::kafka::default_offsets_topic;
  using bifrost::outputs::kafka::default_transactional_id;
  const auto id = default_transactional_id("main", "split", {"g1", "g2"}, "host-1", "/var/lib/bifrost");
  CHECK(id == default_transactional_id("main", "split", {"g1", "g2"}, "host-1", "/var/lib/bifrost"));
  CHECK(id.starts_with("bifrost.main.split.g1+g2.host-1."));
  CHECK(id != default_transactional_id("main", "split", {"g1", "g2"}, "host-1", "/var/lib/bifrost-2"));
  const auto topic = default_offsets_topic(id);
  CHECK(topic.starts_with("bifrost-offsets.bifrost.main.split.g1_g2.host-1."));
  const auto longest = default_offsets_topic(std::string(400, 'x'));
  CHECK(longest.size() <= 249);
  for (char c : longest + topic)
    CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'));
}
