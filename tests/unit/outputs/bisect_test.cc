// The bisection of a request rejected whole (outputs/common/bisect.h)
// against fake sinks: every bad event found alone, every good one taken
// once, and the number of extra requests within the proven bound.
#include <doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "outputs/common/bisect.h"

using namespace bifrost;
using outputs::Verdict;

namespace {

// A sink that rejects a request iff it holds a bad event; records what it
// took and what it rejected alone.
struct Sink {
  std::set<std::uint32_t> bad;
  std::size_t max_events = ~std::size_t{0};  // larger requests: 413
  bool reject_all = false;
  std::vector<std::uint32_t> taken;
  std::vector<std::uint32_t> rejected_alone;
  std::size_t requests = 0;

  Verdict send(std::span<const std::uint32_t> part) {
    ++requests;
    const bool rejected = reject_all || part.size() > max_events ||
                          std::any_of(part.begin(), part.end(), [&](std::uint32_t i) { return bad.contains(i); });
    if (!rejected) {
      taken.insert(taken.end(), part.begin(), part.end());
      return Verdict::kTaken;
    }
    if (part.size() == 1) rejected_alone.push_back(part[0]);
    return Verdict::kSplittable;
  }
};

outputs::BisectResult run(Sink& sink, std::size_t n) {
  std::vector<std::uint32_t> items(n);
  for (std::size_t i = 0; i < n; ++i) items[i] = static_cast<std::uint32_t>(i);
  return outputs::bisect(
      items, [&](std::span<const std::uint32_t> p) { return sink.send(p); }, [](std::span<const std::uint32_t>) {});
}

}  // namespace

TEST_CASE("bisect: one bad event is found alone within 2*ceil(log2 n) extra requests, the rest taken once, in order") {
  for (std::size_t n = 2; n <= 300; ++n) {
    for (std::size_t bad = 0; bad < n; bad += (n < 40 ? 1 : 7)) {
      CAPTURE(n);
      CAPTURE(bad);
      Sink sink;
      sink.bad = {static_cast<std::uint32_t>(bad)};
      auto r = run(sink, n);
      CHECK(r.go_on);
      CHECK(r.requests == sink.requests);
      CHECK(r.requests <= 2 * outputs::ceil_log2(n));
      CHECK(r.rejected == 1);
      CHECK(r.parked_whole == 0);
      CHECK(sink.rejected_alone == std::vector<std::uint32_t>{static_cast<std::uint32_t>(bad)});
      std::vector<std::uint32_t> good;
      for (std::uint32_t i = 0; i < n; ++i)
        if (i != bad) good.push_back(i);
      CHECK(sink.taken == good);  // each once, and in their order
    }
  }
}

TEST_CASE("bisect: k bad events cost at most 2*k*ceil(log2 n) extra requests; the good ones are taken once") {
  std::mt19937 rng(21);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t n = 3 + rng() % 1000;
    const std::size_t k = 1 + rng() % std::min<std::size_t>(n, 12);
    Sink sink;
    // The first two events good: the sink takes a part early, so the
    // allowance is never what stops a split (bisect.h).
    while (sink.bad.size() < std::min(k, n - 2)) sink.bad.insert(static_cast<std::uint32_t>(2 + rng() % (n - 2)));
    CAPTURE(n);
    CAPTURE(sink.bad.size());
    auto r = run(sink, n);
    CHECK(r.requests <= 2 * sink.bad.size() * outputs::ceil_log2(n));
    CHECK(r.parked_whole == 0);
    CHECK(std::set<std::uint32_t>(sink.rejected_alone.begin(), sink.rejected_alone.end()) == sink.bad);
    CHECK(sink.taken.size() == n - sink.bad.size());
    CHECK(std::is_sorted(sink.taken.begin(), sink.taken.end()));
    CHECK(std::adjacent_find(sink.taken.begin(), sink.taken.end()) == sink.taken.end());
  }
}

TEST_CASE(
    "bisect: a sink that rejects everything costs at most 2*ceil(log2 n) extra requests, then the rest is parked") {
  for (std::size_t n : {2, 3, 7, 100, 1000, 5000}) {
    CAPTURE(n);
    Sink sink;
    sink.reject_all = true;
    auto r = run(sink, n);
    CHECK(r.requests <= 2 * outputs::ceil_log2(n));
    CHECK(sink.taken.empty());
    CHECK(r.go_on);
  }
}

TEST_CASE("bisect: a request too large (413) is split until its parts fit, every event taken, within 2*(n-1)") {
  for (std::size_t n : {10, 100, 1000}) {
    for (std::size_t fits : {1, 3, 50}) {
      CAPTURE(n);
      CAPTURE(fits);
      Sink sink;
      sink.max_events = fits;
      auto r = run(sink, n);
      CHECK(r.requests <= 2 * (n - 1));
      CHECK(r.parked_whole == 0);
      CHECK(sink.taken.size() == n);
      CHECK(std::is_sorted(sink.taken.begin(), sink.taken.end()));
    }
  }
}

TEST_CASE("bisect: a part to retry stops the split and holds every part not yet done") {
  std::vector<std::uint32_t> items(16);
  for (std::uint32_t i = 0; i < 16; ++i) items[i] = i;
  std::size_t calls = 0;
  std::vector<std::uint32_t> held;
  auto r = outputs::bisect(
      items,
      [&](std::span<const std::uint32_t>) {
        ++calls;
        return calls == 1 ? Verdict::kSplittable : calls == 2 ? Verdict::kRetry : Verdict::kTaken;
      },
      [&](std::span<const std::uint32_t> part) { held.insert(held.end(), part.begin(), part.end()); });
  // [0,8) rejected, split: [0,4) to retry; [4,8) and [8,16) held.
  CHECK_FALSE(r.go_on);
  CHECK(calls == 2);
  std::sort(held.begin(), held.end());
  CHECK(held == std::vector<std::uint32_t>{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
}
