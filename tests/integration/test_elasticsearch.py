"""The elasticsearch output against a real Elasticsearch (the integ-test-zip
distribution from Maven Central, tests/services/elasticsearch.sh)."""
import json
import os
import re
import shutil
import time
import urllib.request
import uuid

import pytest

from e2e import Daemon, free_port, run, wait_for, write
from realservices import service
from sink_down import Feed, feed_through_an_outage, peak_rss_kib

BASE_MS = 1_795_000_000_000


@pytest.fixture
def index():
    return f"t-{uuid.uuid4().hex[:12]}"


def call(url, path, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        return json.loads(urllib.request.urlopen(req, timeout=60).read() or b"{}")
    except urllib.error.HTTPError as e:
        return json.loads(e.read() or b"{}")


def count(url, index):
    call(url, f"/{index}/_refresh", "POST")
    return call(url, f"/{index}/_count").get("count", 0)


def file_config(tmp, url, index, log, extra="", data="data", end_at_eof=True, filters=""):
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / data}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"], end_at_eof: {str(end_at_eof).lower()}}}
filters:
  - {{id: json, type: parse_json}}
  - {{id: time, type: parse_timestamp, field: t, formats: [unix_ms]}}
{filters}
outputs:
  - id: es
    type: elasticsearch
    hosts: ["{url}"]
    index: "{index}"
{extra}
""")


def docs(n, start=0, bad=()):
    return "".join(json.dumps({"t": BASE_MS + i, "n": ("not a number" if i in bad else i), "host": f"h{i % 10}"}) + "\n"
                   for i in range(start, start + n))


def failed(tmp, output="es"):
    return [json.loads(x) for seg in sorted((tmp / "data" / "failed" / "main" / output).glob("*.ndjson"))
            for x in seg.read_text().splitlines()]


def test_200k_documents_are_all_counted_and_a_replay_with_auto_ids_adds_none(bifrost, tmp_path, es, index):
    n = 200_000
    log = tmp_path / "app.log"
    log.write_text(docs(n))
    r = run(bifrost, "run", "-c", file_config(tmp_path, es, index, log), timeout=600)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert count(es, index) == n
    # The same input again from an empty data_dir: the same _ids, overwritten.
    r = run(bifrost, "run", "-c", file_config(tmp_path, es, index, log, data="data2"), timeout=600)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert count(es, index) == n


def test_events_sent_again_from_a_disk_buffer_keep_their_ids(bifrost, tmp_path, es, index):
    """A disk buffer's records keep their source and offset: what it sends
    again (after a crash, before its read position was saved) overwrites the
    same documents instead of adding copies."""
    n = 20_000
    log = tmp_path / "app.log"
    log.write_text(docs(n))
    buffered = "    buffer: {type: disk}\n    retry: {initial_backoff: 50ms, max_backoff: 200ms}"

    def cfg(url, shutdown_timeout="5m"):  # at the input's end the buffer is sent for up to this long
        text = open(file_config(tmp_path, url, index, log, buffered)).read()
        return write(tmp_path / "c.yaml", f"shutdown_timeout: {shutdown_timeout}\n" + text)

    # Elasticsearch unreachable: everything waits in the buffer, the input is done.
    r = run(bifrost, "run", "-c", cfg(f"http://127.0.0.1:{free_port()}", "2s"), timeout=120)
    buf = tmp_path / "data" / "buffers" / "main" / "es"
    assert sum(f.stat().st_size for f in buf.glob("*.buf")) > 0, r.stderr.decode()[-2000:]
    shutil.copytree(tmp_path / "data", tmp_path / "snapshot")
    r = run(bifrost, "run", "-c", cfg(es), timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert count(es, index) == n
    # As after a crash that lost the read position: the whole buffer goes out again.
    shutil.rmtree(tmp_path / "data")
    shutil.copytree(tmp_path / "snapshot", tmp_path / "data")
    r = run(bifrost, "run", "-c", cfg(es), timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert re.search(rf"\(output elasticsearch\): in=0 out={n}\b", r.stderr.decode()), r.stderr.decode()[-2000:]
    assert count(es, index) == n


def test_a_mapping_conflict_parks_exactly_those_documents_and_indexes_the_rest(bifrost, tmp_path, es, index):
    log = tmp_path / "app.log"
    bad = {17, 250, 999}
    log.write_text(docs(10) + docs(990, start=10, bad=bad))  # n is a long from the first documents on
    r = run(bifrost, "run", "-c", file_config(tmp_path, es, index, log, extra="    batch: {max_events: 100}"))
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert count(es, index) == 1000 - len(bad)
    parked = failed(tmp_path)
    assert sorted(p["event"]["t"] - BASE_MS for p in parked) == sorted(bad)
    assert all("document_parsing_exception" in p["error"] and p["error"].startswith("Elasticsearch 400")
               for p in parked), parked[0]["error"]


def test_create_with_auto_ids_counts_a_409_as_delivered(bifrost, tmp_path, es, index):
    log = tmp_path / "app.log"
    log.write_text(docs(500))
    cfg = file_config(tmp_path, es, index, log, extra="    action: create")
    assert run(bifrost, "run", "-c", cfg).returncode == 0
    r = run(bifrost, "run", "-c", file_config(tmp_path, es, index, log, extra="    action: create", data="data2"))
    assert r.returncode == 0, r.stderr.decode()
    assert count(es, index) == 500
    assert failed(tmp_path) == []
    assert "out=500" in r.stderr.decode()


def test_an_index_template_that_crosses_midnight(bifrost, tmp_path, es, index):
    midnight = 1_795_305_600_000  # 2026-11-22T00:00:00Z
    log = tmp_path / "app.log"
    log.write_text("".join(json.dumps({"t": midnight + (i - 50) * 1000, "n": i}) + "\n" for i in range(100)))
    r = run(bifrost, "run", "-c", file_config(tmp_path, es, index + "-%Y.%m.%d", log))
    assert r.returncode == 0, r.stderr.decode()
    assert count(es, index + "-2026.11.21") == 50
    assert count(es, index + "-2026.11.22") == 50


def test_elasticsearch_stopped_for_30s_mid_stream_loses_nothing(bifrost, tmp_path, es, index):
    log = tmp_path / "app.log"
    log.write_text("")
    cfg = file_config(tmp_path, es, index, log, end_at_eof=False,
                      extra="    retry: {initial_backoff: 200ms, max_backoff: 2s}")
    d = Daemon(bifrost, cfg)
    # 30 s down while lines keep coming
    written = feed_through_an_outage(Feed(log, lambda k, start: docs(k, start=start)), "elasticsearch", 30)
    assert wait_for(lambda: count(es, index) >= written, 180), f"{count(es, index)} of {written}"
    err = d.stop()
    assert count(es, index) == written
    assert failed(tmp_path) == []
    rss = peak_rss_kib(err)
    print(f"Elasticsearch down 30 s: {written} documents, all counted; peak RSS {rss // 1024} MiB")


def test_real_429s_from_a_tiny_write_queue_lose_nothing(bifrost, tmp_path, index):
    # A second server of its own, with one write thread, a queue of one,
    # and requests limited to 300 KB (larger ones get a 413 and are split).
    os.environ["BIFROST_ES_DIR"] = "/tmp/bifrost-elasticsearch-429"
    os.environ["BIFROST_ES_SETTINGS"] = ("thread_pool.write.size: 1\nthread_pool.write.queue_size: 1\n"
                                         "http.max_content_length: 300kb")
    try:
        url = service("elasticsearch")
        n = 100_000
        log = tmp_path / "app.log"
        log.write_text(docs(n))
        cfg = file_config(tmp_path, url, index, log,
                          extra="    concurrency: 8\n    batch: {max_events: 2048}\n"
                                "    retry: {initial_backoff: 20ms, max_backoff: 500ms}")
        r = run(bifrost, "run", "-c", cfg, timeout=600)
        assert r.returncode == 0, r.stderr.decode()[-3000:]
        err = r.stderr.decode()
        assert count(url, index) == n
        assert failed(tmp_path) == []
        rejected = len(re.findall(r"es_rejected_execution_exception|HTTP 429|Elasticsearch 429", err))
        print(f"tiny write queue: {n} documents, all counted; {rejected} log lines about 429s")
        assert rejected > 0, "no 429 was provoked: the test proves nothing"
        assert "HTTP 413" in err, "no request was over the server's limit: the split was not tried"
    finally:
        service("elasticsearch", "reset")
        os.environ.pop("BIFROST_ES_DIR")
        os.environ.pop("BIFROST_ES_SETTINGS")


def test_gzip_and_failover_from_a_host_that_does_not_answer(bifrost, tmp_path, es, index):
    log = tmp_path / "app.log"
    log.write_text(docs(5000))
    cfg = file_config(tmp_path, es, index, log, extra="    compression: gzip")
    text = open(cfg).read().replace(f'hosts: ["{es}"]', f'hosts: ["http://127.0.0.1:9", "{es}"]')
    r = run(bifrost, "run", "-c", write(tmp_path / "c.yaml", text), timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert count(es, index) == 5000
    assert "trying the next host" in r.stderr.decode()
    assert failed(tmp_path) == []
