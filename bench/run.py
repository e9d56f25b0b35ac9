#!/usr/bin/env python3
"""Runs the benchmark scenarios and prints a table (median of --runs runs).

Each scenario feeds a deterministic corpus (build/bifrost-gen) to build/bifrost
and measures wall time, CPU time and peak RSS of the bifrost process, and
checks that every event came out.
"""
import argparse
import json
import math
import mmap
import os
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
# BIFROST_BENCH_BIN: another build to measure (a baseline beside this one).
BIFROST = pathlib.Path(os.environ.get("BIFROST_BENCH_BIN", ROOT / "build" / "bifrost"))
GEN = ROOT / "build" / "bifrost-gen"
SINK = ROOT / "build" / "bifrost-bench-sink"
REGEX_TIME = ROOT / "build" / "bifrost-regex-time"
CACHE = ROOT / "bench" / ".cache"


def corpus(size, fmt="nginx"):
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{fmt}-{size}.log"
    if not path.exists() or path.stat().st_size == 0:
        print(f"generating {path} ...", file=sys.stderr)
        with open(str(path) + ".tmp", "wb") as f:
            subprocess.run([str(GEN), str(size), "42", fmt], stdout=f, check=True)
        os.replace(str(path) + ".tmp", path)
    lines_file = path.with_suffix(".lines")
    if not lines_file.exists():
        with open(path, "rb") as f:
            n = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))
        lines_file.write_text(str(n))
    return path, int(lines_file.read_text())


# The tap of the "API on" scenario: an operator watching the server errors
# leaving the output, as `bifrost tap out --when ...` would.
TAP = ["out", "--when", 'message =~ "\\" 50[0-9] "']


def count_lines(path):
    # Read past the page cache (O_DIRECT) where the file system allows:
    # reading 2.7 GB of output through it and then deleting the file left
    # that much memory just freed before the next run, which the VM hands
    # back to the host, and the next run paid for touching it again (10%
    # slower measured, parse_json -> file) — what run_once's note avoids.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))
    buf = mmap.mmap(-1, 1 << 24)  # page-aligned, as O_DIRECT needs
    view = memoryview(buf)
    n = 0
    try:
        while got := os.readv(fd, [buf]):
            n += bytes(view[:got]).count(b"\n")
    finally:
        view.release()
        buf.close()
        os.close(fd)
    return n


def run_once(scenario, data, workdir, out_path=None, tap=None, feed="file", extra_env=None):
    # Remove the last output, flush, and start at once. In a VM, memory that
    # stays free for ~2 s is handed back to the host (free page reporting),
    # and the first touch of each page then costs an exit to the hypervisor:
    # 1.7 GB of new page cache measured that, not bifrost. A host shipping
    # logs all day recycles its page cache instead, which this reproduces.
    out = pathlib.Path(out_path or pathlib.Path(workdir) / "out.json")
    if str(out) != os.devnull and out.exists():
        out.unlink()
    subprocess.run(["sync"])
    env = dict(os.environ, BENCH_OUT=str(out), **(extra_env or {}))
    if tap:
        env["BENCH_API"] = "127.0.0.1:0"
    tap_proc = None
    # feed "file": stdin is the corpus itself. feed "pipe": `cat` writes it
    # into a pipe, held back until the tap (if any) is attached, so the whole
    # run is measured with it; `cat` costs CPU too, so compare pipe with pipe.
    if feed == "tail":  # the file input reads the corpus itself
        data_dir = tempfile.mkdtemp(dir=workdir)
        env.update(BENCH_IN=str(data), BENCH_DATA=data_dir)
        t0 = time.monotonic()
        p = subprocess.Popen([str(BIFROST), "run", "-c", str(scenario)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        return finish(p, status, ru, wall, out, b"")
    if feed == "file":
        stdin_file = open(data, "rb")
        t0 = time.monotonic()
        p = subprocess.Popen([str(BIFROST), "run", "-c", str(scenario)], stdin=stdin_file,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        stdin_file.close()
        return finish(p, status, ru, wall, out, b"")
    r, w = os.pipe()
    p = subprocess.Popen([str(BIFROST), "run", "-c", str(scenario)], stdin=r,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    os.close(r)
    first = b""
    if tap:
        first = p.stderr.readline()
        m = re.search(rb"listening on http://(\S+)", first)
        if not m:
            sys.exit(f"no API address: {first!r}")
        tap_proc = subprocess.Popen([str(BIFROST), "tap", *tap, "--api", m.group(1).decode()],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # with a tap or not, so both sides of a comparison start alike
    t0 = time.monotonic()
    feeder = subprocess.Popen(["cat", str(data)], stdout=w)
    os.close(w)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    feeder.wait()
    if tap_proc:
        tap_proc.wait(timeout=30)
    return finish(p, status, ru, wall, out, first)


LAST_LOG = [""]  # the log of the last run (its stop summary)


def finish(p, status, ru, wall, out, first):
    err = first.decode() + p.stderr.read().decode()
    LAST_LOG[0] = err
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bifrost failed:\n{err}")
    # Peak RSS as bifrost reads it itself (VmHWM): wait4's ru_maxrss would
    # include this Python process's memory from before exec.
    m = re.search(r"peak_rss_kib=(\d+)", err)
    if not m:
        sys.exit(f"bifrost did not report its peak RSS:\n{err}")
    events_out = count_lines(out) if str(out) != os.devnull else out_events(err)
    return wall, ru.ru_utime + ru.ru_stime, int(m.group(1)) / 1024, events_out


def out_events(log):
    """Events the output delivered, from bifrost's stop summary."""
    m = re.search(r"\(output \w+\): in=\d+ out=(\d+)", log)
    return int(m.group(1)) if m else -1


def run_http(variants, data, lines, work, runs):
    """Runs each variant `runs` times, alternated, against a fresh bench sink each run."""
    results = [[] for _ in variants]
    for r in range(runs + 1):  # the first round warms up, not counted
        for k, (name, buffer) in enumerate(variants):
            port = 20000 + os.getpid() % 20000
            sink = subprocess.Popen([str(SINK), str(port)], stdout=subprocess.PIPE)
            if sink.stdout.readline().strip() != b"ready":
                sys.exit("bifrost-bench-sink did not start")
            try:
                env = {"BENCH_SINK": f"http://127.0.0.1:{port}", "BENCH_BUFFER": buffer}
                wall, cpu, rss, out_lines = run_once(ROOT / "bench" / "scenarios" / "file_to_http.yaml", data, work,
                                                     os.devnull, None, "tail", env)
                got = int(urllib.request.urlopen(f"http://127.0.0.1:{port}/count").read().split()[0])
            finally:
                sink.kill()
                sink.wait()
            if got != lines or out_lines != lines:
                sys.exit(f"{name}: the sink got {got} events, bifrost says {out_lines}, of {lines}")
            if r > 0:
                results[k].append((wall, cpu, rss))
    return results


def start_service(name, state_var, what):
    """Starts tests/services/NAME.sh with its state under bench/.cache (so a
    benchmark never touches the tests' servers); returns (address, reset)."""
    env = dict(os.environ, **{state_var: str(CACHE / name)})
    service = ROOT / "tests" / "services" / f"{name}.sh"
    p = subprocess.run([str(service), "start"], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"the {what} benchmark needs a server: tests/services/{name}.sh start failed:\n{p.stderr}")
    return p.stdout.strip().splitlines()[-1], lambda: subprocess.run([str(service), "reset"], env=env,
                                                                      capture_output=True)


def run_s3(data, lines, work, runs):
    """file -> s3 with gzip, zstd and none, alternated, on moto's server of its
    own (tests/services/s3.sh, state under bench/.cache, removed afterwards)."""
    url, reset = start_service("s3", "BIFROST_S3_DIR", "S3")
    py = subprocess.run([str(ROOT / "tests" / "services" / "s3.sh"), "python"], capture_output=True, text=True,
                        check=True).stdout.strip().splitlines()[-1]
    client = ROOT / "tests" / "services" / "s3_client.py"
    variants = ["gzip", "zstd", "none"]
    results = [[] for _ in variants]
    try:
        for r in range(runs + 1):  # the first round warms up, not counted
            for k, comp in enumerate(variants):
                bucket = f"bench-{r}-{comp}"
                subprocess.run([py, str(client), url, "mkbucket", bucket], check=True, capture_output=True)
                env = {"BENCH_S3": url, "BENCH_BUCKET": bucket, "BENCH_COMPRESSION": comp,
                       "BENCH_DATA": tempfile.mkdtemp(dir=work)}
                wall, cpu, rss, out = run_once(ROOT / "bench" / "scenarios" / "file_to_s3.yaml", data, work,
                                               os.devnull, None, "tail", env)
                if out != lines:
                    sys.exit(f"file -> s3 ({comp}): {out} events of {lines}")
                if r > 0:
                    results[k].append((wall, cpu, rss))
    finally:
        reset()
    return [f"file (tailed) -> s3 ({c})" for c in variants], results


def run_kafka(data, lines, work, runs):
    """file -> Kafka and Kafka -> file beside a bare kcat producer and
    consumer, alternated, on a real broker of its own (tests/services/kafka.sh,
    state under bench/.cache, removed afterwards)."""
    broker, reset = start_service("kafka", "BIFROST_KAFKA_DIR", "Kafka")
    names = ["kcat -P: file -> Kafka", "bifrost: file (tailed) -> Kafka",
             "kcat -C: Kafka -> file", "bifrost: Kafka -> file"]
    results = [[] for _ in names]
    try:
        for r in range(runs + 1):  # the first round warms up, not counted
            topic = f"bench-{os.getpid()}-{r}"
            t0 = time.monotonic()
            with open(data, "rb") as f:
                k = subprocess.Popen(["kcat", "-b", broker, "-P", "-t", topic], stdin=f)
                _, status, ru = os.wait4(k.pid, 0)
            if status != 0:
                sys.exit("kcat -P failed")
            kcat_p = (time.monotonic() - t0, ru.ru_utime + ru.ru_stime, 0.0)
            wall, cpu, rss, _ = run_once(ROOT / "bench" / "scenarios" / "file_to_kafka.yaml", data, work, os.devnull,
                                         None, "tail", {"BENCH_BROKER": broker, "BENCH_TOPIC": topic + "-b"})
            bif_p = (wall, cpu, rss)
            out = pathlib.Path(work) / "kafka.out"
            t0 = time.monotonic()
            with open(out, "wb") as f:
                k = subprocess.Popen(["kcat", "-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q"], stdout=f)
                _, status, ru = os.wait4(k.pid, 0)
            kcat_c = (time.monotonic() - t0, ru.ru_utime + ru.ru_stime, 0.0)
            if count_lines(out) != lines:
                sys.exit(f"kcat -C read {count_lines(out)} of {lines}")
            bif_c = consume_with_bifrost(broker, topic + "-b", lines, work, out)
            if r > 0:
                for i, x in enumerate((kcat_p, bif_p, kcat_c, bif_c)):
                    results[i].append(x)
    finally:
        reset()
    return names, results


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_exactly_once(data, lines, work, runs):
    """file -> Kafka and Kafka -> Kafka, each with and without exactly_once
    (Kafka transactions), alternated, on the bench broker (tests/services/
    kafka.sh, state under bench/.cache, removed afterwards)."""
    broker, reset = start_service("kafka", "BIFROST_KAFKA_DIR", "Kafka")
    # exactly_once with the default transaction_interval (100ms) and with 1s:
    # a commit stops the output for a round trip or two (the transaction's
    # last records acknowledged, EndTxn, then AddPartitionsToTxn for the
    # next one), so its cost is per interval, not per event.
    variants = [("false", "100ms"), ("true", "100ms"), ("true", "1s")]
    names = [f"bifrost: {what} -> Kafka" + ("" if eo == "false" else f", exactly_once ({ti})")
             for what in ("file (tailed)", "Kafka") for eo, ti in variants]
    results = [[] for _ in names]
    try:
        for r in range(runs + 1):  # the first round warms up, not counted
            topic = f"bench-eo-{os.getpid()}-{r}"
            with open(data, "rb") as f:
                if subprocess.run(["kcat", "-b", broker, "-P", "-t", topic], stdin=f).returncode != 0:
                    sys.exit("kcat -P failed")
            got = []
            for eo, ti in variants:
                got.append(run_once(ROOT / "bench" / "scenarios" / "file_to_kafka_eo.yaml", data, work, os.devnull,
                                    None, "tail", {"BENCH_BROKER": broker, "BENCH_TOPIC": f"{topic}-f-{eo}-{ti}",
                                                   "BENCH_EXACTLY_ONCE": eo, "BENCH_INTERVAL": ti})[:3])
            for eo, ti in variants:
                got.append(kafka_to_kafka(broker, topic, f"{topic}-k-{eo}-{ti}", eo, ti, lines, work))
            if r > 0:
                for i, x in enumerate(got):
                    results[i].append(x)
    finally:
        reset()
    return names, results


def kafka_to_kafka(broker, topic, out_topic, eo, interval, lines, work):
    """bifrost's kafka input has no end: timed until its output has delivered
    every record (its /metrics) and a stop has ended (with exactly_once, the
    last transaction commits then)."""
    port = free_port()
    env = dict(os.environ, BENCH_DATA=tempfile.mkdtemp(dir=work), BENCH_BROKER=broker, BENCH_TOPIC=topic,
               BENCH_OUT_TOPIC=out_topic, BENCH_GROUP=f"g-{out_topic}", BENCH_EXACTLY_ONCE=eo, BENCH_INTERVAL=interval,
               BENCH_API=f"127.0.0.1:{port}")
    t0 = time.monotonic()
    p = subprocess.Popen([str(BIFROST), "run", "-c", str(ROOT / "bench" / "scenarios" / "kafka_to_kafka.yaml")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    pattern = re.compile(rb'^bifrost_events_out_total\{pipeline="main",component="out"\} (\S+)$', re.M)
    while True:
        try:
            m = pattern.search(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read())
        except OSError:
            m = None
        if m and float(m.group(1)) >= lines:
            break
        if p.poll() is not None:
            sys.exit("bifrost (kafka -> kafka) exited early:\n" + p.stderr.read().decode())
        if time.monotonic() - t0 > 600:
            p.kill()
            sys.exit("bifrost (kafka -> kafka) did not finish in 600 s")
        time.sleep(0.05)
    p.send_signal(15)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        sys.exit("bifrost (kafka -> kafka) failed:\n" + p.stderr.read().decode())
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def consume_with_bifrost(broker, topic, lines, work, out):
    """bifrost's kafka input has no end: the run is timed until the last line is written."""
    if out.exists():
        out.unlink()
    env = dict(os.environ, BENCH_OUT=str(out), BENCH_DATA=tempfile.mkdtemp(dir=work), BENCH_BROKER=broker,
               BENCH_TOPIC=topic, BENCH_GROUP=f"g-{topic}")
    t0 = time.monotonic()
    p = subprocess.Popen([str(BIFROST), "run", "-c", str(ROOT / "bench" / "scenarios" / "kafka_to_file.yaml")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    # Lines are counted as they are appended, each byte read once (counting
    # the whole file at each poll read it again and again, on the cores
    # bifrost runs on); finish() counts the whole file again at the end.
    growing, seen = None, 0
    while True:
        if growing is None and out.exists():
            growing = open(out, "rb")
        if growing is not None:
            seen += growing.read().count(b"\n")
            if seen >= lines:
                break
        if p.poll() is not None:
            sys.exit("bifrost (kafka -> file) exited early:\n" + p.stderr.read().decode())
        if time.monotonic() - t0 > 600:
            p.kill()
            sys.exit(f"bifrost (kafka -> file): {count_lines(out)} of {lines} lines after 600 s")
        time.sleep(0.05)
    wall = time.monotonic() - t0
    growing.close()
    p.send_signal(15)
    _, status, ru = os.wait4(p.pid, 0)
    _, cpu, rss, got = finish(p, status, ru, wall, out, b"")
    if got != lines:
        sys.exit(f"bifrost (kafka -> file): {got} lines of {lines}")
    return wall, cpu, rss


def run_influx(work, runs, n):
    """stdin (JSON points) -> influxdb beside curl posting the same line
    protocol (requests of 5000 points, one connection), alternated, on an
    InfluxDB of its own (tests/services/influxdb.sh, removed afterwards)."""
    url, reset = start_service("influxdb", "BIFROST_INFLUXDB_DIR", "InfluxDB")
    base = 1_795_000_000_000
    work = pathlib.Path(work)
    events = work / "points.json"
    with open(events, "w") as f:
        for i in range(n):
            f.write(f'{{"t":{base + i},"host":"h{i % 100}","region":"r{i % 7}","v":{i},"l":{i % 1000 / 8}}}\n')
    chunks = []
    for c in range(0, n, 5000):
        path = work / f"points-{c}.lp"
        with open(path, "w") as f:
            for i in range(c, min(n, c + 5000)):
                load = repr(i % 1000 / 8).removesuffix(".0")
                f.write(f"cpu,host=h{i % 100},region=r{i % 7} value={i}i,load={load} {base + i}\n")
        chunks.append(path)

    def count(db):
        q = urllib.parse.urlencode({"db": db, "q": "SELECT count(value) FROM cpu"})
        body = json.loads(urllib.request.urlopen(f"{url}/query?{q}").read())
        return body["results"][0]["series"][0]["values"][0][1]

    def create(db):
        q = urllib.parse.urlencode({"q": f'CREATE DATABASE "{db}"'})
        urllib.request.urlopen(urllib.request.Request(f"{url}/query?{q}", method="POST")).read()

    results = [[], []]
    try:
        for r in range(runs + 1):  # the first round warms up, not counted
            db = f"curl{r}"
            create(db)
            args = ["curl", "-sS", "-o", "/dev/null", "--fail"]
            for k, chunk in enumerate(chunks):
                args += (["--next", "-sS", "-o", "/dev/null", "--fail"] if k else []) + [
                    "--data-binary", f"@{chunk}", f"{url}/write?db={db}&precision=ms"]
            t0 = time.monotonic()
            c = subprocess.Popen(args)
            _, status, ru = os.wait4(c.pid, 0)
            curl = (time.monotonic() - t0, ru.ru_utime + ru.ru_stime, 0.0)
            if status != 0 or count(db) != n:
                sys.exit(f"curl: {count(db)} points of {n}")
            db = f"bifrost{r}"
            create(db)
            wall, cpu, rss, _ = run_once(ROOT / "bench" / "scenarios" / "stdin_to_influxdb.yaml", events, work,
                                         os.devnull, None, "file", {"BENCH_INFLUX": url, "BENCH_DB": db,
                                                                    "BENCH_DATA": tempfile.mkdtemp(dir=work)})
            if count(db) != n:
                sys.exit(f"bifrost: {count(db)} points of {n}")
            if r > 0:
                results[0].append(curl)
                results[1].append((wall, cpu, rss))
    finally:
        reset()
    return ["curl: line protocol -> InfluxDB", "bifrost: JSON points -> InfluxDB"], results, events.stat().st_size


def run_telegraf(work, runs, n):
    """Telegraf's line protocol from Kafka (decoding: influx) -> influxdb,
    points passed through, beside curl posting the same lines to the same
    server (requests of 5000 points, one connection), alternated. The
    records (10 points each, as Telegraf batches them) are produced once
    before; each bifrost run reads them with a fresh consumer group and is
    timed from its first record read to its last point written (the group
    join before it is not throughput), watched on /metrics."""
    broker, reset_kafka = start_service("kafka", "BIFROST_KAFKA_DIR", "Kafka")
    url, reset_influx = start_service("influxdb", "BIFROST_INFLUXDB_DIR", "InfluxDB")
    work = pathlib.Path(work)
    data, _ = corpus(n * 300, "influx")  # more than n points; the first n are used
    with open(data, "rb") as f:
        points = [f.readline() for _ in range(n)]
    if not points[-1]:
        sys.exit(f"the influx corpus has fewer than {n} points")
    size = sum(len(p) for p in points)
    topic = f"bench-lp-{os.getpid()}"
    with open(work / "records", "wb") as f:
        for k in range(0, n, 10):
            f.write(b"".join(points[k:k + 10]) + b"\x1e")
    with open(work / "records", "rb") as f:
        if subprocess.run(["kcat", "-b", broker, "-P", "-t", topic, "-D", "\\x1e", "-z", "snappy"],
                          stdin=f).returncode != 0:
            sys.exit("kcat -P failed")
    chunks = []
    for c in range(0, n, 5000):
        path = work / f"lp-{c}.lp"
        path.write_bytes(b"".join(points[c:c + 5000]))
        chunks.append(path)

    def query(db, q, method="GET"):
        qs = urllib.parse.urlencode({"db": db, "q": q})
        return json.loads(urllib.request.urlopen(urllib.request.Request(f"{url}/query?{qs}", method=method)).read())

    def count(db):
        q = ";".join(f"SELECT count({f}) FROM {m}" for m, f in
                     [("cpu", "usage_idle"), ("mem", "used"), ("disk", "used"), ("net", "bytes_recv"),
                      ("system", "load1")])
        return sum(r["series"][0]["values"][0][1] for r in query(db, q)["results"] if r.get("series"))

    def metric(api, name, component):
        text = urllib.request.urlopen(f"http://{api}/metrics", timeout=5).read().decode()
        m = re.search(name + r'\{[^}]*component="' + component + r'"[^}]*\} (\S+)', text)
        return float(m.group(1)) if m else 0.0

    results = [[], []]
    try:
        for r in range(runs + 1):  # the first round warms up, not counted
            db = f"curl{r}"
            query(db, f'CREATE DATABASE "{db}"', "POST")
            args = ["curl", "-sS", "-o", "/dev/null", "--fail"]
            for k, chunk in enumerate(chunks):
                args += (["--next", "-sS", "-o", "/dev/null", "--fail"] if k else []) + [
                    "--data-binary", f"@{chunk}", f"{url}/write?db={db}"]
            t0 = time.monotonic()
            c = subprocess.Popen(args)
            _, status, ru = os.wait4(c.pid, 0)
            curl = (time.monotonic() - t0, ru.ru_utime + ru.ru_stime, 0.0)
            if status != 0 or count(db) != n:
                sys.exit(f"curl: {count(db)} points of {n}")
            db = f"bifrost{r}"
            query(db, f'CREATE DATABASE "{db}"', "POST")
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                api = f"127.0.0.1:{s.getsockname()[1]}"
            env = dict(os.environ, BENCH_BROKER=broker, BENCH_TOPIC=topic, BENCH_GROUP=f"g-{topic}-{r}",
                       BENCH_INFLUX=url, BENCH_DB=db, BENCH_DATA=tempfile.mkdtemp(dir=work), BENCH_API=api)
            p = subprocess.Popen([str(BIFROST), "run", "-c", str(ROOT / "bench" / "scenarios" /
                                                              "kafka_influx_to_influxdb.yaml")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            first = None
            deadline = time.monotonic() + 600
            while True:
                if p.poll() is not None:
                    sys.exit("bifrost (kafka -> influxdb) exited early:\n" + p.stderr.read().decode())
                if time.monotonic() > deadline:
                    p.kill()
                    sys.exit("bifrost (kafka -> influxdb) did not finish in 600 s")
                try:
                    if first is None and metric(api, "bifrost_events_in_total", "in") > 0:
                        first = time.monotonic()
                    if metric(api, "bifrost_events_out_total", "out") >= n:
                        break
                except OSError:
                    pass  # not listening yet
                time.sleep(0.02)
            wall = time.monotonic() - first
            p.send_signal(15)
            _, status, ru = os.wait4(p.pid, 0)
            _, cpu, rss, _ = finish(p, status, ru, wall, pathlib.Path(os.devnull), b"")
            if count(db) != n:
                sys.exit(f"bifrost: {count(db)} points of {n}")
            if r > 0:
                results[0].append(curl)
                results[1].append((wall, cpu, rss))
    finally:
        reset_kafka()
        reset_influx()
    return ["curl: line protocol -> InfluxDB (telegraf points)",
            "bifrost: Kafka (line protocol) -> InfluxDB, passthrough"], results, size


def run_es(corpus_path, lines, work, runs):
    """file -> Elasticsearch beside curl posting the same documents as
    ready-made bulk files (2048 per request, one connection), alternated, on
    a server of its own (tests/services/elasticsearch.sh, removed afterwards)."""
    url, reset = start_service("elasticsearch", "BIFROST_ES_DIR", "Elasticsearch")
    work = pathlib.Path(work)
    # The documents bifrost makes of the corpus, as bulk files for curl.
    chunks, offset, k = [], 0, 0
    with open(corpus_path, "rb") as f:
        lines_of = f.read().decode().splitlines(keepends=True)
    for c in range(0, len(lines_of), 2048):
        path = work / f"bulk-{c}.ndjson"
        with open(path, "w") as out:
            for line in lines_of[c:c + 2048]:
                doc = {"@timestamp": "2026-11-21T00:00:00.000000000Z", "message": line.rstrip("\n"),
                       "host": {"name": "bench"}, "log": {"file": {"path": str(corpus_path)}, "offset": offset}}
                out.write('{"index":{}}\n' + json.dumps(doc, separators=(",", ":")) + "\n")
                offset += len(line.encode())
        chunks.append(path)

    def count(index):
        urllib.request.urlopen(urllib.request.Request(f"{url}/{index}/_refresh", method="POST")).read()
        return json.loads(urllib.request.urlopen(f"{url}/{index}/_count").read())["count"]

    results = [[], []]
    try:
        for r in range(runs + 1):  # the first round warms up, not counted
            index = f"curl-{r}"
            args = ["curl", "-sS", "-o", "/dev/null", "--fail", "-H", "Content-Type: application/x-ndjson"]
            for k, chunk in enumerate(chunks):
                args += (["--next", "-sS", "-o", "/dev/null", "--fail", "-H", "Content-Type: application/x-ndjson"]
                         if k else []) + ["--data-binary", f"@{chunk}", f"{url}/{index}/_bulk"]
            t0 = time.monotonic()
            c = subprocess.Popen(args)
            _, status, ru = os.wait4(c.pid, 0)
            curl = (time.monotonic() - t0, ru.ru_utime + ru.ru_stime, 0.0)
            if status != 0 or count(index) != lines:
                sys.exit(f"curl: {count(index)} documents of {lines}")
            index = f"bifrost-{r}"
            wall, cpu, rss, _ = run_once(ROOT / "bench" / "scenarios" / "file_to_elasticsearch.yaml", corpus_path, work,
                                         os.devnull, None, "tail", {"BENCH_ES": url, "BENCH_INDEX": index})
            if count(index) != lines:
                sys.exit(f"bifrost: {count(index)} documents of {lines}")
            if r > 0:
                results[0].append(curl)
                results[1].append((wall, cpu, rss))
    finally:
        reset()
    return ["curl: bulk files -> Elasticsearch", "bifrost: file (tailed) -> Elasticsearch"], results


# Fluent Bit's `nginx` parser regex (its documentation's), as in
# bench/scenarios/parse_regex_fluentbit_to_file.yaml.
FLUENT_BIT_NGINX = (r'^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)'
                    r'(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)'
                    r'(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)")')


def regex_alone(engine, pattern, data):
    """One engine alone on one core, matching every line with its captures
    (build/bifrost-regex-time): (wall s, CPU s, 0) as a row's result."""
    p = subprocess.run([str(REGEX_TIME), engine, pattern, str(data)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bifrost-regex-time failed:\n{p.stderr}")
    fields = p.stdout.split()
    return float(fields[3]), float(fields[4]), 0.0


def run_regex(data, lines, work, runs, hostile_size):
    """parse_regex with Fluent Bit's nginx regex: RE2 alone on one core (the
    reference), bifrost with `engine: re2`, bifrost's default (PCRE2's JIT),
    and the grok form of the same parse, alternated (A B C D A B C D ...);
    then the hostile lines."""
    scenarios = ROOT / "bench" / "scenarios"
    names = ["RE2 alone, one core: Fluent Bit's nginx regex, captures only (the reference)",
             "stdin -> parse_regex (Fluent Bit's nginx regex, engine: re2) -> file (json)",
             "stdin -> parse_regex (Fluent Bit's nginx regex) -> file (json)",
             "stdin -> parse_regex (the same parse with named patterns) -> file (json)"]
    steps = [lambda: regex_alone("re2", FLUENT_BIT_NGINX, data),
             lambda: run_once(scenarios / "parse_regex_fluentbit_to_file.yaml", data, work, None, None, "file",
                              {"BENCH_ENGINE": "re2"}),
             lambda: run_once(scenarios / "parse_regex_fluentbit_to_file.yaml", data, work),
             lambda: run_once(scenarios / "parse_regex_grok_to_file.yaml", data, work)]
    results = [[] for _ in names]
    for r in range(runs + 1):  # the first round warms up, not counted
        for k, step in enumerate(steps):
            got = step()
            if len(got) == 4:
                if got[3] != lines:
                    sys.exit(f"{names[k]}: {got[3]} events out of {lines}")
                got = got[:3]
            if r > 0:
                results[k].append(got)
    hdata, hlines = corpus(hostile_size, "hostile")
    hostile = []
    for r in range(runs + 1):
        wall, cpu, rss, out_lines = run_once(scenarios / "parse_regex_hostile_to_file.yaml", hdata, work)
        if out_lines != hlines:
            sys.exit(f"parse_regex (hostile lines): {out_lines} events out of {hlines}")
        if r > 0:
            hostile.append((wall, cpu, rss))
    return names, results, hlines, hostile
def stage_counts(log, component):
    """(in, out) of a component, from bifrost's stop summary."""
    m = re.search(rf"/{component} \(\w+ \w+\): in=(\d+) out=(\d+)", log)
    if not m:
        sys.exit(f"no summary for {component} in:\n{log}")
    return int(m.group(1)), int(m.group(2))


def run_aggregate(data, lines, work, runs):
    """parse_regex -> file and parse_regex -> aggregate -> file, alternated
    (A B A B) on the same corpus: the roll-up must keep up with the plain
    parse (issue 20: at least its rate, in 64 MiB)."""
    plain = ROOT / "bench" / "scenarios" / "parse_regex_to_file.yaml"
    rollup = ROOT / "bench" / "scenarios" / "parse_regex_aggregate_to_file.yaml"
    results = [[], []]
    for r in range(runs + 1):  # the first round warms up, not counted
        wall, cpu, rss, out_lines = run_once(plain, data, work)
        if out_lines != lines:
            sys.exit(f"parse_regex -> file: {out_lines} events out of {lines}")
        a = (wall, cpu, rss)
        wall, cpu, rss, out_lines = run_once(rollup, data, work, extra_env={"BENCH_DATA": tempfile.mkdtemp(dir=work)})
        got_in, emitted = stage_counts(LAST_LOG[0], "rollup")
        if got_in != lines or out_lines != emitted or emitted == 0:
            sys.exit(f"aggregate: {got_in} of {lines} events in, {emitted} emitted, {out_lines} written")
        if r > 0:
            results[0].append(a)
            results[1].append((wall, cpu, rss))
    return results


def keys_corpus(n):
    """n distinct keys, one a line ("k0" ... ), for the dedupe row."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"keys-{n}.log"
    if not path.exists():
        with open(str(path) + ".tmp", "w") as f:
            for c in range(0, n, 1_000_000):
                f.write("".join(f"k{i}\n" for i in range(c, min(n, c + 1_000_000))))
        os.replace(str(path) + ".tmp", path)
    return path


def bloom_bytes(max_keys, rate, slices=4):
    """What docs/stages.md says a time-sliced Bloom filter takes."""
    n = math.ceil(max_keys / (slices - 1))
    bits = math.ceil(n * math.log(slices / rate) / (math.log(2) ** 2))
    return slices * math.ceil(bits / 64) * 8


def run_dedupe(work, runs, n=10_000_000):
    """stdin -> file with and without a bloom dedupe of 10M keys at 1%,
    alternated: the difference of their peak RSS is the filter."""
    data = keys_corpus(n)
    names = ["stdin (10M keys) -> file (text)", "stdin (10M keys) -> dedupe (bloom, 10M, 1%) -> file (text)"]
    scenarios = [ROOT / "bench" / "scenarios" / "dedupe_none.yaml", ROOT / "bench" / "scenarios" / "dedupe_bloom.yaml"]
    results, dropped = [[], []], []
    for r in range(runs + 1):
        for k, sc in enumerate(scenarios):
            wall, cpu, rss, out_lines = run_once(sc, data, work, extra_env={"BENCH_DATA": tempfile.mkdtemp(dir=work)})
            if k == 0 and out_lines != n or k == 1 and not 0.98 * n <= out_lines <= n:
                sys.exit(f"{names[k]}: {out_lines} lines of {n}")
            if r > 0:
                results[k].append((wall, cpu, rss))
                if k == 1:
                    dropped.append(n - out_lines)
    return names, results, data.stat().st_size, n, statistics.median(dropped)


def net_corpus(data, size, kind):
    """The network rows' corpora, made once from the nginx corpus (cached):
    "syslog": its first `size` bytes of lines as RFC 5424 messages,
    octet-counted; "ndjson": as {"message": line} documents in files of about
    1 MiB (one request each). Returns (paths, lines, bytes)."""
    out = CACHE / f"{kind}-{size}"
    done = out / "done"
    if not done.exists():
        print(f"generating {out} ...", file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        for old in out.iterdir():
            old.unlink()
        n, k, total = 0, 0, 0
        chunk = bytearray()
        with open(data, "rb") as f:
            for line in f:
                if total >= size:
                    break
                line = line.rstrip(b"\n")
                if kind == "syslog":
                    msg = b"<134>1 2026-11-21T06:00:00.000000Z web-1 nginx 4242 access - " + line
                    rec = b"%d " % len(msg) + msg
                else:
                    rec = json.dumps({"message": line.decode()}, separators=(",", ":")).encode() + b"\n"
                chunk += rec
                total += len(line) + 1
                n += 1
                if len(chunk) >= (1 << 20) or kind == "syslog" and len(chunk) >= (64 << 20):
                    (out / f"{k:06d}").write_bytes(chunk)
                    k, chunk = k + 1, bytearray()
        if chunk:
            (out / f"{k:06d}").write_bytes(chunk)
        (out / "lines").write_text(str(n))
        done.write_text("")
    paths = sorted(p for p in out.iterdir() if p.name.isdigit())
    return paths, int((out / "lines").read_text()), sum(p.stat().st_size for p in paths)


def run_listening(scenario, work, feed, lines):
    """bifrost on a network scenario: started with its log in a file, the
    port of input `in` and the API address read from it, fed by feed(port),
    stopped (SIGTERM) once /metrics counts `lines` events out of `out`.
    Returns (wall s from the first byte sent to the last event out, CPU s,
    peak RSS MiB)."""
    out = pathlib.Path(work) / "out.json"
    if out.exists():
        out.unlink()
    subprocess.run(["sync"])
    log = pathlib.Path(work) / "bifrost.log"
    env = dict(os.environ, BENCH_OUT=str(out), BENCH_DATA=tempfile.mkdtemp(dir=work))
    with open(log, "wb") as logf:
        p = subprocess.Popen([str(BIFROST), "run", "-c", str(scenario)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=logf, env=env)
    port = api = None
    t_end = time.monotonic() + 30
    while (port is None or api is None) and time.monotonic() < t_end:
        text = log.read_text(errors="replace")
        if m := re.search(r"in: listening on [\d.]+:(\d+)", text):
            port = int(m.group(1))
        if m := re.search(r"api: listening on http://(\S+)", text):
            api = m.group(1)
        time.sleep(0.02)
    if port is None or api is None:
        p.kill()
        sys.exit(f"{scenario.name}: bifrost did not start:\n{log.read_text()}")

    def events_out():
        text = urllib.request.urlopen(f"http://{api}/metrics", timeout=10).read().decode()
        m = re.search(r'^bifrost_events_out_total\{pipeline="main",component="out"\} (\S+)', text, re.M)
        return float(m.group(1)) if m else 0
    t0 = time.monotonic()
    feed(port)
    while events_out() < lines:
        if p.poll() is not None:
            sys.exit(f"{scenario.name}: bifrost exited:\n{log.read_text()}")
        if time.monotonic() - t0 > 900:
            p.kill()
            sys.exit(f"{scenario.name}: {events_out()} of {lines} events after 900 s")
        time.sleep(0.05)
    wall = time.monotonic() - t0
    p.send_signal(15)
    _, status, ru = os.wait4(p.pid, 0)
    err = log.read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{scenario.name}: bifrost failed:\n{err}")
    m = re.search(r"peak_rss_kib=(\d+)", err)
    got = count_lines(out)
    if got != lines:
        sys.exit(f"{scenario.name}: {got} lines written of {lines}")
    return wall, ru.ru_utime + ru.ru_stime, int(m.group(1)) / 1024 if m else 0.0


def send_files(port, paths):
    """Everything in `paths` over one TCP connection (sendfile: the sender costs next to nothing)."""
    import socket
    with socket.create_connection(("127.0.0.1", port)) as s:
        for path in paths:
            with open(path, "rb") as f:
                s.sendfile(f)


def post_files(port, paths, clients=4):
    """Each file one POST (NDJSON), by `clients` curl processes side by side, each on one
    keep-alive connection; returns once every request was answered 200 (delivered)."""
    procs = []
    for c in range(clients):
        mine = paths[c::clients]
        if not mine:
            continue
        args = ["curl", "-sS", "--fail", "-o", "/dev/null", "-H", "Expect:"]
        for k, path in enumerate(mine):
            args += (["--next", "-sS", "--fail", "-o", "/dev/null", "-H", "Expect:"] if k else []) + [
                "--data-binary", f"@{path}", f"http://127.0.0.1:{port}/"]
        procs.append(subprocess.Popen(args))
    for pr in procs:
        if pr.wait() != 0:
            sys.exit("curl: a request was not answered 200")


def run_net(data, lines, work, runs, net_size):
    """stdin -> file beside nginx lines over one TCP connection -> file (target:
    at least 70% of stdin's MB/s), and syslog RFC 5424 over TCP and HTTP
    NDJSON pushes -> file, alternated (A B C D A B C D ...)."""
    scenarios = ROOT / "bench" / "scenarios"
    syslog_paths, syslog_lines, syslog_bytes = net_corpus(data, net_size, "syslog")
    ndjson_paths, ndjson_lines, ndjson_bytes = net_corpus(data, net_size, "ndjson")
    for paths in (syslog_paths, ndjson_paths):  # warm the page cache
        for path in paths:
            path.read_bytes()
    names = ["stdin -> file (json), beside the tcp row", "tcp (one connection) -> file (json)",
             f"syslog RFC 5424 over tcp (octet-counted) -> file (json), {net_size >> 20} MiB of nginx lines",
             f"http POST NDJSON, 1 MiB requests, 4 clients, acknowledged -> file (json), {net_size >> 20} MiB"]
    steps = [lambda: run_once(scenarios / "stdin_to_file.yaml", data, work)[:3],
             lambda: run_listening(scenarios / "tcp_to_file.yaml", work, lambda port: send_files(port, [data]), lines),
             lambda: run_listening(scenarios / "syslog_tcp_to_file.yaml", work,
                                   lambda port: send_files(port, syslog_paths), syslog_lines),
             lambda: run_listening(scenarios / "http_to_file.yaml", work, lambda port: post_files(port, ndjson_paths),
                                   ndjson_lines)]
    results = [[] for _ in names]
    for r in range(runs + 1):  # the first round warms up, not counted
        for k, step in enumerate(steps):
            got = step()
            if r > 0:
                results[k].append(got)
    return names, results, (syslog_lines, syslog_bytes, net_size), (ndjson_lines, ndjson_bytes, net_size)


def row(name, results, size, lines, mbps_target, rss_target):
    wall = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    rss = max(r[2] for r in results)
    mbps = size / 1e6 / wall
    met = (mbps_target is None or mbps >= mbps_target) and (rss_target is None or rss <= rss_target)
    target = ", ".join(([f">= {mbps_target} MB/s"] if mbps_target else []) +
                       ([f"<= {rss_target} MiB"] if rss_target else [])) or "(the reference)"
    return (name, lines / wall, mbps, cpu, cpu * (1 << 30) / size, rss, wall, "yes" if met else "NO", target)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1 << 30, help="corpus bytes (default 1 GiB)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pair-runs", type=int, default=5, help="runs of each side of the API-off/on pair")
    ap.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    ap.add_argument("--es-size", type=int, default=64 << 20, help="corpus bytes for the Elasticsearch rows")
    ap.add_argument("--influx-points", type=int, default=500_000, help="points for the InfluxDB rows")
    ap.add_argument("--s3-size", type=int, default=256 << 20, help="corpus bytes for the S3 rows (default 256 MiB)")
    ap.add_argument("--kafka-size", type=int, default=256 << 20, help="corpus bytes for the Kafka rows (default 256 MiB)")
    ap.add_argument("--net-size", type=int, default=256 << 20,
                    help="bytes of nginx lines for the syslog and http rows (default 256 MiB)")
    ap.add_argument("--hostile-size", type=int, default=16 << 20,
                    help="corpus bytes of the parse_regex hostile lines (default 16 MiB)")
    args = ap.parse_args()

    data, lines = corpus(args.size)
    with open(data, "rb") as f:  # warm the page cache: measure bifrost, not the disk
        while f.read(1 << 24):
            pass
    scenario = ROOT / "bench" / "scenarios" / "stdin_to_file.yaml"
    # (name, config, output path or None for a fresh file, tap arguments, feed, MB/s target, RSS target)
    scenarios = [
        ("stdin -> file (json)", scenario, None, None, "file", 500, 64),
        ("stdin -> file (json), written to /dev/null", scenario, os.devnull, None, "file", None, 64),
        ("file (tailed) -> file (json)", ROOT / "bench" / "scenarios" / "file_to_file.yaml", None, None, "tail", 500, 64),
        ("stdin -> parse_regex (10 groups) -> file (json)", ROOT / "bench" / "scenarios" / "parse_regex_to_file.yaml",
         None, None, "file", 150, 64),
        ("stdin (JSON lines) -> parse_json -> file (json)", ROOT / "bench" / "scenarios" / "parse_json_to_file.yaml",
         None, None, "file:json", 400, 64),
        ("stdin (base64 lines) -> decode_base64 -> file (json)", ROOT / "bench" / "scenarios" / "decode_base64_to_file.yaml",
         None, None, "file:base64", 300, 64),
        ("stdin (line protocol) -> parse_influx -> file (json)", ROOT / "bench" / "scenarios" / "parse_influx_to_file.yaml",
         None, None, "file:influx", None, 64),
        ("stdin (line protocol) -> parse_influx -> /dev/null (text: the parser alone)",
         ROOT / "bench" / "scenarios" / "parse_influx_to_file.yaml", os.devnull, None, "file:influx:text", None, 64),
    ]
    # The disk buffer's cost: file -> http with the buffer in memory and on
    # disk, alternated, against bifrost-bench-sink.
    http = [
        ("file (tailed) -> http, memory buffer", "memory"),
        ("file (tailed) -> http, disk buffer", "disk"),
    ]
    # The tap's cost: API off and API on with a tap, fed alike, run in
    # alternation (A B A B ...) so drifts of the machine hit both alike.
    pair = [
        ("stdin (pipe) -> file (json), API off", scenario, None, None, "pipe", None, 64),
        ("stdin (pipe) -> file (json), API on, tap attached", scenario, None, TAP, "pipe", None, 64),
    ]
    scenarios = [sc for sc in scenarios if args.only in sc[0]]
    http = [h for h in http if args.only in h[0]]
    if args.only and not any(args.only in sc[0] for sc in pair):
        pair = []
    rows = []
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        for name, scenario, out_path, tap, feed, mbps_target, rss_target in scenarios:
            results = []
            feed, _, fmt = feed.partition(":")  # "file:json": fed from a file of the json corpus
            fmt, _, encoding = fmt.partition(":")  # "file:influx:text": BENCH_ENCODING=text
            sc_data, sc_lines = corpus(args.size, fmt) if fmt else (data, lines)
            if fmt:
                with open(sc_data, "rb") as f:  # warm the page cache, as for the main corpus
                    while f.read(1 << 24):
                        pass
            env = {"BENCH_ENCODING": encoding} if encoding else None
            run_once(scenario, sc_data, work, out_path, tap, feed, env)  # warm-up, not counted
            for _ in range(args.runs):
                wall, cpu, rss, out_lines = run_once(scenario, sc_data, work, out_path, tap, feed, env)
                if out_lines != sc_lines:
                    sys.exit(f"{name}: {out_lines} events out of {sc_lines}")
                results.append((wall, cpu, rss))
            rows.append(row(name, results, args.size, sc_lines, mbps_target, rss_target))
        if http:
            http_results = run_http(http, data, lines, work, args.runs)
            for (name, _), res in zip(http, http_results):
                rows.append(row(name, res, args.size, lines, None, 64))
        regex_rows, hostile_row = [], None
        if not args.only or "regex" in args.only.lower():
            rnames, rres, hlines, hres = run_regex(data, lines, work, args.runs, args.hostile_size)
            reference = statistics.median(args.size / 1e6 / r[0] for r in rres[0])
            fluent_bit = statistics.median(args.size / 1e6 / r[0] for r in rres[2])
            targets = [(None, None), (None, 64), (4 * reference, 64), (0.9 * fluent_bit, 64)]
            for name, res, (mbps_target, rss_target) in zip(rnames, rres, targets):
                rows.append(row(name, res, args.size, lines, round(mbps_target) if mbps_target else None,
                                rss_target))
                regex_rows.append(rows[-1])
            rows.append(row("stdin (hostile lines) -> parse_regex (nested quantifiers) -> file (json)", hres,
                            args.hostile_size, hlines, None, 64))
            hostile_row = rows[-1]
        s3_rows = []
        if not args.only or "s3" in args.only.lower():
            sdata, slines = corpus(args.s3_size)
            snames, sres = run_s3(sdata, slines, work, args.runs)
            for name, res in zip(snames, sres):
                rows.append(row(name, res, args.s3_size, slines, None, 64))
                s3_rows.append(rows[-1])
        net_rows = []
        if not args.only or any(w in args.only.lower() for w in ("tcp", "syslog", "http push", "net")):
            nnames, nres, syslog_info, ndjson_info = run_net(data, lines, work, args.runs, args.net_size)
            rows.append(row(nnames[0], nres[0], args.size, lines, None, 64))
            net_rows.append(rows[-1])
            stdin_mbps = rows[-1][2]
            rows.append(row(nnames[1], nres[1], args.size, lines, round(0.7 * stdin_mbps), 64))
            net_rows.append(rows[-1])
            # MB/s of the nginx lines carried (not of the framing or JSON around them)
            rows.append(row(nnames[2], nres[2], syslog_info[2], syslog_info[0], None, 64))
            net_rows.append(rows[-1])
            rows.append(row(nnames[3], nres[3], ndjson_info[2], ndjson_info[0], None, None))
            net_rows.append(rows[-1])
        kafka_rows = []
        if not args.only or "kafka" in args.only.lower():
            kdata, klines = corpus(args.kafka_size)
            knames, kres = run_kafka(kdata, klines, work, args.runs)
            for name, res in zip(knames, kres):
                # kcat's RSS is not measured (wait4 would count this Python's too).
                rss_target = None if "kcat" in name else 128 if "Kafka -> file" in name else 64
                rows.append(row(name, res, args.kafka_size, klines, None, rss_target))
                kafka_rows.append(rows[-1])
        eo_rows = []
        if not args.only or "exactly" in args.only.lower():
            edata, elines = corpus(args.kafka_size)
            enames, eres = run_exactly_once(edata, elines, work, args.runs)
            for name, res in zip(enames, eres):
                rows.append(row(name, res, args.kafka_size, elines, None, None))
                eo_rows.append(rows[-1])
        es_rows = []
        if not args.only or "elastic" in args.only.lower():
            edata, elines = corpus(args.es_size)
            enames, eres = run_es(edata, elines, work, args.runs)
            for name, res in zip(enames, eres):
                rows.append(row(name, res, args.es_size, elines, None, None if "curl" in name else 64))
                es_rows.append(rows[-1])
        influx_rows = []
        if not args.only or "influx" in args.only.lower():
            inames, ires, isize = run_influx(work, args.runs, args.influx_points)
            for name, res in zip(inames, ires):
                rows.append(row(name, res, isize, args.influx_points, None, None if "curl" in name else 64))
                influx_rows.append(rows[-1])
        aggregate_rows = []
        if not args.only or "aggregate" in args.only:
            ares = run_aggregate(data, lines, work, args.runs)
            aggregate_rows.append(row("stdin -> parse_regex (10 groups) -> file (json), alternated with the next",
                                      ares[0], args.size, lines, None, 64))
            rows.append(aggregate_rows[-1])
            target = round(aggregate_rows[0][2])
            aggregate_rows.append(row("stdin -> parse_regex -> aggregate (10 metrics, 65 groups) -> file (json)",
                                      ares[1], args.size, lines, target, 64))
            rows.append(aggregate_rows[-1])
        dedupe = None
        if not args.only or "dedupe" in args.only:
            dnames, dres, dsize, dn, ddropped = run_dedupe(work, args.runs)
            for name, res in zip(dnames, dres):
                rows.append(row(name, res, dsize, dn, None, None))
            rss = [statistics.median(r[2] for r in res) for res in dres]
            dedupe = (rss[1] - rss[0], bloom_bytes(dn, 0.01) / (1 << 20), ddropped / dn)
        telegraf_rows = []
        if not args.only or "telegraf" in args.only.lower() or "line protocol" in args.only.lower():
            tnames, tres, tsize = run_telegraf(work, args.runs, args.influx_points)
            for name, res in zip(tnames, tres):
                # The Kafka input holds its prefetch (librdkafka), as in the Kafka -> file row.
                rows.append(row(name, res, tsize, args.influx_points, None, None if "curl" in name else 128))
                telegraf_rows.append(rows[-1])
        pair_results = [[], []]
        for k, sc in enumerate(pair):
            run_once(sc[1], data, work, sc[2], sc[3], sc[4])  # warm-up, not counted
        for _ in range(args.pair_runs):
            for k, (name, scenario, out_path, tap, feed, _, _) in enumerate(pair):
                wall, cpu, rss, out_lines = run_once(scenario, data, work, out_path, tap, feed)
                if out_lines != lines:
                    sys.exit(f"{name}: {out_lines} events out of {lines}")
                pair_results[k].append((wall, cpu, rss))
        for k, sc in enumerate(pair):
            rows.append(row(sc[0], pair_results[k], args.size, lines, sc[5], sc[6]))
    header = ("scenario", "events/s", "MB/s in", "CPU s", "CPU s/GiB", "peak RSS MiB", "wall s", "target met", "target")
    print(f"corpus: {data.name}, {args.size} bytes, {lines} lines; median of {args.runs} runs "
          f"({args.pair_runs} alternated for the API pair); {os.cpu_count()} cores")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, eps, mbps, cpu, cpu_gib, rss, wall, ok, target in rows:
        print(f"| {name} | {eps:,.0f} | {mbps:.0f} | {cpu:.2f} | {cpu_gib:.2f} | {rss:.1f} | "
              f"{wall:.2f} | {ok} | {target} |")
    disk = next((r for r in rows if "disk buffer" in r[0]), None)
    mem = next((r for r in rows if "memory buffer" in r[0]), None)
    if disk and mem:
        print(f"file -> http: the disk path runs at {disk[2] / mem[2] * 100:.0f}% of the memory path's rate (target >= 50%)")
    if regex_rows:
        alone, re2_row, fb, grok = regex_rows
        print(f"parse_regex, Fluent Bit's nginx regex: {fb[2]:.0f} MB/s, {fb[2] / alone[2]:.1f}x RE2 alone on one "
              f"core ({alone[2]:.0f} MB/s; target >= 4x) and {fb[2] / re2_row[2]:.1f}x bifrost with engine: re2; "
              f"the named-pattern form at {grok[2] / fb[2] * 100:.0f}% of it (target >= 90%)")
        print(f"parse_regex, hostile lines: {hostile_row[6]:.1f} s for {hostile_row[1] * hostile_row[6]:,.0f} lines, "
              f"{hostile_row[6] / (hostile_row[1] * hostile_row[6]) * 1e6:.0f} us per line (each past PCRE2's "
              f"match limits goes to RE2)")
    if s3_rows:
        g, z, n = s3_rows
        print(f"S3 ({args.s3_size >> 20} MiB): gzip runs at {g[2] / n[2] * 100:.0f}% and zstd at "
              f"{z[2] / n[2] * 100:.0f}% of uncompressed objects' MB/s")
    if net_rows:
        st, tcp, sy, ht = net_rows
        print(f"network inputs: tcp -> file at {tcp[2] / st[2] * 100:.0f}% of stdin -> file in the same run "
              f"(target >= 70%); syslog over tcp {sy[1]:,.0f} events/s, {sy[2]:.0f} MB/s of lines; "
              f"http push {ht[1]:,.0f} events/s, {ht[2]:.0f} MB/s of lines")
    if kafka_rows:
        kp, bp, kc, bc = kafka_rows
        print(f"Kafka ({args.kafka_size >> 20} MiB): file -> Kafka at {bp[2] / kp[2] * 100:.0f}% of kcat -P, "
              f"Kafka -> file at {bc[2] / kc[2] * 100:.0f}% of kcat -C (target >= 80%)")
    if eo_rows:
        fp, fe, fe1, kp, ke, ke1 = eo_rows
        print(f"exactly_once ({args.kafka_size >> 20} MiB), of the same pipeline without it (target >= 70%): "
              f"file -> Kafka at {fe[2] / fp[2] * 100:.0f}% (100ms) and {fe1[2] / fp[2] * 100:.0f}% (1s); "
              f"Kafka -> Kafka at {ke[2] / kp[2] * 100:.0f}% (100ms) and {ke1[2] / kp[2] * 100:.0f}% (1s)")
    if es_rows:
        c, b = es_rows
        print(f"Elasticsearch ({args.es_size >> 20} MiB): bifrost at {b[1] / c[1] * 100:.0f}% of curl's docs/s "
              f"(target >= 90%)")
    if influx_rows:
        c, b = influx_rows
        print(f"InfluxDB ({args.influx_points} points): bifrost at {b[1] / c[1] * 100:.0f}% of curl's points/s "
              f"(target >= 90%)")
    if aggregate_rows:
        plain, rollup = aggregate_rows
        print(f"aggregate: {rollup[2] / plain[2] * 100:.0f}% of parse_regex -> file's rate in the same run "
              f"(target >= 100%), peak RSS {rollup[5]:.1f} MiB (target <= 64)")
    if dedupe:
        measured, formula, fp = dedupe
        print(f"dedupe bloom, 10M distinct keys at 1%: the filter takes {measured:.1f} MiB (peak RSS difference, "
              f"medians), the formula says {formula:.1f} MiB: {(measured / formula - 1) * 100:+.1f}% (target within "
              f"10%); {fp * 100:.2f}% of the new keys taken for seen ones (false_positive_rate 1%)")
    if telegraf_rows:
        c, b = telegraf_rows
        print(f"Telegraf line protocol ({args.influx_points} points): Kafka -> InfluxDB at "
              f"{b[1] / c[1] * 100:.0f}% of curl's points/s")
    if not pair:
        return
    base = next(r for r in rows if r[0] == "stdin (pipe) -> file (json), API off")
    tapped = next(r for r in rows if "tap attached" in r[0])
    cost = (1 - tapped[2] / base[2]) * 100
    print(f"API on with a tap attached costs {cost:.1f}% of throughput (target <= 3%)")


if __name__ == "__main__":
    main()
