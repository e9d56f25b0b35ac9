// GET /metrics: the Prometheus text exposition, made by prometheus-cpp
// (Debian's prometheus-cpp-dev) from one Metrics object, made once with the
// API server. It holds a prometheus::Registry with bifrost_build_info and
// the process's metrics (set from /proc at each scrape), and the runtime
// collector, registered once beside it, which reads the running components'
// counters at scrape time (the data path keeps its plain sharded atomics,
// core/stats.h) from whatever runtime the RuntimeSource gives then
// (runtimes are swapped on reload). The families are every component's
// (events in and out, drops, queue, retries, checkpoints, backpressure,
// ...: listed in metrics.cc) plus the ones component types declare when
// they register (config::declared_metric_families), whose samples the
// components publish in their SeriesSet: a new component's series need no
// edit here.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/stats.h"
#include "pipeline/runtime.h"

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace bifrost::api {

class ProcessMetrics;

class Metrics {
 public:
  // The runtime to read at a scrape; it may give null (nothing runs: the
  // families are still shown).
  using RuntimeSource = std::function<std::shared_ptr<pipeline::Runtime>()>;
  Metrics(RuntimeSource runtime, std::vector<const core::MetricFamily*> declared);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Every metric of the contract (DESIGN.md, "Metrics"), per component,
  // with `pipeline` and `component` labels, plus bifrost_build_info and the
  // process metrics. Any thread; scrapes may come at once.
  std::string render();

 private:
  std::mutex mu_;  // a scrape sets the process values, then collects them
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ProcessMetrics> process_;  // its metrics live in registry_
  std::shared_ptr<prometheus::Collectable> runtime_;
  // What a scrape collects, in this order (prometheus-cpp's Registry takes
  // metric families, not collectables: the collectables are registered
  // here, as its Exposer registers them).
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
};

}  // namespace bifrost::api
