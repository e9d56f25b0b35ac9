#include "outputs/common/bisect.h"

#include <vector>

#include "core/log.h"

namespace bifrost::outputs {

std::size_t ceil_log2(std::size_t n) {
  std::size_t l = 0;
  while ((std::size_t{1} << l) < n) ++l;
  return l;
}

BisectResult bisect(std::span<const std::uint32_t> items, const SendPart& send, const HoldPart& hold) {
  BisectResult r;
  if (items.size() < 2) {
    r.rejected = items.size();
    return r;
  }
  // A copy: `send` may reuse the caller's buffer of items.
  const std::vector<std::uint32_t> all(items.begin(), items.end());
  const std::size_t l = ceil_log2(all.size());
  std::size_t taken = 0, splits = 0;
  struct Part {
    std::size_t begin, end;
    bool sent;  // and rejected: to split
  };
  std::vector<Part> todo = {{0, all.size(), true}};  // a stack: the next part last
  auto span_of = [&](const Part& p) { return std::span<const std::uint32_t>(all.data() + p.begin, p.end - p.begin); };
  while (!todo.empty()) {
    Part p = todo.back();
    todo.pop_back();
    if (!p.sent) {
      ++r.requests;
      switch (send(span_of(p))) {
        case Verdict::kTaken: ++taken; continue;
        case Verdict::kRejected: continue;
        case Verdict::kRetry:
          // What comes after it waits for its retry (order per source).
          for (const Part& q : todo) hold(span_of(q));
          r.go_on = false;
          return r;
        case Verdict::kSplittable: break;
      }
    }
    if (p.end - p.begin == 1) {
      ++r.rejected;
      continue;
    }
    // Counted when decided: both halves will be sent.
    const std::size_t allowance = 2 * l * (taken > 0 ? 1 + r.rejected + taken : 1);
    if (2 * (splits + 1) > allowance) {
      ++r.parked_whole;
      continue;
    }
    ++splits;
    const std::size_t mid = p.begin + (p.end - p.begin) / 2;
    todo.push_back({mid, p.end, false});
    todo.push_back({p.begin, mid, false});
  }
  return r;
}

BisectResult bisect_logged(std::string_view id, std::string_view reason, std::span<const std::uint32_t> items,
                           const SendPart& send, const HoldPart& hold) {
  core::log::info(id, reason, " for a request of ", items.size(), " events: sending it again in halves to find the ",
                  "rejected ones (on_reject: bisect)");
  BisectResult r = bisect(items, send, hold);
  core::log::info(id, "the split took ", r.requests, " more requests: ", r.rejected, " event(s) rejected alone",
                  r.parked_whole ? ", " + std::to_string(r.parked_whole) + " part(s) parked whole (allowance spent)"
                                 : std::string(),
                  r.go_on ? "" : "; stopped by a failure to retry");
  return r;
}

}  // namespace bifrost::outputs
