"""`exactly_once: true` on the kafka output against the real broker
(tests/services/kafka.sh): Kafka -> Kafka split by a field into three topics
and file -> Kafka, each through several kill -9s, read back by kcat as a
read_committed consumer: every input record exactly once, in order per key."""
import collections
import json
import re
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from e2e import Daemon, free_port, run, wait_for, write
from realservices import service

KINDS = "abc"


def kcat(kafka, *args, input=None, timeout=300):
    p = subprocess.run(["kcat", "-b", kafka, *args], input=input, capture_output=True, timeout=timeout)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


def committed(kafka, topic, fmt="%k %s\\n"):
    """What a read_committed consumer sees of the topic (aborted records are not)."""
    p = subprocess.run(["kcat", "-b", kafka, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                        "-X", "isolation.level=read_committed", "-f", fmt], capture_output=True, timeout=300)
    return p.stdout.decode().splitlines() if p.returncode == 0 else []


def metric(port, name, **labels):
    """The value of one series of bifrost's /metrics (0 while it is not there or bifrost is not up)."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return 0.0
    want = "".join(f',{k}="{v}"' for k, v in labels.items())
    for m in re.finditer(r'^' + name + r'\{pipeline="main"((?:,\w+="[^"]*")*)\} (\S+)$', text, re.M):
        if all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()) or not want:
            return float(m.group(2))
    return 0.0


def delivered(port):
    return metric(port, "bifrost_events_out_total", component="split")


def kafka_to_kafka(tmp, kafka, source, out_prefix, group, port, name="k2k.yaml", data="data", member=""):
    return write(tmp / name, f"""
data_dir: {tmp / data}
api: {{listen: "127.0.0.1:{port}"}}
inputs:
  - id: src
    type: kafka
    brokers: [{kafka}]
    topics: [{source}]
    group_id: {group}
    librdkafka: {{session.timeout.ms: "6000"{member}}}
filters:
  - {{id: parse, type: parse_regex, pattern: '^(?P<k>\\S+) (?P<n>\\d+) (?P<kind>\\w)$'}}
outputs:
  - id: split
    type: kafka
    brokers: [{kafka}]
    topic: "{out_prefix}-{{{{kind}}}}"
    key: "{{{{k}}}}"
    encoding: text
    exactly_once: true
    # Long transactions: a kill mid-stream always finds one open with records.
    transaction_interval: 1s
""")


def check_exactly_once_in_order(records, n):
    """records: 'key value' lines of the output topics, value 'k n kind'. Every n once; per key and topic in order."""
    seen = collections.Counter()
    last = {}
    for r in records:
        key, k, num, kind = r.split()
        assert key == k, r
        num = int(num)
        seen[num] += 1
        assert last.get((kind, key), -1) < num, f"{r} after {last[(kind, key)]}: out of order"
        last[(kind, key)] = num
    dups = {x: c for x, c in seen.items() if c > 1}
    assert not dups, f"{len(dups)} records more than once, e.g. {list(dups.items())[:5]}"
    missing = n - len(seen)
    assert missing == 0 and set(seen) == set(range(n)), f"{missing} of {n} records missing"


def kill_when(d, port, at_least, timeout=120):
    """kill -9 the daemon once its output delivered `at_least` events in this run."""
    assert wait_for(lambda: delivered(port) >= at_least or d.p.poll() is not None, timeout), \
        f"no progress: {delivered(port)} delivered\n" + d.logged()[-3000:]
    assert d.p.poll() is None, d.logged()[-3000:]
    d.p.send_signal(signal.SIGKILL)
    d.p.wait()


class PacedProducer(threading.Thread):
    """Produces the n source records in chunks, one every `pause` seconds, so
    the kills and the rebalance land while records are still coming."""

    def __init__(self, kafka, topic, n, chunks=50, pause=0.15):
        super().__init__(daemon=True)
        self.kafka, self.topic, self.n, self.chunks, self.pause = kafka, topic, n, chunks, pause
        self.error = None

    def run(self):
        try:
            per = self.n // self.chunks
            for c in range(self.chunks):
                hi = self.n if c == self.chunks - 1 else (c + 1) * per
                data = "".join(f"k{i % 7}:k{i % 7} {i} {KINDS[i % 3]}\n" for i in range(c * per, hi))
                kcat(self.kafka, "-P", "-t", self.topic, "-K:", "-z", "lz4", input=data.encode())
                time.sleep(self.pause)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


@pytest.mark.parametrize("n", [1_000_000, 100_000], ids=["1M", "100k"])
def test_kafka_to_kafka_split_in_three_is_exactly_once_across_five_kill_9s_and_a_member_joining_and_leaving(
        bifrost, tmp_path, kafka, topic, n):
    source, out, group = topic, topic + "-out", "g-" + topic
    # The topic exists (3 partitions, auto-created on a metadata request) before the group reads it.
    assert wait_for(lambda: "with 3 partitions" in kcat(kafka, "-L", "-t", source).decode(), 30)
    port, port_b = free_port(), free_port()
    # A is a static member: restarted after a kill it takes its partitions
    # back at once. B is dynamic: its clean stop leaves the group at once.
    cfg = kafka_to_kafka(tmp_path, kafka, source, out, group, port, member=", group.instance.id: bifrost-a")
    producer = PacedProducer(kafka, source, n)
    producer.start()
    t0 = time.monotonic()
    for kill in range(5):
        d = Daemon(bifrost, cfg)
        assert wait_for(lambda: delivered(port) > 0, 120), d.logged()[-3000:]
        if kill == 2:
            # A second member joins while A runs (the group rebalances: A's
            # open transaction ends before its partitions go), delivers,
            # and leaves (they come back to A).
            b = Daemon(bifrost, kafka_to_kafka(tmp_path, kafka, source, out, group, port_b, name="b.yaml",
                                               data="data-b"))
            assert wait_for(lambda: delivered(port_b) > 0, 120), "the second member delivered nothing\n" + \
                b.logged()[-3000:]
            b_log = b.stop()
            assert "assigned" in b_log and "revoked" in d.logged(), b_log[-3000:]
        time.sleep(0.3 + 0.2 * kill)  # mid-stream, at a different point of a transaction each time
        assert d.p.poll() is None, d.logged()[-3000:]
        d.p.send_signal(signal.SIGKILL)
        d.p.wait()
        print(f"kill {kill + 1} at {time.monotonic() - t0:.1f}s")
    producer.join()
    assert producer.error is None, producer.error
    print(f"produced at {time.monotonic() - t0:.1f}s")
    d = Daemon(bifrost, cfg)  # the last run takes whatever is left
    topics = [f"{out}-{k}" for k in KINDS]
    count = lambda: sum(len(committed(kafka, t, "%o\\n")) for t in topics)
    assert wait_for(lambda: count() >= n, 300), f"{count()} of {n}\n" + d.logged()[-3000:]
    log = d.stop()
    print(f"all committed at {time.monotonic() - t0:.1f}s")
    records = [r for t in topics for r in committed(kafka, t)]
    check_exactly_once_in_order(records, n)
    # The aborted records are in the log, skipped by read_committed: a
    # read_uncommitted consumer sees them (the kills left open transactions).
    # (kcat, like librdkafka, reads committed records only unless told.)
    uncommitted = sum(len(kcat(kafka, "-C", "-t", t, "-o", "beginning", "-e", "-q", "-X",
                               "isolation.level=read_uncommitted", "-f", "%o\\n").splitlines()) for t in topics)
    print(f"{n} records, 5 kill -9, one member joining and leaving: {uncommitted - n} records of aborted "
          f"transactions skipped by read_committed")
    assert uncommitted > n, "no kill left an open transaction: the test did not test anything"
    assert "exactly once: transactions of 1000ms" in log


def test_a_second_producer_with_the_same_transactional_id_fences_the_first_which_takes_over_again(
        bifrost, tmp_path, kafka, topic):
    n = 100_000
    source, out, group = topic, topic + "-out", "g-" + topic
    assert wait_for(lambda: "with 3 partitions" in kcat(kafka, "-L", "-t", source).decode(), 30)
    port, port_b = free_port(), free_port()
    same_id = "\n    transactional_id: bifrost-fence-" + topic
    cfg_a = write(tmp_path / "a.yaml", open(kafka_to_kafka(tmp_path, kafka, source, out, group, port)).read() + same_id)
    cfg_b = write(tmp_path / "b.yaml", open(kafka_to_kafka(tmp_path, kafka, source, out, group, port_b, name="b0.yaml",
                                                      data="data-b")).read() + same_id)
    producer = PacedProducer(kafka, source, n, chunks=20, pause=0.3)
    producer.start()
    a = Daemon(bifrost, cfg_a)
    assert wait_for(lambda: delivered(port) > 0, 120), a.logged()[-3000:]
    # B's producer takes the id: A's is fenced, and A's next producer fences B's in turn.
    b = Daemon(bifrost, cfg_b)
    assert wait_for(lambda: metric(port, "bifrost_kafka_transactions_total", result="fenced") >= 1, 60), \
        a.logged()[-3000:]
    time.sleep(2)
    b.stop()
    producer.join()
    assert producer.error is None, producer.error
    topics = [f"{out}-{k}" for k in KINDS]
    count = lambda: sum(len(committed(kafka, t, "%o\\n")) for t in topics)
    assert wait_for(lambda: count() >= n, 120), f"{count()} of {n}\n" + a.logged()[-3000:]
    fenced = metric(port, "bifrost_kafka_transactions_total", result="fenced")
    log = a.stop()
    check_exactly_once_in_order([r for t in topics for r in committed(kafka, t)], n)
    assert "transactional producer fenced or failed" in log and fenced >= 1
    print(f"A was fenced {fenced:.0f} time(s); every record once")


def file_to_kafka(tmp, kafka, log, topic, port, extra=""):
    return write(tmp / "f2k.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "127.0.0.1:{port}"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"]}}
outputs:
  - id: split
    type: kafka
    brokers: [{kafka}]
    topic: {topic}
    encoding: text
    exactly_once: true
{extra}
""")


def test_file_to_kafka_is_exactly_once_across_five_kill_9s_with_the_checkpoint_in_kafka(bifrost, tmp_path, kafka,
                                                                                       topic):
    n = 300_000
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(n // 2)))
    port = free_port()
    cfg = file_to_kafka(tmp_path, kafka, log, topic, port)
    for kill in range(5):
        d = Daemon(bifrost, cfg)
        kill_when(d, port, n // 40)
        if kill == 2:
            with open(log, "a") as f:  # the file grows between runs
                f.write("".join(f"line {i}\n" for i in range(n // 2, n)))
    d = Daemon(bifrost, cfg)
    assert wait_for(lambda: len(committed(kafka, topic, "%o\\n")) >= n, 180), d.logged()[-3000:]
    log_text = d.stop()
    got = [r.split(" ", 1) for r in committed(kafka, topic, "%p %s\\n")]
    counts = collections.Counter(line for _, line in got)
    dups = [x for x, c in counts.items() if c > 1]
    assert not dups, f"{len(dups)} lines more than once, e.g. {dups[:5]}"
    assert set(counts) == {f"line {i}" for i in range(n)}
    for p in {p for p, _ in got}:  # records without a key: in order within each partition
        nums = [int(line.split()[1]) for q, line in got if q == p]
        assert nums == sorted(nums), f"partition {p} out of order"
    assert "reading the checkpoint committed in Kafka" in log_text
    # The checkpoints went into the instance's compacted offsets topic.
    topics = kcat(kafka, "-L", "-J").decode()
    assert re.search(r'"topic":"bifrost-offsets\.bifrost\.main\.split\.[^"]*"', topics), topics[:2000]


def test_a_record_the_broker_refuses_aborts_its_transaction_and_goes_to_the_failed_queue_when_read_again(
        bifrost, tmp_path, kafka, topic):
    log = tmp_path / "app.log"
    n = 10_000
    big = "x" * 200_000  # above the topic's max.message.bytes, set below
    assert wait_for(lambda: "with 3 partitions" in kcat(kafka, "-L", "-t", topic).decode(), 30)
    service("kafka", "topic-config", topic, "max.message.bytes=100000")
    log.write_text("".join(f"line {i}\n" for i in range(n // 2)) + f"big {big}\n" +
                   "".join(f"line {i}\n" for i in range(n // 2, n)))
    port = free_port()
    d = Daemon(bifrost, file_to_kafka(tmp_path, kafka, log, topic, port))
    failed_dir = tmp_path / "data" / "failed" / "main" / "split"

    def records():
        return [json.loads(x) for p in sorted(failed_dir.glob("*.ndjson")) for x in p.read_text().splitlines()]

    def parked():
        return [r["event"]["message"] for r in records()]
    settled = lambda: len(committed(kafka, topic, "%o\\n")) + len(parked()) >= n + 1
    assert wait_for(settled, 60), d.logged()[-3000:]
    aborted = metric(port, "bifrost_kafka_transactions_total", result="aborted")
    text = d.stop()
    got, kept = committed(kafka, topic, "%s\\n"), parked()
    # The refused record aborted its transaction; read again, it went to the
    # failed queue with the broker's reason. librdkafka reports every record
    # of the refused produce request as refused, so some good lines may be
    # parked with it: each line is in exactly one of the two places.
    assert f"big {big}" in kept
    both = collections.Counter(got + [k for k in kept if k.startswith("line")])
    missing = [f"line {i}" for i in range(n) if f"line {i}" not in both]
    twice = {k: c for k, c in both.items() if c > 1}
    assert not missing and not twice, (f"{len(missing)} lines missing, e.g. {missing[:3]}; {len(twice)} more than once, "
                                       f"e.g. {list(twice.items())[:3]} (in the failed queue: "
                                       f"{sum(1 for k in kept if k in twice)})\n" + text[-4000:])
    assert len(got) + len(kept) == n + 1, "a line both delivered and parked"
    assert aborted >= 1 and "transaction aborted (" in text, text[-3000:]
    reasons = [r["error"] for r in records() if r["event"]["message"] == f"big {big}"]
    assert reasons and "Message size too large" in reasons[0], reasons
    print(f"the refused record parked {len(kept) - 1} good lines with it; {len(got)} delivered once")


def test_what_cannot_be_exactly_once_is_refused_at_load_with_its_location(bifrost, tmp_path):
    cfg = write(tmp_path / "bad.yaml", """
data_dir: /tmp/unused
inputs:
  - {id: in, type: stdin}
outputs:
  - {id: k, type: kafka, brokers: ["127.0.0.1:1"], topic: t, exactly_once: true}
  - {id: f, type: file, path: /tmp/x.ndjson}
""")
    p = run(bifrost, "validate", "-c", str(cfg))
    err = p.stderr.decode()
    assert p.returncode != 0
    assert re.search(r"bad\.yaml:4:\d+: .*input \"in\" \(stdin\) cannot be read exactly once", err), err
    assert re.search(r"bad\.yaml:7:\d+: .*output \"f\" \(file\) would write events again", err), err


def test_a_long_transaction_interval_does_not_hold_back_the_start_of_the_file_input(bifrost, tmp_path, kafka, topic):
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    port = free_port()
    d = Daemon(bifrost, file_to_kafka(tmp_path, kafka, log, topic, port, "    transaction_interval: 30s"))
    # The input reads once the output has read its checkpoint back from
    # Kafka: within a moment, not after a transaction interval.
    started = time.monotonic()
    assert wait_for(lambda: metric(port, "bifrost_events_out_total", component="in") >= 1000, 20), d.logged()[-3000:]
    assert time.monotonic() - started < 15
    text = d.stop()  # a stop commits the open transaction
    assert sorted(committed(kafka, topic, "%s\\n")) == sorted(f"line {i}" for i in range(1000)), text[-3000:]
