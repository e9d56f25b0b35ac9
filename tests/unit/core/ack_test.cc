#include <doctest.h>

#include "core/ack.h"
#include "core/batch.h"

using namespace bifrost::core;

TEST_CASE("the acknowledged position only moves over batches finished in order") {
  AckTracker t(100);
  auto a = t.track(200);
  auto b = t.track(300);
  auto c = t.track(400);
  t.complete(b);
  CHECK(t.acknowledged() == 100);  // a is not finished yet
  t.complete(a);
  CHECK(t.acknowledged() == 300);
  CHECK(t.pending() == 1);
  t.complete(c);
  CHECK(t.acknowledged() == 400);
  t.complete(c);  // twice: ignored
  CHECK(t.acknowledged() == 400);
}

TEST_CASE("a batch acknowledges when its last holder releases it, and not when abandoned") {
  BatchPool pool(2);
  auto tracker = std::make_shared<AckTracker>();
  Batch* b = pool.acquire();
  b->tracker = tracker;
  b->ack_seq = tracker->track(10);
  b->retain(2);  // two outputs
  b->release();  // the input's reference
  b->release();
  CHECK(tracker->acknowledged() == 0);
  b->release();
  CHECK(tracker->acknowledged() == 10);
  CHECK(pool.in_use() == 0);

  Batch* c = pool.acquire();
  c->tracker = tracker;
  c->ack_seq = tracker->track(20);
  c->abandon();
  c->release();
  CHECK(tracker->acknowledged() == 10);
  CHECK(pool.in_use() == 0);
}

TEST_CASE("a closed pool wakes waiters, and lets a final acquire through until closed for good") {
  BatchPool pool(1);
  Batch* b = pool.acquire();
  pool.close();
  CHECK(pool.acquire() == nullptr);
  b->release();
  Batch* last = pool.acquire(true);
  CHECK(last != nullptr);
  last->release();
  pool.close(true);
  CHECK(pool.acquire(true) == nullptr);
}

TEST_CASE("a held batch keeps the acknowledged position below it until every hold is released") {
  AckTracker t(0);
  auto a = t.track(10);
  auto b = t.track(20);
  auto c = t.track(30);
  CHECK(t.hold(b));
  CHECK(t.hold(b));  // two windows hold it
  t.complete(a);
  t.complete(b);
  t.complete(c);
  CHECK(t.acknowledged() == 10);  // b is delivered but held
  CHECK(t.pending() == 1);
  t.release(b);
  CHECK(t.acknowledged() == 10);
  t.release(b);
  CHECK(t.acknowledged() == 30);
  CHECK(t.pending() == 0);
  CHECK(t.entries() == 0);
  t.release(b);  // one too many: ignored
  CHECK(t.acknowledged() == 30);
}

TEST_CASE("a batch can be held only while it is not finished") {
  AckTracker t(0);
  auto a = t.track(10);
  t.complete(a);
  CHECK_FALSE(t.hold(a));   // finished: too late
  CHECK_FALSE(t.hold(99));  // unknown
  auto b = t.track(20);
  CHECK(t.hold(b));  // in flight
  t.complete(b);
  CHECK(t.hold(b));  // done, but held: still unfinished
  t.release(b);
  t.release(b);
  CHECK(t.acknowledged() == 20);
}

TEST_CASE("a hold over an hour of batches keeps the tracker's memory bounded") {
  AckTracker t(0);
  auto first = t.track(100);
  REQUIRE(t.hold(first));
  t.complete(first);
  // A million batches read and delivered while the window stays open,
  // finished out of order in pairs.
  for (std::uint64_t i = 1; i <= 1'000'000; i += 2) {
    auto x = t.track(100 + i * 10);
    auto y = t.track(100 + (i + 1) * 10);
    t.complete(y);
    t.complete(x);
  }
  CHECK(t.acknowledged() == 0);
  CHECK(t.entries() <= 2);  // the held batch and one run of finished ones
  // Another hold further on, with a batch still in flight between.
  auto held = t.track(20'000'000);
  auto open = t.track(20'000'010);
  REQUIRE(t.hold(held));
  t.complete(held);
  CHECK(t.entries() <= 4);
  t.release(first);
  CHECK(t.acknowledged() == 10'000'100);  // up to the second hold
  t.release(held);
  CHECK(t.acknowledged() == 20'000'000);  // up to the batch in flight
  t.complete(open);
  CHECK(t.acknowledged() == 20'000'010);
  CHECK(t.entries() == 0);
}

TEST_CASE("a batch held by a stage goes back to its pool at once; only its acknowledgement waits") {
  BatchPool pool(1);
  auto tracker = std::make_shared<AckTracker>();
  Batch* b = pool.acquire();
  b->tracker = tracker;
  b->ack_seq = tracker->track(10);
  const auto seq = b->ack_seq;
  REQUIRE(tracker->hold(seq));
  b->release();
  CHECK(pool.in_use() == 0);
  CHECK(tracker->acknowledged() == 0);
  tracker->release(seq);
  CHECK(tracker->acknowledged() == 10);
}

TEST_CASE("an AckHold releases once when done, is given up when dropped, and is empty when taken too late") {
  BatchPool pool(2);
  auto tracker = std::make_shared<AckTracker>();
  Batch* b = pool.acquire();
  b->tracker = tracker;
  b->ack_seq = tracker->track(10);
  AckHold h1 = b->hold_ack();
  AckHold h2 = b->hold_ack();
  REQUIRE(h1);
  CHECK(h1.tracker() == tracker.get());
  b->release();
  CHECK(pool.in_use() == 0);  // its memory is back in the pool
  CHECK(tracker->acknowledged() == 0);
  h1.done();
  CHECK_FALSE(h1);
  CHECK(tracker->acknowledged() == 0);
  AckHold moved = std::move(h2);
  CHECK_FALSE(h2);  // NOLINT(bugprone-use-after-move): a moved-from hold is empty
  h2.done();        // and its done() releases nothing
  CHECK(tracker->acknowledged() == 0);
  moved.done();
  CHECK(tracker->acknowledged() == 10);
  moved.done();  // twice: nothing more
  CHECK(tracker->acknowledged() == 10);
  Batch lone;
  CHECK_FALSE(lone.hold_ack());  // no tracker: nothing to hold

  Batch* c = pool.acquire();
  c->tracker = tracker;
  c->ack_seq = tracker->track(20);
  { AckHold dropped = c->hold_ack(); }  // given up: a crash or a shutdown deadline
  c->release();
  CHECK(tracker->acknowledged() == 10);
  CHECK(tracker->pending() == 1);
  CHECK_FALSE(AckHold::take(tracker, 0));  // finished long ago: too late
}

TEST_CASE("a tracker bumps its AckProgress when its acknowledged position moves, and only then") {
  auto progress = std::make_shared<AckProgress>();
  AckTracker t(0, progress);
  auto a = t.track(10);
  auto b = t.track(20);
  t.complete(b);  // a still open: the position stays
  CHECK(progress->count() == 0);
  CHECK(t.hold(a));
  t.complete(a);  // held: stays
  CHECK(progress->count() == 0);
  t.release(a);  // moves over a and b at once
  CHECK(t.acknowledged() == 20);
  CHECK(progress->count() == 1);
  // A follower that waits sees a bump made before its wait, and returns at
  // its deadline (on the clock it is given) when none comes.
  CHECK(progress->wait(Clock::system(), 0, Clock::system().now()));
  CHECK_FALSE(progress->wait(Clock::system(), 1, Clock::system().now()));
  progress->interrupt();
  CHECK_FALSE(progress->wait(Clock::system(), 1, Clock::system().now() + std::chrono::hours(1)));  // at once
}
