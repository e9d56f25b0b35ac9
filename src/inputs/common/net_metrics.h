// The metric families every network input declares (registered with each
// type in src/components.cc) and the counters behind them. Counters are
// atomics, added to on the input's thread and, for parse errors, on the
// pipeline's workers (decorate()); the input thread publishes them about
// once a second into its SeriesSet.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/stats.h"

namespace bifrost::inputs {

inline const core::MetricFamily kConnectionsOpen{
    "bifrost_input_connections_open", core::MetricType::kGauge, "Connections a network input holds open now.", {}};
inline const core::MetricFamily kConnectionsAccepted{"bifrost_input_connections_accepted_total",
                                                     core::MetricType::kCounter,
                                                     "Connections a network input accepted.",
                                                     {}};
inline const core::MetricFamily kConnectionsRefused{
    "bifrost_input_connections_refused_total",
    core::MetricType::kCounter,
    "Connections closed at once: max_connections reached, out of file descriptors, or a failed TLS handshake.",
    {"reason"}};
inline const core::MetricFamily kConnectionsClosed{"bifrost_input_connections_closed_total",
                                                   core::MetricType::kCounter,
                                                   "Connections closed after use, by why: eof, idle_timeout, error.",
                                                   {"reason"}};
inline const core::MetricFamily kReceivedBytes{
    "bifrost_input_received_bytes_total",
    core::MetricType::kCounter,
    "Bytes a network input received (after TLS), framing and headers included.",
    {}};
inline const core::MetricFamily kParseErrors{
    "bifrost_input_parse_errors_total",
    core::MetricType::kCounter,
    "What a network input could not read as its protocol, by reason (the data is kept: tagged, or refused "
    "to the client with the reason).",
    {"reason"}};

inline std::vector<const core::MetricFamily*> net_metric_families() {
  return {&kConnectionsOpen,   &kConnectionsAccepted, &kConnectionsRefused,
          &kConnectionsClosed, &kReceivedBytes,       &kParseErrors};
}

// Counters by reason, the reasons being static strings: a few slots taken
// lock-free on first use.
class ReasonCounts {
 public:
  void add(const char* reason, std::uint64_t n = 1);
  // Appends one sample of `family` per reason seen.
  void samples(const core::MetricFamily& family, std::vector<core::Series>& out) const;
  std::uint64_t get(const char* reason) const;

 private:
  static constexpr std::size_t kSlots = 24;
  std::array<std::atomic<const char*>, kSlots> reasons_{};
  std::array<std::atomic<std::uint64_t>, kSlots> counts_{};
};

struct NetStats {
  std::atomic<std::int64_t> open{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> received_bytes{0};
  ReasonCounts refused;
  ReasonCounts closed;
  ReasonCounts parse_errors;
  // The samples of the families above (for `group` 0 of a SeriesSet).
  std::vector<core::Series> samples(bool connections) const;
};

}  // namespace bifrost::inputs
