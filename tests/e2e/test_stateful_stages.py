"""dedupe and throttle through the binary: their decisions exact across a
restart (their state saved under data_dir/state/) and, for dedupe's exact
mode, across kill -9 (an event read again is not its own duplicate)."""
import collections
import json
import random

import pytest

from conftest import free_port, read_json_lines, write
from stateful import Runs, append

T0_MS = 1_700_000_040_000


def twice(n, seed=3, spread=200):
    """Lines of n ids, each id twice: the copy up to `spread` lines later, 10 ms apart."""
    rnd = random.Random(seed)
    slots = [None] * (2 * n + spread + 1)
    pos = 0
    for i in range(n):
        while slots[pos] is not None:
            pos += 1
        slots[pos] = i
        copy = pos + rnd.randint(1, spread)
        while slots[copy] is not None:
            copy += 1
        slots[copy] = i
    ids = [i for i in slots if i is not None]
    return [json.dumps({"id": i, "t": T0_MS + k * 10}) + "\n" for k, i in enumerate(ids)]


def dedupe_config(tmp, log, mode="exact", port=None, end_at_eof=True, extra=""):
    api = f"127.0.0.1:{port}" if port else "off"
    return write(tmp / f"c{int(end_at_eof)}.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "{api}"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"], end_at_eof: {str(end_at_eof).lower()}}}
filters:
  - {{id: json, type: parse_json}}
  - {{id: time, type: parse_timestamp, field: t, formats: [unix_ms]}}
  - id: once
    type: dedupe
    fields: [id]
    window: 10m
    mode: {mode}
{extra}
outputs:
  - {{id: out, type: file, path: "{tmp / "out.json"}"}}
""")


def run_to_end(bifrost, cfg):
    runs = Runs(bifrost, cfg, None, "in")
    return runs.run_to_end(cfg)


def test_dedupe_lets_each_of_a_log_of_pairs_through_once_across_a_restart(bifrost, tmp_path):
    lines = twice(20_000)
    log = tmp_path / "pairs.log"
    cfg = dedupe_config(tmp_path, log)
    append(log, lines[:len(lines) // 2])  # pairs straddle the restart
    last = run_to_end(bifrost, cfg)
    assert (tmp_path / "data/state/main/once.state").exists()
    append(log, lines[len(lines) // 2:])
    last = run_to_end(bifrost, cfg)
    assert "state: " in last  # the keys were loaded
    ids = collections.Counter(e["id"] for e in read_json_lines(tmp_path / "out.json"))
    assert len(ids) == 20_000 and set(ids.values()) == {1}


def test_dedupe_exact_never_lets_both_of_a_pair_through_across_kill_9(bifrost, tmp_path):
    # The keys are saved only at a clean stop here (save_interval: 1h): after
    # a kill -9 the input must read again everything since that save (the
    # stage holds its checkpoint there), or the second line of a pair whose
    # first the saved keys do not hold goes through.
    n = 60_000
    lines = twice(n, seed=5)
    log, port = tmp_path / "pairs.log", free_port()
    extra = "    save_interval: 1h"
    runs = Runs(bifrost, dedupe_config(tmp_path, log, port=port, end_at_eof=False, extra=extra), port, "in")
    eof = dedupe_config(tmp_path, log, port=port, extra=extra)
    third = len(lines) // 3
    append(log, lines[:third])
    runs.run_to_end(eof)
    append(log, lines[third:2 * third])
    runs.kill_while_reading(after=third // 4)
    runs.kill_when_idle()  # its input's checkpoint as far as it may go
    append(log, lines[2 * third:])
    runs.kill_while_reading(after=third // 2)
    runs.run_to_end(eof)
    offsets = collections.defaultdict(set)
    for e in runs.json_events(tmp_path / "out.json"):
        offsets[e["id"]].add(e["log"]["offset"])
    assert len(offsets) == n  # every id, at least once (a line read again may be delivered again)
    both = [i for i, o in offsets.items() if len(o) > 1]
    assert not both, f"{len(both)} ids went through from both lines, e.g. {both[:5]}"


def test_dedupe_bloom_drops_only_duplicates_but_for_its_false_positive_rate(bifrost, tmp_path):
    lines = twice(20_000, seed=9)
    log = tmp_path / "pairs.log"
    cfg = dedupe_config(tmp_path, log, mode="bloom", extra="    false_positive_rate: 0.001\n    max_keys: 100000")
    append(log, lines[:len(lines) // 2])
    run_to_end(bifrost, cfg)
    append(log, lines[len(lines) // 2:])
    run_to_end(bifrost, cfg)
    ids = collections.Counter(e["id"] for e in read_json_lines(tmp_path / "out.json"))
    assert set(ids.values()) == {1}
    assert len(ids) >= 20_000 * (1 - 0.005)  # a new key taken for a seen one: rare


def allowed(times_ns, events, per_ns, burst):
    """What the token bucket lets through, in integer credit as the stage does."""
    cap = burst * per_ns
    credit, last, n = cap, times_ns[0], 0
    for t in times_ns:
        if t > last:
            credit = min(cap, credit + (t - last) * events)
            last = t
        if credit >= per_ns:
            credit -= per_ns
            n += 1
    return n


def throttle_config(tmp, log, on_excess="drop"):
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"], end_at_eof: true}}
filters:
  - {{id: json, type: parse_json}}
  - {{id: time, type: parse_timestamp, field: t, formats: [unix_ms]}}
  - id: cap
    type: throttle
    rate: 10/s
    burst: 20
    key: "{{{{host}}}}"
    on_excess: {on_excess}
outputs:
  - {{id: out, type: file, path: "{tmp / "out.json"}"}}
""")


@pytest.mark.parametrize("on_excess", ["drop", "tag"])
def test_throttle_at_ten_times_its_rate_lets_the_rate_through_per_key_across_a_restart(bifrost, tmp_path, on_excess):
    # Two hosts at 100 events/s each (10x the rate) for 30 s of event time.
    lines = [json.dumps({"host": h, "t": T0_MS + i * 10, "i": i}) + "\n" for i in range(3000) for h in ("a", "b")]
    log = tmp_path / "burst.log"
    cfg = throttle_config(tmp_path, log, on_excess)
    append(log, lines[:3000])
    run_to_end(bifrost, cfg)
    append(log, lines[3000:])
    run_to_end(bifrost, cfg)
    expected = allowed([(T0_MS + i * 10) * 1_000_000 for i in range(3000)], 10, 1_000_000_000, 20)
    assert expected == 20 + 299  # the burst, then one per 100 ms of the 29.99 s after the first event
    out = read_json_lines(tmp_path / "out.json")
    if on_excess == "drop":
        passed = collections.Counter(e["host"] for e in out)
    else:
        assert len(out) == 6000
        passed = collections.Counter(e["host"] for e in out if "throttled" not in e.get("tags", []))
    assert passed == {"a": expected, "b": expected}
