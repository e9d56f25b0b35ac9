// A request the sink rejects whole because of something in it, without
// saying what (HTTP 400, 413, 422 from a webhook; a bad point for InfluxDB;
// a bulk request too large for Elasticsearch), is split in halves and each
// half sent again, until the rejected events are alone: only they go to the
// failed queue, each with the sink's answer to it; the others are delivered,
// once. The one mechanism of every HTTP output (`on_reject: bisect`, the
// default; `park_all` sends the whole request to the failed queue at once).
//
// Order: depth first, the first half before the second, so the delivered
// events of a request still reach the sink in their order.
//
// The bound. Let n >= 2 be the events of the rejected request and
// L = ceil(log2 n). Halving gives a part at depth d at most ceil(n / 2^d)
// events, so a part that is split (two events or more) lies at depth
// L - 1 at most: the way from the request down to one event crosses at
// most L splits. Each split costs exactly two requests (its halves).
//  - A sink that rejects a part iff it holds a bad event (k of them): every
//    part split holds a bad event, and each bad event lies in at most L
//    parts split, so there are at most k * L splits: at most 2 * k * L extra
//    requests; 2 * ceil(log2 n) when one event is bad.
//  - The allowance, whatever the sink does: a split is made only while the
//    requests of the splits made, its two included, stay within 2 * L *
//    (1 + b + t), b the
//    events found rejected alone and t the parts taken; and within 2 * L
//    while the sink has taken no part (t = 0). So a sink that rejects
//    everything (the answer is about the request, not an event) costs at
//    most 2 * ceil(log2 n) extra requests before the rest of the request is
//    parked whole; and never more than 2 * (n - 1) (n - 1 splits at most).
//  - The allowance never stops the splits of the first case once t > 0:
//    when a part is about to be split, the splits made so far are its
//    ancestors (with it, at most L) or lie in parts done with, where every
//    split is an ancestor of an event found bad (at most L * b): two
//    requests each, at most 2 * L * (1 + b). Only a request whose parts sent
//    so far were all rejected (a run of bad events at its start) may have
//    a part parked whole with good events in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace bifrost::outputs {

// What one request's answer says about its events. The sender sets their
// outcomes on its report before saying it.
enum class Verdict : std::uint8_t {
  kTaken,       // answered per event or delivered
  kRetry,       // transient (408, 429, 5xx, no answer): to retry
  kRejected,    // about the request itself (401, 404, ...): parked whole, never split
  kSplittable,  // rejected for something in it (400, 413, 422): rejected, and may be split
};

struct BisectResult {
  bool go_on = true;             // false: a part is to be retried, and what follows it was held
  std::size_t requests = 0;      // extra requests sent
  std::size_t rejected = 0;      // events found rejected alone
  std::size_t parked_whole = 0;  // parts of several events left rejected (the allowance was spent)
};

// Sends `part` as one request and judges the answer (outcomes on the report:
// its events were marked rejected with the whole request, so a part taken
// marks its events delivered again).
using SendPart = std::function<Verdict(std::span<const std::uint32_t> part)>;
// Marks `part` to be retried after a failed request (not sent).
using HoldPart = std::function<void(std::span<const std::uint32_t> part)>;

// `items` were sent as one request and answered kSplittable (every one of
// them is marked rejected): splits it as above. Pure: the caller's `send`
// does the I/O, so the bound is tested with a fake sink.
BisectResult bisect(std::span<const std::uint32_t> items, const SendPart& send, const HoldPart& hold);

// bisect(), logged for the output `id`: what was rejected (`reason`, the
// sink's answer to the whole request) and what the split found.
BisectResult bisect_logged(std::string_view id, std::string_view reason, std::span<const std::uint32_t> items,
                           const SendPart& send, const HoldPart& hold);

// ceil(log2 n), 0 for n <= 1.
std::size_t ceil_log2(std::size_t n);

}  // namespace bifrost::outputs
