"""The aggregate stage against a real InfluxDB (tests/services/influxdb.sh)
and a file, through kill -9s: every point equals what the test computes
from the log it wrote (issue 20, "exact after a crash")."""
import calendar
import json
import subprocess
import time
import uuid

import pytest

from e2e import free_port, write
from stateful import NGINX_FILTERS, Runs, append, distinct_ok, nginx_log, per_minute


@pytest.fixture
def db(influx):
    name = f"agg_{uuid.uuid4().hex[:10]}"
    influx_query(influx, None, f'CREATE DATABASE "{name}"')
    return name


def influx_query(url, database, q):
    port = url.rsplit(":", 1)[1]
    args = ["influx", "-host", "127.0.0.1", "-port", port, "-format", "json", "-execute", q]
    if database:
        args += ["-database", database]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr + p.stdout
    return json.loads(p.stdout) if p.stdout.strip() else {}


def influx_points(url, database):
    """{(window start, status): (requests, bytes, clients)} as InfluxDB holds them."""
    r = influx_query(url, database, "SELECT requests, bytes, clients FROM nginx GROUP BY status")
    out = {}
    for res in r.get("results", []):  # the CLI answers in chunks
        for s in res.get("series", []):
            for v in s["values"]:
                out[(v[0] // 10**9, int(s["tags"]["status"]))] = tuple(v[1:])
    return out


def file_points(runs, path):
    """The same from the file output, the last line of a (window, group) winning."""
    out = {}
    for e in runs.json_events(path):
        start = calendar.timegm(time.strptime(e["window"]["start"], "%Y-%m-%dT%H:%M:%SZ"))
        out[(start, e["status"])] = (e["requests"], e["bytes"], e["clients"])
    return out


def check(points, expected, where):
    assert set(points) == set(expected), f"{where}: windows differ"
    wrong = [(k, expected[k][:2], len(expected[k][2]), points[k]) for k in sorted(expected)
             if points[k][:2] != tuple(expected[k][:2]) or not distinct_ok(points[k][2], len(expected[k][2]))]
    assert not wrong, f"{where}: {len(wrong)} of {len(expected)} points wrong, first: {wrong[:3]}"


def config(tmp, influx, db, log, api_port, lateness="0s", extra="", end_at_eof=False):
    return write(tmp / f"c{int(end_at_eof)}.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "127.0.0.1:{api_port}"}}
inputs:
  - id: access
    type: file
    paths: [{log}]
    end_at_eof: {str(end_at_eof).lower()}
filters:{NGINX_FILTERS}
  - id: per_minute
    type: aggregate
    window: 1m
    group_by: [status]
    metrics:
      requests: count
      bytes: {{sum: bytes}}
      clients: {{count_distinct: client}}
    allowed_lateness: {lateness}
    pass: false
{extra}
outputs:
  - id: influx
    type: influxdb
    url: {influx}
    database: {db}
    measurement: nginx
    tags: [status]
    fields: {{requests: requests, bytes: bytes, clients: clients}}
    precision: s
  - id: file
    type: file
    path: {tmp / "out.json"}
""")


@pytest.mark.parametrize("n", [1_000_000, 100_000], ids=["1M", "100k"])
def test_per_minute_roll_up_is_exact_in_influxdb_and_a_file_after_kill_9s(bifrost, influx, db, tmp_path, n):
    lines, rows = nginx_log(n, span_s=7200)
    expected = per_minute(rows)
    assert len(expected) == 120 * 5  # two hours, five statuses
    log, port = tmp_path / "access.log", free_port()
    runs = Runs(bifrost, config(tmp_path, influx, db, log, port), port, "access")
    # Killed while reading, and killed idle (its checkpoint as far as it
    # goes, the last windows open) after the log grew, twice.
    append(log, lines[:n // 4])
    runs.kill_while_reading(after=n // 10)
    runs.kill_when_idle()
    append(log, lines[n // 4:n // 2])
    runs.kill_when_idle()
    append(log, lines[n // 2:])
    runs.kill_while_reading(after=n // 5)
    runs.run_to_end(config(tmp_path, influx, db, log, port, end_at_eof=True))
    check(influx_points(influx, db), expected, "InfluxDB")
    check(file_points(runs, tmp_path / "out.json"), expected, "file")


def test_out_of_order_times_within_the_lateness_count_and_late_events_do_not(bifrost, influx, db, tmp_path):
    # Times moved by up to 10 s with 30 s of lateness allowed; every 500th
    # line 10 minutes late: dropped (late: drop), never counted, also when
    # read again after a kill -9.
    n = 200_000
    lines, rows = nginx_log(n, span_s=3600, seed=11, jitter_s=10, late_every=500)
    assert sum(r.late for r in rows) > 150
    expected = per_minute(rows)
    log, port = tmp_path / "access.log", free_port()
    cfg = config(tmp_path, influx, db, log, port, lateness="30s", extra="    late: drop")
    runs = Runs(bifrost, cfg, port, "access")
    append(log, lines[:n // 2])
    runs.kill_when_idle()
    append(log, lines[n // 2:])
    runs.kill_while_reading(after=n // 4)
    last = runs.run_to_end(config(tmp_path, influx, db, log, port, lateness="30s", extra="    late: drop",
                                  end_at_eof=True))
    assert "dropped{late}=" in last  # the last run met late lines of its own
    check(influx_points(influx, db), expected, "InfluxDB")
    check(file_points(runs, tmp_path / "out.json"), expected, "file")
