"""Each example of config/examples/ that needs a service, run end to end
against the real one (Kafka, Elasticsearch, InfluxDB), configured only
through the environment variables the example documents."""
import base64
import json
import os
import random
import re
import shutil
import socket
import subprocess
import time
import uuid

from e2e import ROOT, Daemon, lines, wait_for
from test_elasticsearch import count as es_count
from test_influxdb import count as influx_count, query
from test_influxdb import failed
from test_kafka import consume, kcat, produce, wait_records
from realservices import service
from test_telegraf import Telegraf, count_points, line_of, produce as produce_records, records

EXAMPLES = ROOT / "config" / "examples"


def start(bifrost, tmp, example, **env):
    """bifrost run on the example, with the environment it documents."""
    for k, v in dict(BIFROST_DATA_DIR=str(tmp / "data"), BIFROST_API_LISTEN="off", **env).items():
        os.environ[k] = v
    try:
        # Run from a copy: the daemon's log goes beside its config, not into the repository.
        shutil.copy(EXAMPLES / example, tmp / example)
        return Daemon(bifrost, str(tmp / example))
    finally:
        for k in ["BIFROST_DATA_DIR", "BIFROST_API_LISTEN", *env]:
            os.environ.pop(k, None)


def test_nginx_to_elasticsearch_for_5xx_and_everything_to_kafka(bifrost, tmp_path, kafka, es):
    logs = tmp_path / "nginx"
    logs.mkdir()
    shutil.copy(EXAMPLES / "sample" / "nginx-access.log", logs / "access.log")
    topic, index = f"nginx-{uuid.uuid4().hex[:8]}", f"errors-{uuid.uuid4().hex[:8]}"
    d = start(bifrost, tmp_path, "nginx-to-elasticsearch-and-kafka.yaml", NGINX_LOG_DIR=str(logs),
              BIFROST_KAFKA=kafka, BIFROST_ES=es, NGINX_TOPIC=topic, NGINX_ERRORS_INDEX=index)
    records = wait_records(kafka, topic, 23)
    assert wait_for(lambda: es_count(es, index + "-2024.01.01") >= 4, 60)
    d.stop()
    assert len(records) == 23
    assert es_count(es, index + "-2024.01.01") == 4  # the two 500s and the two 503s


def test_one_unified_topic_split_by_job(bifrost, tmp_path, kafka, topic):
    events = [{"message": f"m{i}", "job": ["api", "db"][i % 2], "host": {"name": "h1"}} for i in range(100)]
    events += [{"message": "no label"}]
    produce(kafka, topic, "".join(json.dumps(e) + "\n" for e in events))
    d = start(bifrost, tmp_path, "kafka-split-by-job.yaml", BIFROST_KAFKA=kafka, UNIFIED_TOPIC=topic)
    api = [json.loads(x) for x in wait_records(kafka, f"{topic}-api", 50)]
    db = [json.loads(x) for x in wait_records(kafka, f"{topic}-db", 50)]
    other = [json.loads(x) for x in wait_records(kafka, f"{topic}-unlabelled", 1)]
    d.stop()
    # The unified topic's 3 partitions are read side by side: compare as sets.
    assert sorted(e["message"] for e in api) == sorted(f"m{i}" for i in range(0, 100, 2))
    assert sorted(e["message"] for e in db) == sorted(f"m{i}" for i in range(1, 100, 2))
    assert [e["message"] for e in other] == ["no label"]


def test_ab_clicks_decoded_and_sent_to_kafka(bifrost, tmp_path, kafka, topic):
    logs = tmp_path / "clicks"
    logs.mkdir()
    imp = lambda v: base64.urlsafe_b64encode(json.dumps({"experiment": "checkout", "variant": v}).encode()).decode().rstrip("=")
    clicks = [{"user_id": f"u{i}", "ts": 1_795_000_000_000 + i, "impression": imp("AB"[i % 2])} for i in range(200)]
    clicks += [{"user_id": "lost", "ts": 1_795_000_000_000}, {"user_id": "bad", "impression": "%%%"}]
    (logs / "clicks.log").write_text("".join(json.dumps(c) + "\n" for c in clicks))
    d = start(bifrost, tmp_path, "ab-clicks-to-kafka.yaml", CLICK_LOG_DIR=str(logs), BIFROST_KAFKA=kafka,
              CLICKS_TOPIC=topic)
    got = [json.loads(x) for x in wait_records(kafka, topic, 200)]
    time.sleep(1)
    d.stop()
    got = [json.loads(x) for x in consume(kafka, topic)]
    assert sorted(e["user_id"] for e in got) == sorted(f"u{i}" for i in range(200))
    assert all(e["impression"]["variant"] == "AB"[int(e["user_id"][1:]) % 2] for e in got)


def test_telemetry_from_kafka_to_influxdb(bifrost, tmp_path, kafka, topic, influx):
    database = f"telemetry_{uuid.uuid4().hex[:8]}"
    query(influx, None, f'CREATE DATABASE "{database}"')
    samples = [{"metric": "cpu_load", "host": f"web-{i % 3}", "region": "eu", "value": i / 4,
                "ts": 1_795_000_000_000 + i} for i in range(1000)]
    produce(kafka, topic, "".join(json.dumps(s) + "\n" for s in samples))
    d = start(bifrost, tmp_path, "telemetry-kafka-to-influxdb.yaml", BIFROST_KAFKA=kafka, BIFROST_INFLUXDB=influx,
              TELEMETRY_TOPIC=topic, INFLUXDB_DATABASE=database)
    assert wait_for(lambda: influx_count(influx, database, "cpu_load") >= 1000, 60)
    d.stop()
    assert influx_count(influx, database, "cpu_load") == 1000


def test_telegraf_line_protocol_from_kafka_to_influxdb(bifrost, tmp_path, kafka, topic, influx):
    database = f"telegraf_{uuid.uuid4().hex[:8]}"
    query(influx, None, f'CREATE DATABASE "{database}"')
    now = time.time_ns()
    agent = Telegraf(base_ns=now - 3600 * 10**9)  # within the example's max_past
    recs = records(agent, 30, random.Random(1))
    # A host whose clock is a year behind: the example's guard parks its point.
    year_ago = line_of("cpu", {"host": "old-clock"}, {"usage_idle": 1.5}, now - 365 * 86400 * 10**9)
    recs.append(year_ago + "\n")
    produce_records(kafka, topic, recs)
    d = start(bifrost, tmp_path, "telegraf-kafka-to-influxdb.yaml", BIFROST_KAFKA=kafka, BIFROST_INFLUXDB=influx,
              TELEGRAF_TOPIC=topic, INFLUXDB_DATABASE=database)
    n = len(agent.points)
    assert wait_for(lambda: count_points(influx, database) >= n and len(failed(tmp_path)) >= 1, 60)
    d.stop()
    assert count_points(influx, database) == n
    parked = failed(tmp_path)
    assert [p["event"]["message"] for p in parked] == [year_ago]
    assert "before now (max_past: 30d" in parked[0]["error"]


def test_kafka_replay_to_elasticsearch_from_a_point_in_time(bifrost, tmp_path, kafka, topic, es):
    job = f"job{uuid.uuid4().hex[:8]}"
    produce(kafka, topic, "".join(json.dumps({"message": f"old {i}", "job": job}) + "\n" for i in range(50)))
    time.sleep(2)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 0.5))
    time.sleep(1)
    produce(kafka, topic, "".join(json.dumps({"message": f"new {i}", "job": job}) + "\n" for i in range(70)))
    d = start(bifrost, tmp_path, "kafka-replay-to-elasticsearch.yaml", BIFROST_KAFKA=kafka, BIFROST_ES=es,
              REPLAY_TOPIC=topic, REPLAY_FROM=since, REPLAY_GROUP=f"g-{topic}")
    index = f"replay-{job}-*"
    assert wait_for(lambda: es_count(es, index) >= 70, 60)
    time.sleep(2)
    d.stop()
    assert es_count(es, index) == 70


def test_kafka_to_s3_everything_and_to_elasticsearch_errors_and_slow_requests(bifrost, tmp_path, kafka, topic, es,
                                                                               s3):
    from test_s3 import messages, objects, s3c
    py = service("s3", "python")
    bucket, job = f"b-{uuid.uuid4().hex[:12]}", f"job{uuid.uuid4().hex[:8]}"
    s3c(py, s3, "mkbucket", bucket)
    events = [{"message": f"req {i}", "job": job, "level": "error" if i % 10 == 0 else "info",
               "duration_ms": 1500 if i % 25 == 1 else 20} for i in range(200)]
    produce(kafka, topic, "".join(json.dumps(e) + "\n" for e in events))
    d = start(bifrost, tmp_path, "kafka-to-s3-and-elasticsearch.yaml", BIFROST_KAFKA=kafka, BIFROST_ES=es,
              UNIFIED_TOPIC=topic, GROUP_ID=f"g-{topic}", S3_ENDPOINT=s3, S3_BUCKET=bucket,
              AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    assert wait_for(lambda: es_count(es, f"logs-{job}-*") >= 20 + 8, 60)
    d.stop()  # the objects still filling (max_object_age: 10m) are stored at the stop
    assert es_count(es, f"logs-{job}-*") == 20 + 8  # the errors, and the slow requests
    objs = objects(py, s3, bucket, f"unified/job={job}/")
    assert sorted(messages(objs)) == sorted(e["message"] for e in events)
    assert all(o["key"].endswith(".ndjson.zst") and "/dt=" in o["key"] for o in objs)


def test_clicks_rolled_up_per_minute_and_arm_into_influxdb(bifrost, tmp_path, kafka, topic, influx):
    database = f"experiments_{uuid.uuid4().hex[:8]}"
    query(influx, None, f'CREATE DATABASE "{database}"')
    imp = lambda v: base64.urlsafe_b64encode(json.dumps({"experiment": "checkout", "variant": v}).encode()).decode().rstrip("=")
    base = 1_795_000_020_000  # a minute boundary, in ms
    clicks = [{"user_id": f"u{i % 37}", "ts": base + i * 150, "impression": imp("AB"[i % 3 == 0])} for i in range(2000)]
    clicks += [{"user_id": "lost", "ts": base}]  # not attributable: dropped
    # One partition: a source not heard from yet holds no window open (docs/stages.md), so clicks
    # spread over partitions read one after the other would close each other's minutes early.
    kcat(kafka, "-P", "-t", topic, "-p", "0", input="".join(json.dumps(c) + "\n" for c in clicks).encode())
    # A click 10 minutes on moves the partition's time past the five minutes above: their windows close.
    kcat(kafka, "-P", "-t", topic, "-p", "0",
         input=(json.dumps({"user_id": "late", "ts": base + 600_000, "impression": imp("A")}) + "\n").encode())
    expected = {}
    for c in clicks[:-1]:
        key = ((c["ts"] // 60_000) * 60, "AB"[c["impression"] == imp("B")])
        e = expected.setdefault(key, [0, set()])
        e[0] += 1
        e[1].add(c["user_id"])
    d = start(bifrost, tmp_path, "clicks-rollup-to-influxdb.yaml", BIFROST_KAFKA=kafka, BIFROST_INFLUXDB=influx,
              CLICKS_TOPIC=topic, CLICKS_GROUP=f"g-{topic}", INFLUXDB_DATABASE=database)

    def points():
        r = query(influx, database, 'SELECT "clicks", "users" FROM ab_clicks GROUP BY variant')
        return {(v[0] // 10**9, s["tags"]["variant"]): tuple(v[1:])
                for res in r.get("results", []) for s in res.get("series", []) for v in s["values"]}

    assert wait_for(lambda: len(points()) >= len(expected), 60), points()
    d.stop()
    assert points() == {k: (n, len(users)) for k, (n, users) in expected.items()}


def listening_ports(d, ids, timeout=15):
    """The ports the example's network inputs bound (they listen on port 0 here), from its log."""
    ports = {}

    def bound():
        for i in ids:
            m = re.search(rf"{re.escape(i)}: listening on [\d.]+:(\d+)", d.logged())
            if m:
                ports[i] = int(m.group(1))
        return len(ports) == len(ids)
    assert wait_for(bound, timeout), d.logged()
    return ports


def test_network_devices_syslog_to_elasticsearch_and_errors_to_kafka(bifrost, tmp_path, kafka, es):
    index, topic = f"syslog-{uuid.uuid4().hex[:8]}", f"errors-{uuid.uuid4().hex[:8]}"
    d = start(bifrost, tmp_path, "syslog-to-elasticsearch.yaml", BIFROST_ES=es, BIFROST_KAFKA=kafka,
              SYSLOG_UDP_LISTEN="127.0.0.1:0", SYSLOG_TCP_LISTEN="127.0.0.1:0", SYSLOG_INDEX=index,
              SYSLOG_ERRORS_TOPIC=topic)
    ports = listening_ports(d, ["devices-udp", "devices-tcp"])
    logger = shutil.which("logger")
    assert logger, "logger (util-linux) is missing"

    def send(port, proto, prio, text, *args):
        subprocess.run([logger, "-n", "127.0.0.1", "-P", str(port), proto, "-p", prio, "-t", "LINK", *args, text],
                       check=True, timeout=30)
    send(ports["devices-udp"], "-d", "local7.err", "Interface Gi0/1, changed state to down", "--rfc3164")
    send(ports["devices-udp"], "-d", "local7.notice", "Configured from console", "--rfc5424")
    send(ports["devices-tcp"], "-T", "local7.debug", "packet trace", "--octet-count", "--rfc5424")
    send(ports["devices-tcp"], "-T", "local7.crit", "Power supply 2 failed", "--octet-count", "--rfc5424")
    with socket.create_connection(("127.0.0.1", ports["devices-tcp"])) as s:
        s.sendall(b"garbage from a misconfigured device\n")
    errors = [json.loads(x) for x in wait_records(kafka, topic, 3)]
    assert wait_for(lambda: es_count(es, index + "-*") >= 4, 60)
    time.sleep(1)
    d.stop()
    assert es_count(es, index + "-*") == 4  # not the debug line
    assert sorted(e["message"] for e in errors) == ["Interface Gi0/1, changed state to down", "Power supply 2 failed",
                                                   "garbage from a misconfigured device"]
    down = [e for e in errors if e["message"].startswith("Interface")][0]
    assert down["log"]["syslog"]["facility"]["name"] == "local7"
    assert down["log"]["syslog"]["severity"]["name"] == "Error"
    assert down["process"]["name"] == "LINK" and down["event"]["dataset"] == "network.syslog"
    assert [e for e in errors if e["message"].startswith("garbage")][0]["tags"] == ["syslog_invalid"]


def test_journal_files_to_kafka_keyed_by_unit(bifrost, tmp_path, kafka, topic):
    journal = tmp_path / "journal"
    journal.mkdir()
    export = []
    for i in range(200):
        unit = ["nginx.service", "sshd.service", "bifrost.service"][i % 3]
        export.append(f"__REALTIME_TIMESTAMP={1_700_000_000_000_000 + i}\n__MONOTONIC_TIMESTAMP={1000 + i}\n"
                      f"_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=entry {i}\n_SYSTEMD_UNIT={unit}\n"
                      f"PRIORITY={6 if i % 10 else 7}\n_PID={100 + i % 3}\n\n")
    remote = shutil.which("systemd-journal-remote") or "/lib/systemd/systemd-journal-remote"
    subprocess.run([remote, "-o", str(journal / "remote.journal"), "-"], input="".join(export).encode(),
                   check=True, capture_output=True, timeout=60)
    d = start(bifrost, tmp_path, "journald-to-kafka.yaml", BIFROST_KAFKA=kafka, JOURNAL_DIR=str(journal),
              JOURNAL_TOPIC=topic, JOURNAL_START_AT="beginning")
    # Not bifrost.service's (dropped) nor debug ones (priority: info).
    want = [i for i in range(200) if i % 3 != 2 and i % 10]
    got = wait_records(kafka, topic, len(want), fmt="%k %s\\n")
    time.sleep(1)
    d.stop()
    got = consume(kafka, topic, fmt="%k %s\\n")
    assert len(got) == len(want)
    for line in got:
        key, doc = line.split(" ", 1)
        e = json.loads(doc)
        assert key == e["systemd"]["unit"] and e["log"]["syslog"]["priority"] == 6
    assert sorted(int(json.loads(l.split(" ", 1)[1])["message"].split()[1]) for l in got) == want
