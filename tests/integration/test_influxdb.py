"""The influxdb output against a real InfluxDB (Debian's influxdb 1.6,
tests/services/influxdb.sh), read back with `influx` (influxdb-client).
The v2 API has no real server here (Debian ships 1.6): it is checked
against a recording HTTP server, for the request it makes."""
import http.server
import json
import re
import subprocess
import threading
import time
import uuid

import pytest

from e2e import Daemon, run, wait_for, write
from realservices import service
from sink_down import Feed, feed_through_an_outage, peak_rss_kib

BASE_MS = 1_795_000_000_000


@pytest.fixture
def db(influx):
    name = f"db_{uuid.uuid4().hex[:10]}"
    query(influx, None, f'CREATE DATABASE "{name}"')
    return name


def query(url, database, q):
    port = url.rsplit(":", 1)[1]
    args = ["influx", "-host", "127.0.0.1", "-port", port, "-format", "json", "-execute", q]
    if database:
        args += ["-database", database]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr + p.stdout
    return json.loads(p.stdout) if p.stdout.strip() else {}


def rows(result):
    """(columns, values) of the first series, or ([], [])."""
    try:
        s = result["results"][0]["series"][0]
    except (KeyError, IndexError):
        return [], []
    return s["columns"], s["values"]


def count(url, database, measurement="cpu", field="value"):
    cols, vals = rows(query(url, database, f'SELECT count("{field}") FROM "{measurement}"'))
    return vals[0][1] if vals else 0


def stdin_config(tmp, url, database, output_extra="", tags="[host]", fields="{value: v, half: f}"):
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: stdin}}
filters:
  - {{id: json, type: parse_json}}
  - {{id: time, type: parse_timestamp, field: t, formats: [unix_ms]}}
outputs:
  - id: influx
    type: influxdb
    url: {url}
    database: {database}
    measurement: cpu
    tags: {tags}
    fields: {fields}
    precision: ms
{output_extra}
""")


def points(n, start=0):
    return "".join(json.dumps({"t": BASE_MS + i, "host": f"h{i % 10}", "v": i, "f": i * 0.5}) + "\n"
                   for i in range(start, start + n))


def failed(tmp, output="influx"):
    return [json.loads(x) for seg in sorted((tmp / "data" / "failed" / "main" / output).glob("*.ndjson"))
            for x in seg.read_text().splitlines()]


def test_a_hundred_thousand_points_are_all_counted(bifrost, tmp_path, influx, db):
    n = 100_000
    r = run(bifrost, "run", "-c", stdin_config(tmp_path, influx, db), input=points(n).encode(), timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert count(influx, db) == n
    assert count(influx, db, field="half") == n
    cols, vals = rows(query(influx, db, 'SELECT * FROM cpu WHERE host = \'h7\' ORDER BY time DESC LIMIT 1'))
    last = dict(zip(cols, vals[0]))
    assert last["value"] == n - 3 and last["half"] == (n - 3) * 0.5 and last["time"] == (BASE_MS + n - 3) * 1_000_000


def test_hard_tag_values_and_string_fields_read_back_exactly(bifrost, tmp_path, influx, db):
    tags = ["a b", "c,d", "e=f", 'g"h', "i\\j", "한글 태그", "all, of = them \" \\ "]
    text = 'he said "hi", ok \\ and, = more\nsecond line'
    events = "".join(json.dumps({"t": BASE_MS + i, "k": k, "s": text, "n": i}) + "\n" for i, k in enumerate(tags))
    cfg = stdin_config(tmp_path, influx, db, tags='{"tag key, =": "{{k}}"}', fields='{"text field": s, n: n}')
    cfg_text = open(cfg).read().replace("measurement: cpu", "measurement: 'my measurement,1'")
    r = run(bifrost, "run", "-c", write(tmp_path / "c.yaml", cfg_text), input=events.encode())
    assert r.returncode == 0, r.stderr.decode()
    cols, vals = rows(query(influx, db, 'SELECT * FROM "my measurement,1" ORDER BY time'))
    got = [dict(zip(cols, v)) for v in vals]
    assert [g["tag key, ="] for g in got] == tags
    assert all(g["text field"] == text for g in got)
    assert [g["n"] for g in got] == list(range(len(tags)))


def test_a_tag_ending_in_a_backslash_is_rejected_with_a_reason(bifrost, tmp_path, influx, db):
    # Line protocol cannot hold it (InfluxDB 1.x refuses it even doubled):
    # the point goes to the failed queue instead of being altered.
    events = "".join(json.dumps({"t": BASE_MS + i, "host": h, "v": i, "f": 0.5}) + "\n"
                     for i, h in enumerate(["ok", "ends in \\", "fine"]))
    r = run(bifrost, "run", "-c", stdin_config(tmp_path, influx, db), input=events.encode())
    assert r.returncode == 0, r.stderr.decode()
    assert count(influx, db) == 2
    parked = failed(tmp_path)
    assert [p["event"]["host"] for p in parked] == ["ends in \\"]
    assert "ends in a backslash" in parked[0]["error"]


def test_a_field_type_conflict_parks_only_the_conflicting_points(bifrost, tmp_path, influx, db):
    first = run(bifrost, "run", "-c", stdin_config(tmp_path, influx, db), input=points(10).encode())
    assert first.returncode == 0
    # 50 more points; every 10th has a string where `value` is an integer.
    lines = []
    for i in range(10, 60):
        v = f"text {i}" if i % 10 == 5 else i
        lines.append(json.dumps({"t": BASE_MS + i, "host": "h1", "v": v, "f": 1.5}) + "\n")
    r = run(bifrost, "run", "-c", stdin_config(tmp_path, influx, db), input="".join(lines).encode())
    assert r.returncode == 0, r.stderr.decode()
    assert count(influx, db) == 55
    parked = failed(tmp_path)
    assert sorted(p["event"]["v"] for p in parked) == [f"text {i}" for i in (15, 25, 35, 45, 55)]
    assert all("field type conflict" in p["error"] for p in parked), parked[0]["error"]
    assert all(p["error"].startswith("HTTP 400") for p in parked)


def test_an_event_without_fields_is_rejected_with_a_reason(bifrost, tmp_path, influx, db):
    events = points(3) + json.dumps({"t": BASE_MS + 9, "host": "h9"}) + "\n"
    r = run(bifrost, "run", "-c", stdin_config(tmp_path, influx, db), input=events.encode())
    assert r.returncode == 0
    assert count(influx, db) == 3
    parked = failed(tmp_path)
    assert len(parked) == 1 and parked[0]["event"]["host"] == "h9" and "no field" in parked[0]["error"]


def test_the_server_stopped_for_30s_loses_nothing(bifrost, tmp_path, influx, db):
    log = tmp_path / "points.log"
    log.write_text("")
    cfg = write(tmp_path / "c.yaml", f"""
data_dir: {tmp_path / "data"}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"]}}
filters:
  - {{id: json, type: parse_json}}
  - {{id: time, type: parse_timestamp, field: t, formats: [unix_ms]}}
outputs:
  - id: influx
    type: influxdb
    url: {influx}
    database: {db}
    measurement: cpu
    tags: [host]
    fields: {{value: v, half: f}}
    precision: ms
    retry: {{initial_backoff: 200ms, max_backoff: 2s}}
""")
    d = Daemon(bifrost, cfg)
    # 30 s down while lines keep coming
    written = feed_through_an_outage(Feed(log, lambda k, start: points(k, start=start)), "influxdb", 30)
    assert wait_for(lambda: count(influx, db) >= written, 120), f"{count(influx, db)} of {written}"
    err = d.stop()
    assert count(influx, db) == written
    assert failed(tmp_path) == []
    rss = peak_rss_kib(err)
    print(f"InfluxDB down 30 s: {written} points, all counted; peak RSS {rss // 1024} MiB")


class Recorder(http.server.BaseHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Recorder.requests.append((self.path, self.headers.get("Authorization"), body.decode()))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_the_v2_api_request_as_documented(bifrost, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        token = tmp_path / "token"
        token.write_text("s3cr3t==\n")
        cfg = stdin_config(tmp_path, f"http://127.0.0.1:{server.server_port}/base/", "unused")
        text = open(cfg).read().replace("    database: unused\n",
                                        f"    api: v2\n    org: my org\n    bucket: b/1\n    token_file: {token}\n")
        r = run(bifrost, "run", "-c", write(tmp_path / "v2.yaml", text), input=points(3).encode())
        assert r.returncode == 0, r.stderr.decode()
    finally:
        server.shutdown()
    assert len(Recorder.requests) == 1
    path, auth, body = Recorder.requests[0]
    assert path == "/base/api/v2/write?org=my%20org&bucket=b%2F1&precision=ms"
    assert auth == "Token s3cr3t=="
    assert body == "".join(f"cpu,host=h{i} value={i}i,half={i * 0.5:g} {BASE_MS + i}\n" for i in range(3))


def test_a_request_over_the_servers_body_limit_is_split_and_all_arrives(bifrost, tmp_path, influx, db):
    # tests/services/influxdb.sh sets max-body-size to 2 MB: 40 000 points in
    # one batch and one request (about 3 MB) get a 413 and go in halves. A
    # file is read in one go (a pipe would hand over 64 KiB at a time).
    n = 40_000
    data = tmp_path / "points.json"
    data.write_text(points(n))
    cfg = stdin_config(tmp_path, influx, db, output_extra="    batch: {max_events: 100000, max_bytes: 64MiB}")
    text = open(cfg).read().replace(
        "  - {id: in, type: stdin}",
        f'  - {{id: in, type: file, paths: ["{data}"], end_at_eof: true, batch_events: 100000, '
        f'read_buffer_bytes: 16MiB}}')
    r = run(bifrost, "run", "-c", write(tmp_path / "c.yaml", text), timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert "HTTP 413" in r.stderr.decode()
    assert count(influx, db) == n
    assert failed(tmp_path) == []
