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

TEST_CASE("a held batch is acknowledged once released and every hold is done; a dropped hold never is") {
  BatchPool pool(2);
  auto tracker = std::make_shared<AckTracker>();
  Batch* b = pool.acquire();
  b->tracker = tracker;
  b->ack_seq = tracker->track(10);
  AckHold h1 = b->hold_ack();
  AckHold h2 = b->hold_ack();
  b->release();
  CHECK(pool.in_use() == 0);  // its memory is back in the pool
  CHECK(tracker->acknowledged() == 0);
  h1.done();
  CHECK(tracker->acknowledged() == 0);
  h2.done();
  CHECK(tracker->acknowledged() == 10);
  h2.done();  // twice: nothing more
  CHECK(tracker->acknowledged() == 10);

  Batch* c = pool.acquire();
  c->tracker = tracker;
  c->ack_seq = tracker->track(20);
  { AckHold dropped = c->hold_ack(); }  // given up: a crash or a shutdown deadline
  c->release();
  CHECK(tracker->acknowledged() == 10);
  CHECK(tracker->pending() == 1);
}
