"""The kafka input and output against a real Apache Kafka broker
(tests/services/kafka.sh: KRaft, single node, 3 partitions per new topic),
with kcat as the outside client."""
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from e2e import ROOT, Daemon, free_port, lines, run, wait_for, whole_lines, write
from realservices import service
from sink_down import Feed, feed_through_an_outage, peak_rss_kib

# Event times from a day ago (whole seconds), so that the output's max_past
# (7 days) and max_future (1h) keep them as the record times: a million
# lines 10 ms apart span under three hours.
BASE_MS = (int(time.time()) - 86_400) * 1000


def kcat(kafka, *args, input=None, timeout=300):
    p = subprocess.run(["kcat", "-b", kafka, *args], input=input, capture_output=True, timeout=timeout)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


def consume(kafka, topic, fmt="%s\\n"):
    """Every record of the topic so far, formatted by kcat's -f."""
    p = subprocess.run(["kcat", "-b", kafka, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt],
                       capture_output=True, timeout=300)
    if p.returncode != 0:  # the topic does not exist yet
        return []
    return p.stdout.decode().splitlines()


def wait_records(kafka, topic, n, timeout=120, fmt="%s\\n"):
    got = []

    def enough():
        nonlocal got
        got = consume(kafka, topic, fmt)
        return len(got) >= n
    assert wait_for(enough, timeout), f"{len(got)} records of {n} in {topic} after {timeout}s"
    return got


def produce(kafka, topic, text, key_delim=None):
    args = ["-P", "-t", topic] + (["-K", key_delim] if key_delim else [])
    kcat(kafka, *args, input=text.encode())


def file_to_kafka(tmp, kafka, topic, log, extra_output="", filters="", data="data", end_at_eof=True):
    return write(tmp / "f2k.yaml", f"""
data_dir: {tmp / data}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"], end_at_eof: {str(end_at_eof).lower()}}}
filters:
  - id: parse
    type: parse_regex
    pattern: '^(?P<ts>\\d+) (?P<k>\\S+) (?P<n>\\d+)$'
    types: {{n: int}}
  - {{id: time, type: parse_timestamp, field: ts, formats: [unix_ms]}}
{filters}
outputs:
  - id: kafka
    type: kafka
    brokers: [{kafka}]
    topic: {topic}
    key: "{{{{k}}}}"
    encoding: text
{extra_output}
""")


def kafka_to_file(tmp, kafka, topics, out, group, extra="", name="k2f.yaml", data="data", api="off"):
    return write(tmp / name, f"""
data_dir: {tmp / data}
api: {{listen: "{api}"}}
inputs:
  - id: kafka
    type: kafka
    brokers: {kafka}
    topics: {json.dumps(topics)}
    group_id: {group}
{extra}
outputs:
  - {{id: out, type: file, path: "{out}"}}
""")


def numbered_lines(n, keys=5, start=0, step_ms=10):
    return "".join(f"{BASE_MS + i * step_ms} k{i % keys} {i}\n" for i in range(start, start + n))


def check_in_order_per_key(records, n):
    """records: 'partition offset timestamp key value' lines; every line once, in order per key."""
    per_key = {}
    seen = set()
    for r in records:
        p, o, ts, k, v = r.split("\t")
        ms, key, i = v.split(" ")
        assert key == k, r
        assert int(ts) == int(ms), f"record time {ts} is not the event time {ms}: {r}"
        per_key.setdefault(k, []).append((int(p), int(o), int(i)))
        seen.add(int(i))
    assert seen == set(range(n)), f"{n - len(seen)} lines missing"
    for k, recs in per_key.items():
        assert len({p for p, _, _ in recs}) == 1, f"key {k} spread over partitions"
        ordered = [i for _, _, i in sorted(recs)]
        assert ordered == sorted(ordered), f"key {k} out of order"


FMT = "%p\\t%o\\t%T\\t%k\\t%s\\n"


def test_file_to_kafka_a_million_lines_arrive_in_order_per_key_with_event_times(bifrost, tmp_path, kafka, topic):
    n = 1_000_000
    log = tmp_path / "app.log"
    log.write_text(numbered_lines(n))
    r = run(bifrost, "run", "-c", file_to_kafka(tmp_path, kafka, topic, log), timeout=600)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    records = wait_records(kafka, topic, n, fmt=FMT)
    assert len(records) == n  # and not more: no duplicates
    check_in_order_per_key(records, n)
    assert len({r.split("\t")[0] for r in records}) == 3  # the keys spread over the topic's partitions


def test_kafka_to_file_a_million_records_from_kcat_arrive(bifrost, tmp_path, kafka, topic):
    n = 1_000_000
    produce(kafka, topic, "".join(f"k{i % 7}\tvalue {i}\n" for i in range(n)), key_delim="\t")
    out = tmp_path / "out.ndjson"
    d = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [topic], out, "g-" + topic))
    assert wait_for(lambda: len(lines(out)) >= n, 300), f"{len(lines(out))} of {n}"
    d.stop()
    events = [json.loads(x) for x in lines(out)]
    assert len(events) == n
    assert {e["message"] for e in events} == {f"value {i}" for i in range(n)}
    last = {}
    for e in events:  # in offset order per partition; metadata as documented
        k = e["kafka"]
        assert k["topic"] == topic and k["key"] == f"k{int(e['message'].split()[1]) % 7}"
        assert k["offset"] > last.get(k["partition"], -1)
        last[k["partition"]] = k["offset"]


def messages(out):
    """The messages of the output file; a line a kill -9 cut short (the file
    output ends it with a newline when it starts again) is left out."""
    got = []
    for x in lines(out):
        try:
            got.append(json.loads(x)["message"])
        except ValueError:
            pass
    return got


def test_kafka_input_restart_and_kill_9_lose_nothing(bifrost, tmp_path, kafka, topic):
    n = 300_000
    produce(kafka, topic, "".join(f"value {i}\n" for i in range(n)))
    out = tmp_path / "out.ndjson"
    # Static membership: a restarted bifrost takes its partitions back at
    # once instead of waiting for the killed one's session to time out.
    cfg = kafka_to_file(tmp_path, kafka, [topic], out, "g-" + topic,
                        extra="    librdkafka: {group.instance.id: bifrost-test}")
    stops = kills = 0
    size = lambda: out.stat().st_size if out.exists() else 0  # cheaper to poll than counting lines
    while size() < 0.6 * n * 150:  # a record is about 150 bytes of JSON
        first_of_run = len(messages(out))
        d = Daemon(bifrost, cfg)
        before = size()
        assert wait_for(lambda: size() > before + 500_000, 60), "no progress after a restart"
        if stops % 2 == 0:
            d.p.send_signal(signal.SIGKILL)
            d.p.wait()
            kills += 1
        else:
            # A clean stop: everything this run delivered is committed, so
            # none of it comes again in the next run.
            d.stop()
            at_stop = messages(out)
            this_run = set(at_stop[first_of_run:])
            before_restart = size()
            d = Daemon(bifrost, cfg)
            assert wait_for(lambda: size() > before_restart, 60)
            d.p.send_signal(signal.SIGKILL)
            d.p.wait()
            kills += 1
            again = this_run & set(messages(out)[len(at_stop):])
            assert not again, f"{len(again)} records delivered before a clean stop came again"
        stops += 1
    d = Daemon(bifrost, cfg)  # a last run to take whatever is left
    assert wait_for(lambda: len(set(messages(out))) >= n, 120)
    d.stop()
    got = messages(out)
    assert set(got) == {f"value {i}" for i in range(n)}
    partial = len(lines(out)) - len(got)
    assert partial <= kills  # at most one line cut short by each kill -9 of the file output
    print(f"{stops} rounds: {kills} kill -9, {stops // 2} clean stops: {len(got) - n} duplicates of {n}")
    assert stops >= 3


def test_file_to_kafka_kill_9_mid_stream_loses_nothing(bifrost, tmp_path, kafka, topic):
    n = 300_000
    log = tmp_path / "app.log"
    log.write_text(numbered_lines(n))
    cfg = file_to_kafka(tmp_path, kafka, topic, log)
    for delay in (0.5, 1.0):
        d = Daemon(bifrost, cfg)
        time.sleep(delay)
        d.p.send_signal(signal.SIGKILL)
        d.p.wait()
    r = run(bifrost, "run", "-c", cfg, timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    records = wait_records(kafka, topic, n, fmt="%s\\n")
    assert {int(x.split()[2]) for x in records} == set(range(n))
    print(f"file -> kafka, 2 x kill -9: {len(records) - n} duplicates of {n}")


def test_start_at_a_time_delivers_exactly_the_later_records(bifrost, tmp_path, kafka, topic):
    # 720 records with event times one every 30 s over 6 hours, produced by
    # bifrost itself (record time = event time).
    now_ms = int(time.time() * 1000)
    first = now_ms - 6 * 3600 * 1000
    log = tmp_path / "app.log"
    log.write_text("".join(f"{first + i * 30_000} k{i % 3} {i}\n" for i in range(720)))
    r = run(bifrost, "run", "-c", file_to_kafka(tmp_path, kafka, topic, log), timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    wait_records(kafka, topic, 720)

    # An RFC 3339 time: exactly the records at or after it.
    cut = first + 400 * 30_000
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cut // 1000)) + f".{cut % 1000:03d}Z"
    out = tmp_path / "out.ndjson"
    d = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [topic], out, "g1-" + topic, extra=f"    start_at: '{stamp}'"))
    assert wait_for(lambda: len(lines(out)) >= 320, 60), len(lines(out))
    time.sleep(1)
    d.stop()
    got = sorted(int(json.loads(x)["message"].split()[2]) for x in lines(out))
    assert got == list(range(400, 720))

    # A negative duration, -2h: the records of the last two hours (240 of
    # them, give or take the one at the edge while the test runs).
    out2 = tmp_path / "out2.ndjson"
    d = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [topic], out2, "g2-" + topic, extra="    start_at: -2h",
                                      name="k2f2.yaml", data="data2"))
    assert wait_for(lambda: len(lines(out2)) >= 238, 60), len(lines(out2))
    time.sleep(1)
    d.stop()
    got = sorted(int(json.loads(x)["message"].split()[2]) for x in lines(out2))
    assert 238 <= len(got) <= 241 and got == list(range(720 - len(got), 720))

    # The group now has committed offsets: they win over start_at...
    d = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [topic], out, "g1-" + topic, extra="    start_at: earliest"))
    time.sleep(4)
    d.stop()
    assert len(lines(out)) == 320
    # ...unless reset: true.
    d = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [topic], out, "g1-" + topic,
                                      extra="    start_at: earliest\n    reset: true"))
    assert wait_for(lambda: len(lines(out)) >= 320 + 720, 60), len(lines(out))
    d.stop()


def test_broker_stopped_for_30s_during_file_to_kafka_loses_nothing(bifrost, tmp_path, kafka, topic):
    log = tmp_path / "app.log"
    log.write_text("")
    cfg = file_to_kafka(tmp_path, kafka, topic, log, end_at_eof=False,
                        extra_output="    retry: {initial_backoff: 200ms, max_backoff: 2s}\n    message_timeout: 5s")
    d = Daemon(bifrost, cfg)
    # 2 s of lines before the outage, 30 s down while lines keep coming, 2 s after
    written = feed_through_an_outage(Feed(log, lambda k, start: numbered_lines(k, start=start)), "kafka", 30,
                                     before=(20, 1000), during=1000, after=(20, 1000))
    records = wait_records(kafka, topic, written, timeout=180)
    err = d.stop()
    assert {int(x.split()[2]) for x in records} == set(range(written))
    rss = peak_rss_kib(err)
    print(f"broker down 30 s: {written} lines, {len(records) - written} duplicates, peak RSS {rss // 1024} MiB")
    assert rss < (400 if "asan" in bifrost else 200) * 1024, f"peak RSS {rss} KiB"


def test_kafka_to_kafka_routes_one_unified_topic_into_several_by_when(bifrost, tmp_path, kafka, topic):
    jobs = ["api", "db", "web"]
    n = 3000
    produce(kafka, topic, "".join(json.dumps({"message": f"m{i}", "job": jobs[i % 3], "i": i}) + "\n" for i in range(n)))
    outs = "".join(f"""
  - id: to_{j}
    type: kafka
    brokers: [{kafka}]
    topic: {topic}-{j}
    when: 'job == "{j}"'
""" for j in jobs)
    cfg = write(tmp_path / "k2k.yaml", f"""
data_dir: {tmp_path / "data"}
api: {{listen: "off"}}
inputs:
  - {{id: unified, type: kafka, brokers: {kafka}, topics: ["{topic}"], group_id: g-{topic}, decoding: json}}
outputs:{outs}
""")
    d = Daemon(bifrost, cfg)
    for j in jobs:
        got = [json.loads(x) for x in wait_records(kafka, f"{topic}-{j}", n // 3)]
        assert {e["job"] for e in got} == {j}
        assert sorted(e["i"] for e in got) == [i for i in range(n) if jobs[i % 3] == j]
        assert all(e["kafka"]["topic"] == topic for e in got)  # where it came from, kept
    d.stop()


def test_a_record_too_large_is_rejected_to_the_failed_queue_and_the_rest_delivered(bifrost, tmp_path, kafka, topic):
    log = tmp_path / "app.log"
    big = 5000
    log.write_text(numbered_lines(10) + f"{BASE_MS} kbig {10}{'0' * big}\n" + numbered_lines(10, start=11))
    cfg = file_to_kafka(tmp_path, kafka, topic, log, extra_output="    librdkafka: {message.max.bytes: 2000}")
    r = run(bifrost, "run", "-c", cfg, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    records = wait_records(kafka, topic, 20)
    assert sorted(int(x.split()[2]) for x in records) == [i for i in range(21) if i != 10]
    segs = sorted((tmp_path / "data" / "failed" / "main" / "kafka").glob("*.ndjson"))
    parked = [json.loads(x) for s in segs for x in s.read_text().splitlines()]
    assert len(parked) == 1 and parked[0]["event"]["k"] == "kbig"
    assert "too large" in parked[0]["error"].lower(), parked[0]["error"]


def test_librdkafka_passthrough_is_checked_at_load(bifrost, tmp_path):
    cfg = write(tmp_path / "bad.yaml", """
outputs:
  - id: k
    type: kafka
    brokers: [127.0.0.1:9]
    topic: t
    librdkafka:
      linger.ms: 5
      no.such.property: 1
      compression.codec: bogus
inputs:
  - {id: in, type: kafka, brokers: 127.0.0.1:9, topics: [t], start_at: yesterday}
""")
    r = run(bifrost, "validate", "-c", cfg)
    assert r.returncode == 2, r
    err = r.stderr.decode()
    assert re.search(r"bad\.yaml:9:7: .*unknown librdkafka property \"no\.such\.property\"", err), err
    assert re.search(r"bad\.yaml:10:26: .*compression\.codec", err), err
    assert re.search(r"bad\.yaml:12:72: .*expected earliest, latest, an RFC 3339 time", err), err


def test_topics_by_regex_and_the_lag_of_each_partition(bifrost, tmp_path, kafka, topic):
    for name, n in ((f"{topic}-a", 300), (f"{topic}-b", 200)):
        produce(kafka, name, "".join(f"{name} {i}\n" for i in range(n)))
    out = tmp_path / "out.ndjson"
    port = free_port()
    d = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [f"^{topic}-.*"], out, "g-" + topic, api=f"127.0.0.1:{port}"))
    assert wait_for(lambda: len(lines(out)) >= 500, 60), len(lines(out))

    def lag():
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        return {(m.group(1), m.group(2)): float(m.group(3)) for m in re.finditer(
            r'bifrost_kafka_consumer_lag\{pipeline="main",component="kafka",topic="([^"]+)",partition="(\d+)"\} (\S+)',
            text)}
    assert wait_for(lambda: len(lag()) == 6 and all(v == 0 for v in lag().values()), 10), lag()
    produce(kafka, f"{topic}-a", "".join(f"late {i}\n" for i in range(50)))
    assert wait_for(lambda: len(lines(out)) >= 550, 30)
    d.stop()
    got = [json.loads(x) for x in lines(out)]
    assert {e["kafka"]["topic"] for e in got} == {f"{topic}-a", f"{topic}-b"}
    assert len(got) == 550


def test_the_kafka_clients_statistics_are_on_metrics_beside_the_lag(bifrost, tmp_path, kafka, topic):
    """librdkafka's statistics of both directions: per broker round trips,
    requests and bytes; the consumer's fetched messages. promtool-clean."""
    produce(kafka, topic, "".join(f"r {i}\n" for i in range(1000)))
    out = tmp_path / "out.ndjson"
    port = free_port()
    cfg = write(tmp_path / "k2k.yaml", f"""
data_dir: {tmp_path / "data"}
api: {{listen: "127.0.0.1:{port}"}}
inputs:
  - id: kafka
    type: kafka
    brokers: {kafka}
    topics: [{topic}]
    group_id: g-{topic}
    librdkafka: {{statistics.interval.ms: 500}}
outputs:
  - {{id: out, type: file, path: "{out}"}}
  - {{id: copy, type: kafka, brokers: {kafka}, topic: {topic}-copy, librdkafka: {{statistics.interval.ms: 500}}}}
""")
    d = Daemon(bifrost, cfg)
    assert wait_for(lambda: len(lines(out)) >= 1000, 60), len(lines(out))

    def scrape():
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()

    def value(text, name, component, extra=""):
        m = re.search(rf'^{name}\{{pipeline="main",component="{component}"{extra}\}} (\S+)$', text, re.M)
        return float(m.group(1)) if m else None

    broker = r',broker="127\.0\.0\.1:\d+"'
    assert wait_for(lambda: (value(scrape(), "bifrost_kafka_consumer_fetched_messages_total", "kafka") or 0) >= 1000,
                    20), scrape()
    assert wait_for(lambda: (value(scrape(), "bifrost_kafka_broker_requests_total", "copy", broker) or 0) > 0, 20)
    text = scrape()
    for component in ("kafka", "copy"):
        assert value(text, "bifrost_kafka_broker_rtt_seconds", component, broker) is not None, text
        assert value(text, "bifrost_kafka_broker_bytes_sent_total", component, broker) > 0
        assert value(text, "bifrost_kafka_broker_bytes_received_total", component, broker) > 0
    assert value(text, "bifrost_kafka_consumer_fetched_bytes_total", "kafka") > 0
    assert value(text, "bifrost_kafka_consumer_fetched_messages_total", "copy") is None  # a producer fetches nothing
    assert re.search(r'^bifrost_kafka_consumer_lag\{pipeline="main",component="kafka",topic=', text, re.M), text
    check = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"], input=text.encode(),
                           capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    d.stop()


def test_two_instances_in_one_group_share_the_partitions_and_lose_nothing(bifrost, tmp_path, kafka, topic):
    n = 100_000
    produce(kafka, topic, "".join(f"value {i}\n" for i in range(n)))
    out_a, out_b = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    a = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [topic], out_a, "g-" + topic, name="a.yaml", data="data-a"))
    assert wait_for(lambda: len(lines(out_a)) > 1000, 60)
    # A second member joins: the group rebalances; A commits what it
    # finished before its partitions go, and B starts from there.
    b = Daemon(bifrost, kafka_to_file(tmp_path, kafka, [topic], out_b, "g-" + topic, name="b.yaml", data="data-b"))
    assert wait_for(lambda: "assigned" in b.logged(), 60), "the second member never got partitions"
    produce(kafka, topic, "".join(f"value {i}\n" for i in range(n, 2 * n)))  # spread over all 3 partitions
    assert wait_for(lambda: len(set(messages(out_a)) | set(messages(out_b))) >= 2 * n, 180)
    err_a, _ = a.stop(), b.stop()
    got_a, got_b = messages(out_a), messages(out_b)
    assert set(got_a) | set(got_b) == {f"value {i}" for i in range(2 * n)}
    assert got_b, "the second member read nothing"
    assert "revoked" in err_a
    dups = len(got_a) + len(got_b) - 2 * n
    print(f"two members, one rebalance: {len(got_a)} + {len(got_b)} records, {dups} duplicates of {2 * n}")
    assert dups <= 0.1 * n


def test_held_back_by_a_sink_that_is_down_the_consumer_pauses_and_stays_in_the_group(bifrost, tmp_path, kafka, topic):
    # The sink answers 503 for 20 s, far longer than max.poll.interval.ms
    # (7 s here): a consumer that stopped polling while held back would be
    # thrown out of the group. bifrost pauses its partitions and keeps polling.
    n = 50_000
    produce(kafka, topic, "".join(f"event {i}\n" for i in range(n)))
    port = free_port()
    received = tmp_path / "received.ndjson"
    sink = subprocess.Popen([sys.executable, str(ROOT / "tests" / "services" / "http_sink.py"), str(port),
                             str(received)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert sink.stdout.readline().strip() == b"ready"

    def control(**kw):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/_control", data=json.dumps(kw).encode(), method="POST")
        assert urllib.request.urlopen(req, timeout=5).read() == b"ok"

    try:
        control(status=503)
        cfg = write(tmp_path / "k2h.yaml", f"""
data_dir: {tmp_path / "data"}
api: {{listen: "off"}}
inputs:
  - id: kafka
    type: kafka
    brokers: {kafka}
    topics: ["{topic}"]
    group_id: g-{topic}
    librdkafka: {{session.timeout.ms: 6000, max.poll.interval.ms: 7000}}
outputs:
  - id: hook
    type: http
    url: http://127.0.0.1:{port}/ingest
    retry: {{initial_backoff: 100ms, max_backoff: 1s}}
""")
        d = Daemon(bifrost, cfg)
        time.sleep(20)
        control(status=200)
        messages_in = lambda: {json.loads(x)["message"] for x in whole_lines(received)}  # the sink may be mid-line
        ok = wait_for(lambda: len(messages_in()) >= n, 120)
        err = d.stop()
        assert ok, f"{len(messages_in())} of {n}:\n{err[-3000:]}"
    finally:
        sink.kill()
        sink.wait()
    got = [json.loads(x)["message"] for x in lines(received)]
    assert sorted(set(got)) == sorted(f"event {i}" for i in range(n))
    assert "poll interval" not in err.lower(), err[-2000:]
    assert err.count("assigned") == 1, "the group rebalanced while the consumer was held back"
    rss = peak_rss_kib(err)
    print(f"held back 20 s: {len(got)} events for {n}, one assignment, peak RSS {rss // 1024} MiB")
