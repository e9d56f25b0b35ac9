"""TLS from the HTTP outputs (elasticsearch, influxdb, http) to the real
servers through a real TLS endpoint: nginx as a TLS-terminating proxy with a
test CA (tests/services/nginx_tls.sh). Verification is on by default; a
wrong CA or host name fails with a message naming it and is retried, never
downgraded; verify: false works and warns once; the proxy takes a client
certificate (mTLS) only from the test CA."""
import json
import signal
import subprocess
import sys
import urllib.request
import uuid

import pytest

from e2e import ROOT, Daemon, free_port, run, wait_for, write

SINK = ROOT / "tests" / "services" / "http_sink.py"


class Sink:
    """tests/services/http_sink.py on a free port: what it accepted."""

    def __init__(self, tmp):
        self.port = free_port()
        self.received = tmp / "received.ndjson"
        self.p = subprocess.Popen([sys.executable, str(SINK), str(self.port), str(self.received)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if self.p.stdout.readline().strip() != b"ready":
            pytest.fail(f"the HTTP sink did not start on port {self.port}")

    def messages(self):
        try:
            data = self.received.read_bytes()
        except FileNotFoundError:
            return []
        return [json.loads(x)["message"] for x in data[:data.rfind(b"\n") + 1].splitlines()]


@pytest.fixture
def sink(tmp_path):
    s = Sink(tmp_path)
    yield s
    s.p.kill()
    s.p.wait()


def http_config(tmp, url, tls="", log_lines=5, end_at_eof=False):
    log = tmp / "app.log"
    log.write_text("".join(f"event {i}\n" for i in range(log_lines)))
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / 'data'}
api: {{listen: "off"}}
shutdown_timeout: 1s
inputs:
  - {{id: in, type: file, paths: ["{log}"], end_at_eof: {str(end_at_eof).lower()}}}
outputs:
  - id: hook
    type: http
    url: {url}
    retry: {{initial_backoff: 100ms, max_backoff: 300ms}}
{tls}
""")


def failed(tmp, output):
    return [json.loads(x) for seg in sorted((tmp / "data" / "failed" / "main" / output).glob("*.ndjson"))
            for x in seg.read_text().splitlines()]


def test_elasticsearch_over_mutual_tls_through_the_proxy(bifrost, tmp_path, es, nginx_tls):
    pki = nginx_tls
    port = pki["proxy"]("tls-es-mtls", es.removeprefix("http://"), "--mtls")
    index = f"t-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "app.log"
    log.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(300)))
    cfg = write(tmp_path / "c.yaml", f"""
data_dir: {tmp_path / 'data'}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: file, paths: ["{log}"], end_at_eof: true}}
filters:
  - {{id: json, type: parse_json}}
outputs:
  - id: es
    type: elasticsearch
    hosts: ["https://localhost:{port}"]
    index: "{index}"
    tls: {{ca_file: {pki['ca_file']}, cert_file: {pki['client_cert']}, key_file: {pki['client_key']}}}
""")
    r = run(bifrost, "run", "-c", cfg, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    urllib.request.urlopen(urllib.request.Request(f"{es}/{index}/_refresh", method="POST"), timeout=30).read()
    assert json.loads(urllib.request.urlopen(f"{es}/{index}/_count", timeout=30).read())["count"] == 300
    assert failed(tmp_path, "es") == []


def test_influxdb_over_tls_through_the_proxy(bifrost, tmp_path, influx, nginx_tls):
    pki = nginx_tls
    port = pki["proxy"]("tls-influx", influx.removeprefix("http://"))
    db = f"db_{uuid.uuid4().hex[:10]}"
    urllib.request.urlopen(urllib.request.Request(f"{influx}/query", data=f"q=CREATE DATABASE {db}".encode(),
                                                  method="POST"), timeout=30).read()
    cfg = write(tmp_path / "c.yaml", f"""
data_dir: {tmp_path / 'data'}
api: {{listen: "off"}}
inputs:
  - {{id: in, type: stdin}}
filters:
  - {{id: json, type: parse_json}}
  - {{id: time, type: parse_timestamp, field: t, formats: [unix_ms]}}
outputs:
  - id: influx
    type: influxdb
    url: https://127.0.0.1:{port}
    database: {db}
    measurement: cpu
    tags: [host]
    fields: {{value: v}}
    precision: ms
    tls: {{ca_file: {pki['ca_file']}}}
""")
    points = "".join(json.dumps({"t": 1_795_000_000_000 + i, "host": f"h{i % 3}", "v": i}) + "\n" for i in range(100))
    r = run(bifrost, "run", "-c", cfg, input=points.encode(), timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    q = urllib.parse.urlencode({"db": db, "q": 'SELECT count("value") FROM "cpu"'})
    answer = json.loads(urllib.request.urlopen(f"{influx}/query?{q}", timeout=30).read())
    assert answer["results"][0]["series"][0]["values"][0][1] == 100
    assert failed(tmp_path, "influx") == []


@pytest.mark.parametrize("case", ["default", "other_ca", "host_name"])
def test_a_certificate_that_does_not_verify_is_named_retried_and_never_downgraded(
        bifrost, tmp_path, sink, nginx_tls, case):
    pki = nginx_tls
    port = pki["proxy"]("tls-sink-refusals", f"127.0.0.1:{sink.port}")
    url, tls, expect = {
        # verification is on by default: the system's CAs do not know the test CA
        "default": (f"https://127.0.0.1:{port}/in", "", "unable to get local issuer certificate"),
        "other_ca": (f"https://127.0.0.1:{port}/in", f"    tls: {{ca_file: {pki['other_ca_file']}}}",
                     "unable to get local issuer certificate"),
        # 127.0.0.2 reaches the same proxy; its certificate names 127.0.0.1 and localhost only
        "host_name": (f"https://127.0.0.2:{port}/in", f"    tls: {{ca_file: {pki['ca_file']}}}",
                      "no alternative certificate subject name matches target host name '127.0.0.2'"),
    }[case]
    d = Daemon(bifrost, http_config(tmp_path, url, tls))
    assert wait_for(lambda: "retrying" in d.logged(), 20), d.logged()[-3000:]
    line = next(x for x in d.logged().splitlines() if "retrying" in x or expect in x)
    assert expect in d.logged(), d.logged()[-3000:]
    assert "TLS" in line or expect in line, line
    d.stop()
    assert sink.messages() == []  # nothing went out unverified
    assert failed(tmp_path, "hook") == []  # and nothing was given up: retried


def test_a_fixed_ca_file_and_a_reload_deliver_what_was_retried(bifrost, tmp_path, sink, nginx_tls):
    pki = nginx_tls
    port = pki["proxy"]("tls-sink-refusals", f"127.0.0.1:{sink.port}")
    cfg = http_config(tmp_path, f"https://127.0.0.1:{port}/in", f"    tls: {{ca_file: {pki['other_ca_file']}}}", 50)
    d = Daemon(bifrost, cfg)
    assert wait_for(lambda: "retrying" in d.logged(), 20), d.logged()[-3000:]
    write(cfg, open(cfg).read().replace(pki["other_ca_file"], pki["ca_file"]))
    d.p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: len(sink.messages()) >= 50, 30), d.logged()[-3000:]
    d.stop()
    assert sorted(sink.messages()) == sorted(f"event {i}" for i in range(50))


def test_verify_false_delivers_and_warns_once(bifrost, tmp_path, sink, nginx_tls):
    pki = nginx_tls
    port = pki["proxy"]("tls-sink-refusals", f"127.0.0.1:{sink.port}")
    # the wrong host name and no CA: only verify: false lets this through
    cfg = http_config(tmp_path, f"https://127.0.0.2:{port}/in", "    tls: {verify: false}", 20, end_at_eof=True)
    r = run(bifrost, "run", "-c", cfg, timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 0, err[-3000:]
    assert sorted(sink.messages()) == sorted(f"event {i}" for i in range(20))
    assert err.count("verify: false") == 1, err
    assert "warning" in next(x for x in err.splitlines() if "verify: false" in x)


@pytest.mark.parametrize("client", ["none", "other_ca", "test_ca"])
def test_the_proxy_takes_a_client_certificate_only_from_its_ca(bifrost, tmp_path, sink, nginx_tls, client):
    pki = nginx_tls
    port = pki["proxy"]("tls-sink-mtls", f"127.0.0.1:{sink.port}", "--mtls")
    cert = {"none": "", "other_ca": f", cert_file: {pki['other_client_cert']}, key_file: {pki['other_client_key']}",
            "test_ca": f", cert_file: {pki['client_cert']}, key_file: {pki['client_key']}"}[client]
    cfg = http_config(tmp_path, f"https://127.0.0.1:{port}/in", f"    tls: {{ca_file: {pki['ca_file']}{cert}}}", 10,
                      end_at_eof=True)
    r = run(bifrost, "run", "-c", cfg, timeout=60)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    if client == "test_ca":
        assert sorted(sink.messages()) == sorted(f"event {i}" for i in range(10))
        assert failed(tmp_path, "hook") == []
        return
    # refused by the proxy (HTTP 400): parked with its reason, nothing reached the sink
    assert sink.messages() == []
    parked = failed(tmp_path, "hook")
    assert len(parked) == 10
    reason = "No required SSL certificate was sent" if client == "none" else "The SSL certificate error"
    assert all(reason in x["error"] for x in parked), parked[0]["error"]
