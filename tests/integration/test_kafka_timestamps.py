"""The kafka output's guard of record times (timestamp: event with max_past,
max_future and on_bad_timestamp) against the real broker
(tests/services/kafka.sh), read back with kcat."""
import json
import re
import subprocess
import time
import urllib.request

from e2e import Daemon, free_port, wait_for, write
from realservices import service

DAY_MS = 86_400_000


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}000000Z"


def config(tmp, kafka, topic, log, port, output=""):
    return write(tmp / "ts.yaml", f"""
data_dir: {tmp / "data"}
api: {{listen: "127.0.0.1:{port}"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"]}}
filters:
  - {{id: parse, type: parse_regex, pattern: '^(?P<ts>\\d+) (?P<name>\\S+)$'}}
  - {{id: time, type: parse_timestamp, field: ts, formats: [unix_ms]}}
outputs:
  - id: kafka
    type: kafka
    brokers: [{kafka}]
    topic: {topic}
    encoding: text
{output}
""")


def year_old_hour_ahead_and_good(log):
    """A record a year old, one an hour ahead (beyond max_future: 30m) and one a minute old."""
    now = int(time.time() * 1000)
    times = {"year-old": now - 365 * DAY_MS, "hour-ahead": now + 3_600_000, "good": now - 60_000}
    log.write_text("".join(f"{ms} {name}\n" for name, ms in times.items()))
    return times


def records(kafka, topic):
    """'timestamp<TAB>headers<TAB>value' of every record so far (none while the topic does not exist)."""
    p = subprocess.run(["kcat", "-b", kafka, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%T\\t%h\\t%s\\n"],
                       capture_output=True, timeout=60)
    return p.stdout.decode().splitlines() if p.returncode == 0 else []


def bad_timestamps(port):
    """bifrost_kafka_bad_timestamps_total by (bound, action)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(b, a): float(v) for b, a, v in re.findall(
        r'bifrost_kafka_bad_timestamps_total\{pipeline="main",component="kafka",bound="(\w+)",action="(\w+)"\} (\S+)',
        text)}


def test_on_bad_timestamp_now_sends_the_produce_time_and_keeps_the_event_time_in_a_header(bifrost, tmp_path, kafka,
                                                                                          topic):
    log = tmp_path / "app.log"
    times = year_old_hour_ahead_and_good(log)
    port = free_port()
    started = int(time.time() * 1000)
    d = Daemon(bifrost, config(tmp_path, kafka, topic, log, port, "    max_future: 30m\n    on_bad_timestamp: now"))
    assert wait_for(lambda: len(records(kafka, topic)) >= 3, 30), d.logged()[-3000:]
    got = records(kafka, topic)
    counted = {}
    assert wait_for(lambda: (counted.update(bad_timestamps(port)) or counted) == {
        ("max_past", "now"): 1.0, ("max_future", "now"): 1.0}, 10), counted
    log_text = d.stop()
    finished = int(time.time() * 1000)
    by_name = {}
    for r in got:
        ts, headers, value = r.split("\t")
        by_name[value.split()[1]] = (int(ts), headers)
    assert set(by_name) == set(times), got
    for name in ("year-old", "hour-ahead"):
        ts, headers = by_name[name]
        assert started <= ts <= finished, f"{name}: record time {ts} is not the produce time"
        assert headers == f"bifrost_event_time={rfc3339(times[name])}", headers
    assert by_name["good"] == (times["good"], ""), by_name["good"]
    assert "retention.ms" not in log_text  # the test broker keeps records for ever


def test_on_bad_timestamp_reject_parks_the_bad_times_in_the_failed_queue_with_the_bound(bifrost, tmp_path, kafka,
                                                                                       topic):
    log = tmp_path / "app.log"
    times = year_old_hour_ahead_and_good(log)
    port = free_port()
    d = Daemon(bifrost,
               config(tmp_path, kafka, topic, log, port, "    max_future: 30m\n    on_bad_timestamp: reject"))
    failed = tmp_path / "data" / "failed" / "main" / "kafka"

    def parked():
        return [json.loads(x) for s in sorted(failed.glob("*.ndjson")) for x in s.read_text().splitlines()]
    assert wait_for(lambda: len(parked()) >= 2 and records(kafka, topic), 30), d.logged()[-3000:]
    counted = {}
    assert wait_for(lambda: (counted.update(bad_timestamps(port)) or counted) == {
        ("max_past", "reject"): 1.0, ("max_future", "reject"): 1.0}, 10), counted
    d.stop()
    got = records(kafka, topic)
    assert got == [f"{times['good']}\t\t{times['good']} good"], got
    errors = {p["event"]["name"]: p["error"] for p in parked()}
    assert set(errors) == {"year-old", "hour-ahead"}, errors
    assert f"the event time {rfc3339(times['year-old'])} is older than max_past (168h)" in errors["year-old"]
    assert f"the event time {rfc3339(times['hour-ahead'])} is further ahead than max_future (30m)" in \
        errors["hour-ahead"]


def test_a_topic_keeping_records_less_than_max_past_is_warned_about_at_start(bifrost, tmp_path, kafka, topic):
    # The topic, made by a first record, then given a retention of an hour and
    # a limit of ten minutes ahead (what the broker itself would refuse).
    subprocess.run(["kcat", "-b", kafka, "-P", "-t", topic], input=b"seed\n", check=True, timeout=60)
    service("kafka", "topic-config", topic, "retention.ms=3600000,message.timestamp.after.max.ms=600000")
    log = tmp_path / "app.log"
    log.write_text(f"{int(time.time() * 1000)} now\n")
    d = Daemon(bifrost, config(tmp_path, kafka, topic, log, free_port()))
    warned = re.compile(r"WARN +kafka: topic " + re.escape(topic) + r" keeps records for 1h \(retention\.ms\), "
                        r"less than max_past \(168h\)")
    assert wait_for(lambda: warned.search(d.logged()), 30), d.logged()[-3000:]
    assert wait_for(lambda: "(message.timestamp.after.max.ms), less than max_future (1h)" in d.logged(), 10), \
        d.logged()[-3000:]
    d.stop()
    assert len(records(kafka, topic)) == 2  # the event itself was sent
