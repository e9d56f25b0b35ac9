"""The monitoring pipeline as it is run: Telegraf's line protocol, produced
to the real Kafka broker with kcat as Telegraf's Kafka output writes it
(several points per record, sorted tags, i-suffixed integers, ns times,
records with no time at all), read by bifrost (`decoding: influx`, or the
parse_influx filter), written to the real InfluxDB (Debian's 1.6) and
queried back point for point over its HTTP /query."""
import json
import random
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from e2e import Daemon, wait_for, write
from sink_down import outage
from test_influxdb import failed, query

BASE_NS = 1_795_000_000_000_000_000
SEP = "\x1e"  # between records, for kcat -D (a record holds newlines)

# What Telegraf escapes (its influx serializer): these names reach InfluxDB
# as they are.
HOSTS = ["web-1", "db 2", "edge,eu=1"]


def esc_tag(s):  # Telegraf leaves backslashes alone in names
    return s.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def esc_str(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def line_of(measurement, tags, fields, ts):
    """A point in Telegraf's form: tags sorted by key, ints with i, floats as
    Python writes them, strings quoted, booleans true/false."""
    out = measurement + "".join(f",{esc_tag(k)}={esc_tag(v)}" for k, v in sorted(tags.items())) + " "
    parts = []
    for k, v in fields.items():
        if isinstance(v, bool):
            parts.append(f"{esc_tag(k)}={'true' if v else 'false'}")
        elif isinstance(v, int):
            parts.append(f"{esc_tag(k)}={v}i")
        elif isinstance(v, float):
            parts.append(f"{esc_tag(k)}={v!r}")
        else:
            parts.append(f'{esc_tag(k)}="{esc_str(v)}"')
    out += ",".join(parts)
    return out + (f" {ts}" if ts is not None else "")


class Telegraf:
    """Points as a few Telegraf agents gather them: cpu, mem, disk, system,
    procstat (a string with quotes and a backslash, a boolean), win_disk (a
    Windows path tag). `points` keeps what was sent: (measurement, tags,
    fields, ns time or None)."""

    def __init__(self, seed=7, base_ns=BASE_NS):
        self.rng = random.Random(seed)
        self.base_ns = base_ns
        self.points = []
        self.seq = 0

    def gather(self, n, timed=True):
        out = []
        for _ in range(n):
            self.seq += 1
            s, host, r = self.seq, HOSTS[self.seq % len(HOSTS)], self.rng
            ts = self.base_ns + s * 1_000_000_000 if timed else None
            kind = s % 6
            if kind == 0:
                p = ("cpu", {"cpu": f"cpu{s % 4}", "host": host}, {"usage_idle": r.uniform(0, 100),
                                                                   "usage_user": r.random() * 3.5, "n": s})
            elif kind == 1:
                p = ("mem", {"host": host}, {"active": r.randrange(1 << 40), "available_percent": r.uniform(0, 100),
                                             "used": -r.randrange(1 << 62)})
            elif kind == 2:
                p = ("disk", {"device": "sda1", "fstype": "ext4", "host": host, "mode": "rw", "path": "/var lib"},
                     {"free": r.randrange(1 << 45), "used_percent": r.uniform(0, 100), "n": s})
            elif kind == 3:
                p = ("system", {"host": host}, {"load1": round(r.uniform(0, 8), 2), "n_cpus": 4,
                                                "uptime_format": f"{s % 9} days, {s % 24:2d}:{s % 60:02d}"})
            elif kind == 4:
                p = ("procstat", {"exe": "nginx", "host": host, "pattern": "nginx: worker"},
                     {"cpu_usage": r.random(), "running": s % 5 != 0, "cmdline": f'nginx -g "daemon off;" C:\\n{s}\\'})
            else:
                p = ("win_disk", {"host": host, "instance": "C:\\Program Files", "objectname": "LogicalDisk"},
                     {"Percent_Free_Space": r.uniform(0, 100), "n": s})
            # Points without a time take the record's time: a series of their
            # own each, so none overwrites another.
            tags = dict(p[1], seq=str(s)) if not timed else p[1]
            point = (p[0], tags, p[2], ts)
            self.points.append(point)
            out.append(line_of(*point))
        return out


def records(agent, n_records, rng, untimed_every=5):
    """Records of 1 to 20 points each, as Telegraf's Kafka output batches
    them; every `untimed_every`-th without times."""
    out = []
    for k in range(n_records):
        out.append("\n".join(agent.gather(rng.randint(1, 20), timed=k % untimed_every != 2)) + "\n")
    return out


def produce(kafka, topic, recs):
    """kcat as Telegraf's producer is configured: snappy, acks from every replica."""
    p = subprocess.run(["kcat", "-b", kafka, "-P", "-t", topic, "-D", "\\x1e", "-z", "snappy",
                        "-X", "request.required.acks=-1"], input=SEP.join(recs).encode() + SEP.encode(),
                       capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()


def influx_query(url, db, q):
    qs = urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"})
    with urllib.request.urlopen(f"{url}/query?{qs}", timeout=60) as r:
        body = json.loads(r.read())
    assert "error" not in body["results"][0], body
    return body["results"][0].get("series", [])


def stored_points(url, db):
    """Every point of the database: (measurement, tags, fields without nulls, time)."""
    out = []
    for s in influx_query(url, db, "SELECT * FROM /.*/ GROUP BY *"):
        for row in s["values"]:
            fields = {c: v for c, v in zip(s["columns"][1:], row[1:]) if v is not None}
            # GROUP BY * over every measurement names every tag key, empty where a series has none.
            tags = {k: v for k, v in s.get("tags", {}).items() if v != ""}
            out.append((s["name"], tags, fields, row[0]))
    return out


def count_points(url, db):
    return sum(len(s["values"]) for s in influx_query(url, db, "SELECT * FROM /.*/ GROUP BY *"))


def config(tmp, kafka, topic, influx, db, decoding="influx", filters="", extra=""):
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "off"}}
inputs:
  - {{id: telegraf, type: kafka, brokers: ["{kafka}"], topics: ["{topic}"], group_id: "g-{topic}", decoding: {decoding}}}
{filters}
outputs:
  - id: influx
    type: influxdb
    url: {influx}
    database: {db}
{extra}
""")


@pytest.fixture
def db(influx):
    name = f"telegraf_{uuid.uuid4().hex[:10]}"
    query(influx, None, f'CREATE DATABASE "{name}"')
    return name


@pytest.mark.parametrize("reader", ["decoding: influx", "parse_influx"])
def test_telegraf_points_from_kafka_land_in_influxdb_point_for_point(bifrost, tmp_path, kafka, topic, influx, db,
                                                                     reader):
    agent, rng = Telegraf(), random.Random(11)
    recs = records(agent, 120, rng)
    # One record with a bad line in the middle: its good lines go on, the bad
    # one is parked in the output's failed queue (it is no point to write).
    recs.insert(50, "\n".join(agent.gather(2) + ["cpu,host=bad usage=12.5.3 1"] + agent.gather(2)) + "\n")
    before_ms = int(time.time() * 1000)
    produce(kafka, topic, recs)
    after_ms = int(time.time() * 1000) + 1
    if reader == "parse_influx":
        cfg = config(tmp_path, kafka, topic, influx, db, decoding="text",
                     filters="filters:\n  - {id: lp, type: parse_influx}")
    else:
        cfg = config(tmp_path, kafka, topic, influx, db)
    d = Daemon(bifrost, cfg)
    n = len(agent.points)
    assert wait_for(lambda: count_points(influx, db) >= n, 90), f"{count_points(influx, db)} of {n} points"
    assert wait_for(lambda: len(failed(tmp_path)) >= 1, 30)
    d.stop()

    got = stored_points(influx, db)
    assert len(got) == n
    timed = {(m, json.dumps(t, sort_keys=True), ts): f for m, t, f, ts in got}
    # Points without a time have a series of their own (a seq tag).
    by_series = {(m, json.dumps(t, sort_keys=True)): (f, ts) for m, t, f, ts in got}
    untimed = 0
    for m, tags, fields, ts in agent.points:
        series = (m, json.dumps(tags, sort_keys=True))
        if ts is not None:
            assert timed.get(series + (ts,)) == fields, f"{m} {tags} {ts}"
            continue
        untimed += 1
        stored_fields, stored_ts = by_series[series]
        assert stored_fields == fields, (m, tags)
        # The Kafka record's time, in ms.
        assert before_ms * 1_000_000 <= stored_ts <= after_ms * 1_000_000
        assert stored_ts % 1_000_000 == 0
    assert untimed > 50
    # And every field with its type (JSON writes 2.0 as 2: the values alone would not tell).
    kinds = {bool: "boolean", int: "integer", float: "float", str: "string"}
    want_types = {(m, k): kinds[type(v)] for m, _, f, _ in agent.points for k, v in f.items()}
    got_types = {(s["name"], k): t for s in influx_query(influx, db, "SHOW FIELD KEYS") for k, t in s["values"]}
    assert got_types == want_types
    parked = failed(tmp_path)
    assert [p["event"]["message"] for p in parked] == ["cpu,host=bad usage=12.5.3 1"]
    # Every record is acknowledged (the one with the bad line too, its line
    # parked): the group's committed offsets leave nothing to read.
    left = subprocess.run(["kcat", "-b", kafka, "-G", f"g-{topic}", topic, "-e", "-q"], capture_output=True,
                          timeout=60)
    assert left.returncode == 0 and left.stdout == b"", left.stdout[:300]


def test_influxdb_down_for_30s_loses_no_telegraf_point(bifrost, tmp_path, kafka, topic, influx, db):
    agent, rng = Telegraf(seed=3), random.Random(5)
    cfg = config(tmp_path, kafka, topic, influx, db,
                 extra="    retry: {initial_backoff: 200ms, max_backoff: 2s}")
    producer = subprocess.Popen(["kcat", "-b", kafka, "-P", "-t", topic, "-D", "\\x1e", "-z", "snappy",
                                 "-X", "request.required.acks=-1", "-X", "linger.ms=5"], stdin=subprocess.PIPE)

    def send(n_records):
        producer.stdin.write("".join(r + SEP for r in records(agent, n_records, rng)).encode())
        producer.stdin.flush()

    d = Daemon(bifrost, cfg)
    try:
        for _ in range(10):  # before
            send(5)
            time.sleep(0.1)
        outage("influxdb", 30, lambda: send(2))  # down 30 s while Telegraf keeps sending
        send(50)  # after
    finally:
        producer.stdin.close()
        assert producer.wait(60) == 0
    n = len(agent.points)
    assert wait_for(lambda: count_points(influx, db) >= n, 120), f"{count_points(influx, db)} of {n}"
    d.stop()
    got = stored_points(influx, db)
    assert len(got) == n
    # InfluxDB's JSON writes a float of integral value without its ".0".
    norm = lambda f: {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in f.items()}
    want = sorted(json.dumps([m, t, norm(f)], sort_keys=True) for m, t, f, _ in agent.points)
    assert sorted(json.dumps([m, t, norm(f)], sort_keys=True) for m, t, f, _ in got) == want
    assert failed(tmp_path) == []
    print(f"InfluxDB down 30 s: {n} Telegraf points, all stored")
