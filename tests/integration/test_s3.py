"""The s3 output against a real S3 API (moto's server, tests/services/s3.sh),
read back with boto3 (tests/services/s3_client.py) and the zstd command."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from e2e import Daemon, free_port, run, wait_for, write
from realservices import SERVICES, service

CLIENT = SERVICES / "s3_client.py"


@pytest.fixture(scope="module")
def py(s3):
    return service("s3", "python")


def s3c(py, url, *args, key="test", secret="test"):
    env = dict(os.environ, S3_KEY=key, S3_SECRET=secret)
    p = subprocess.run([py, str(CLIENT), url, *args], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)


@pytest.fixture
def bucket(py, s3):
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3c(py, s3, "mkbucket", name)
    return name


def objects(py, s3, bucket, prefix="", key="test", secret="test"):
    return s3c(py, s3, "dump", bucket, prefix, key=key, secret=secret)


def messages(objs):
    out = []
    for o in objs:
        for line in o["lines"]:
            out.append(json.loads(line)["message"] if o["key"].split("/")[-1].count(".ndjson") else line)
    return out


def output(s3, bucket, id="s3", extra="", key="k/"):
    return f"""
  - id: {id}
    type: s3
    endpoint: {s3}
    bucket: {bucket}
    path_style: true
    key: "{key}"
    auth: {{access_key_id: test, secret_access_key: test}}
    retry: {{initial_backoff: 50ms, max_backoff: 1s}}
{extra}"""


def file_config(tmp, paths, outputs, filters="", api="off"):
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "{api}"}}
inputs:
  - id: in
    type: file
    paths: {json.dumps([str(p) for p in paths])}
    start_at: beginning
{filters}
outputs:
{outputs}
""")


def scrape(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return ""


def lines(start, n, width=60):
    return "".join(f"line {i:08d} " + "x" * width + "\n" for i in range(start, start + n))


def test_gzip_and_zstd_objects_read_back_line_for_line(bifrost, tmp_path, s3, py, bucket):
    text = lines(0, 20000)
    outs = (output(s3, bucket, "gz", "    compression: gzip", key="gz/") +
            output(s3, bucket, "zst", "    compression: zstd\n    encoding: text", key="zst/"))
    cfg = write(tmp_path / "c.yaml", f"""
data_dir: {tmp_path / "data"}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: stdin}}
outputs:
{outs}
""")
    p = run(bifrost, "run", "-c", cfg, input=text.encode(), timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    want = text.splitlines()
    gz, zst = objects(py, s3, bucket, "gz/"), objects(py, s3, bucket, "zst/")
    assert gz and all(o["key"].endswith(".ndjson.gz") for o in gz)
    assert zst and all(o["key"].endswith(".log.zst") for o in zst)
    assert sorted(messages(gz)) == want
    assert sorted(messages(zst)) == want


def test_objects_roll_by_size_and_by_age_and_large_ones_go_up_in_parts(bifrost, tmp_path, s3, py, bucket):
    log, big = tmp_path / "a.log", tmp_path / "big.log"
    write(log, lines(0, 5000))  # 5000 x ~160 bytes encoded: ~800 KB
    write(big, "".join(f"big {i:08d} " + "y" * 1000 + "\n" for i in range(11000)))  # ~11.5 MB
    outs = (output(s3, bucket, "small", "    max_object_bytes: 100KiB\n    max_object_age: 1s\n"
                   "    when: 'not (message =~ \"^big\")'", key="size/") +
            output(s3, bucket, "parts", "    compression: none\n    encoding: text\n    max_object_bytes: 64MiB\n"
                   "    part_size: 5MiB\n    when: 'message =~ \"^big\"'", key="parts/"))
    d = Daemon(bifrost, file_config(tmp_path, [log, big], outs))
    try:
        # By size: full objects go up while bifrost runs.
        assert wait_for(lambda: len(objects(py, s3, bucket, "size/")) >= 8, 60), d.logged()[-3000:]
        # By age: a line alone in its object goes up about a second later.
        with open(log, "a") as f:
            f.write("the last line\n")
        assert wait_for(lambda: any("the last line" in m for m in messages(objects(py, s3, bucket, "size/"))), 30)
    finally:
        d.stop()
    small = objects(py, s3, bucket, "size/")
    assert all(len("\n".join(o["lines"])) + 1 <= 100 * 1024 for o in small)
    assert sorted(messages(small)) == sorted(lines(0, 5000).splitlines() + ["the last line"])
    parts = objects(py, s3, bucket, "parts/")
    assert len(parts) == 1 and parts[0]["size"] > 10 << 20
    assert parts[0]["etag"].strip('"').endswith("-3"), parts[0]["etag"]  # a multipart upload of 3 parts
    assert parts[0]["lines"] == open(big).read().splitlines()


def test_the_server_stopped_for_30s_loses_nothing(bifrost, tmp_path, s3, py, bucket):
    log = tmp_path / "a.log"
    write(log, "")
    cfg = file_config(tmp_path, [log], output(s3, bucket, extra="    max_object_bytes: 64KiB\n    max_object_age: 1s\n"
                                               "    timeout: 2s\n    connect_timeout: 1s"))
    d = Daemon(bifrost, cfg)
    written = 0

    def feed(n):
        nonlocal written
        with open(log, "a") as f:
            f.write(lines(written, n))
        written += n

    try:
        for _ in range(10):
            feed(300)
            time.sleep(0.1)
        service("s3", "pause")
        try:
            for _ in range(300):
                feed(20)
                time.sleep(0.1)
        finally:
            service("s3", "resume")
        feed(1000)
        want = lines(0, written).splitlines()
        assert wait_for(lambda: len(messages(objects(py, s3, bucket))) >= len(want), 90), d.logged()[-3000:]
    finally:
        err = d.stop()
    got = messages(objects(py, s3, bucket))
    assert sorted(got) == want
    assert "retrying" in err and "failed" not in err.split("stopped")[-1]


def test_kill_9_three_times_while_writing_every_line_in_exactly_one_object(bifrost, tmp_path, s3, py, bucket):
    log = tmp_path / "a.log"
    write(log, "")
    cfg = file_config(tmp_path, [log], output(s3, bucket, extra="    max_object_bytes: 32KiB\n    max_object_age: 1s"))
    written = 0
    for round in range(4):
        d = Daemon(bifrost, cfg)
        for _ in range(15):
            with open(log, "a") as f:
                f.write(lines(written, 200))
            written += 200
            time.sleep(0.1)
        if round < 3:
            d.p.send_signal(signal.SIGKILL)
            d.p.wait()
            continue
        want = lines(0, written).splitlines()
        assert wait_for(lambda: len(messages(objects(py, s3, bucket))) >= len(want), 60), d.logged()[-3000:]
        d.stop()
    objs = objects(py, s3, bucket)
    got = messages(objs)
    assert sorted(got) == want, f"{len(got)} lines in {len(objs)} objects for {len(want)} written"
    # Each name tells its first and last offsets: no two objects overlap.
    ranges = sorted(tuple(map(int, re.search(r"-(\d+)-(\d+)\.ndjson\.gz$", o["key"]).groups())) for o in objs)
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:])), ranges


def test_wrong_credentials_park_the_events_with_s3s_error_and_replay_delivers_them(bifrost, tmp_path, s3, py,
                                                                                    bucket):
    user = s3c(py, s3, "iam-user")
    s3c(py, s3, "auth", "on")
    try:
        text = lines(0, 3000)
        def cfg(key, secret):
            return write(tmp_path / "c.yaml", f"""
data_dir: {tmp_path / "data"}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: stdin}}
outputs:
  - id: s3
    type: s3
    endpoint: {s3}
    bucket: {bucket}
    path_style: true
    key: "auth/"
    auth: {{access_key_id: "{key}", secret_access_key: "{secret}"}}
""")
        p = run(bifrost, "run", "-c", cfg(user["id"], "not-the-secret"), input=text.encode(), timeout=120)
        err = p.stderr.decode()
        assert p.returncode == 0, err[-3000:]
        assert "rejected (to the failed queue): S3 SignatureDoesNotMatch" in err, err[-3000:]
        parked = [json.loads(l) for f in sorted((tmp_path / "data/failed/main/s3").iterdir()) for l in open(f)]
        assert len(parked) == 3000 and "SignatureDoesNotMatch" in parked[0]["error"]
        assert objects(py, s3, bucket, key=user["id"], secret=user["secret"]) == []
        # The right secret: replay sends every parked event (moto checks the signatures now).
        p = run(bifrost, "replay", "-c", cfg(user["id"], user["secret"]), "--output", "s3", timeout=120)
        assert p.returncode == 0, p.stderr.decode()[-3000:]
        got = messages(objects(py, s3, bucket, key=user["id"], secret=user["secret"]))
        assert sorted(got) == text.splitlines()
    finally:
        s3c(py, s3, "auth", "off")


def test_a_week_of_backfill_lands_in_the_dt_prefixes_of_its_event_time(bifrost, tmp_path, s3, py, bucket):
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    log = tmp_path / "a.log"
    rows = [(start + timedelta(minutes=7 * i)) for i in range(7 * 24 * 60 // 7)]  # every 7 minutes for 7 days
    write(log, "".join(f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')} event {i}\n" for i, t in enumerate(rows)))
    filters = """filters:
  - {id: re, type: parse_regex, field: message, pattern: '^(?P<ts>\\S+) '}
  - {id: t, type: parse_timestamp, field: ts, formats: [rfc3339]}"""
    port = free_port()
    cfg = file_config(tmp_path, [log], output(s3, bucket, key="bf/dt=%Y-%m-%d/", extra="    max_object_age: 6h"),
                      filters=filters, api=f"127.0.0.1:{port}")
    d = Daemon(bifrost, cfg)
    try:
        # Every event taken by the output (the last object of each day
        # waits for its age by the clock: 6h), then the stop uploads them.
        assert wait_for(lambda: re.search(r'bifrost_events_in_total\{[^}]*component="s3"[^}]*\} (\d+)', scrape(port))
                        and int(re.search(r'bifrost_events_in_total\{[^}]*component="s3"[^}]*\} (\d+)',
                                          scrape(port)).group(1)) >= len(rows), 30), d.logged()[-3000:]
    finally:
        d.stop()
    objs = objects(py, s3, bucket)
    days = sorted({o["key"].split("/")[1] for o in objs})
    assert days == [f"dt=2026-03-0{d}" for d in range(1, 8)]
    for o in objs:
        for line in o["lines"]:
            assert o["key"].split("/")[1] == "dt=" + json.loads(line)["message"][:10]
    # Cut by event time: 4 objects of 6 hours a day.
    assert len(objs) == 7 * 4
    assert sorted(messages(objs)) == sorted(open(log).read().splitlines())


def test_the_metrics_of_uploads_and_open_objects(bifrost, tmp_path, s3, py, bucket):
    log = tmp_path / "a.log"
    write(log, lines(0, 2000))
    port = free_port()
    d = Daemon(bifrost, file_config(tmp_path, [log], output(s3, bucket, extra="    max_object_bytes: 64KiB"),
                                    api=f"127.0.0.1:{port}"))
    try:
        assert wait_for(lambda: re.search(r'bifrost_s3_objects_uploaded_total\{[^}]*\} [1-9]', scrape(port)), 30)
        # The gauges are published every second: the last object, not full, stays open.
        assert wait_for(lambda: re.search(r'bifrost_s3_open_objects\{[^}]*\} 1\n', scrape(port)), 10)
        m = scrape(port)
        assert re.search(r'bifrost_s3_upload_duration_seconds_count\{[^}]*component="s3"[^}]*\} [1-9]', m)
        assert re.search(r'bifrost_s3_open_objects\{[^}]*\} 1', m)  # the last, not full yet
        assert re.search(r'bifrost_s3_open_object_bytes\{[^}]*\} [1-9]', m)
        assert re.search(r'bifrost_s3_uploaded_bytes_total\{[^}]*\} [1-9]', m)
        promtool = subprocess.run(["promtool", "check", "metrics"], input=m, capture_output=True, text=True)
        assert promtool.returncode == 0, promtool.stdout + promtool.stderr
    finally:
        d.stop()


def test_its_files_under_data_dir_are_private_and_a_planted_symlink_is_not_followed(bifrost, tmp_path, s3, bucket):
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(20)))
    cfg = file_config(tmp_path, [log], output(s3, bucket, extra="    max_object_age: 1h"))
    old = os.umask(0)  # inherited by the daemon: the modes must not come from the umask
    try:
        d = Daemon(bifrost, cfg)
    finally:
        os.umask(old)
    s3dir = tmp_path / "data" / "s3" / "main" / "s3"
    # an object filling on disk (1h: not cut yet) and the journal
    assert wait_for(lambda: any(p.suffix == ".obj" for p in s3dir.glob("*")), 30), d.logged()
    top = tmp_path / "data" / "s3"
    found = {str(p): p.stat().st_mode & 0o777 for p in [top, *top.rglob("*")]}
    d.stop()
    wrong = {p: oct(m) for p, m in found.items() if m != (0o700 if os.path.isdir(p) else 0o600)}
    assert wrong == {} and any(p.endswith("journal") for p in found), found

    data = tmp_path / "data2"
    outside = tmp_path / "outside"
    outside.mkdir()
    data.mkdir()
    os.symlink(outside, data / "s3")
    cfg = write(tmp_path / "c2.yaml", open(cfg).read().replace(str(tmp_path / "data"), str(data)))
    r = run(bifrost, "run", "-c", cfg, timeout=60)
    err = r.stderr.decode()
    assert r.returncode != 0, err
    assert "does not follow links below data_dir" in err, err
    assert list(outside.iterdir()) == []
