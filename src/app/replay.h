// `bifrost replay -c PATH --pipeline P --output O [--dry-run]`: sends the
// failed queue of output O (data_dir/failed/P/O/) through O again.
//
// Segment by segment, oldest first, under the segment's lock (so a running
// daemon may keep parking events meanwhile): the records are read back into
// events, encoded and written by a fresh instance of the output, in batches;
// what was delivered is removed, what was not stays (with its new error and
// attempt count), by rewriting the segment atomically. Interrupted, a
// segment is either untouched or rewritten: nothing is lost (what was
// delivered before the interruption may be sent again).
#pragma once

namespace bifrost::app {

// 0 when everything was delivered (or, with --dry-run, listed), 1 when
// some records stay, 2 on an invalid config or arguments.
int run_replay(int argc, char** argv);

}  // namespace bifrost::app
