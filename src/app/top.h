// `bifrost top`: a live view of the running daemon, from its API's
// /metrics, refreshed every second: per pipeline and component, events in
// and out per second, errors, retries, queue fill, disk buffer and failed
// queue bytes, file and Kafka lag. Keys: q quits, s/S (or the arrows) pick
// the sort column, r reverses it. `--once`, or stdout not a terminal:
// one plain table.
#pragma once

namespace bifrost::app {

int run_top(int argc, char** argv);

}  // namespace bifrost::app
