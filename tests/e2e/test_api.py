"""The HTTP API on the running daemon: /metrics (checked by promtool), /health, /ready, tokens, and `bifrost tap`."""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import wait_for, write


class Daemon:
    """bifrost run with stdin on a pipe and the API on a free port."""

    def __init__(self, bifrost, cfg, stdout=subprocess.DEVNULL):
        self.r, self.w = os.pipe()
        self.p = subprocess.Popen([bifrost, "run", "-c", cfg], stdin=self.r, stdout=stdout, stderr=subprocess.PIPE)
        os.close(self.r)
        self.log = b""
        m = None
        for _ in range(20):  # warnings (a token file others may read, say) may come first
            line = self.p.stderr.readline()
            self.log += line
            m = re.search(rb"api: listening on http://([\d.]+:\d+)", line)
            if m or not line:
                break
        if not m:
            self.p.kill()
            raise AssertionError(f"no API address in: {self.log!r}")
        self.addr = m.group(1).decode()
        self.base = "http://" + self.addr
        # The API answers before the pipelines run (/ready says 503 then); wait like a client should.
        assert wait_for(lambda: self.get("/ready")[0] == 200), "never ready"

    def send(self, data):
        os.write(self.w, data)

    def get(self, path, token=None):
        req = urllib.request.Request(self.base + path)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metric(self, text, name, **labels):
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for line in text.splitlines():
            if line.startswith(name + "{" + want + "}") or (not labels and line.startswith(name + " ")):
                return float(line.rsplit(" ", 1)[1])
        return None

    def close(self):
        try:
            os.close(self.w)
        except OSError:
            pass
        _, err = self.p.communicate(timeout=30)
        self.log += err
        return self.p.returncode


def config(tmp_path, extra_api="", out=None):
    out = out or tmp_path / "out.log"
    return write(tmp_path / "c.yaml", f"""
api: {{ listen: "127.0.0.1:0" {extra_api} }}
inputs: [{{id: in, type: stdin}}]
filters:
  - id: no_debug
    type: drop
    when: 'message =~ "^DEBUG"'
  - id: label
    type: modify
    when: 'message =~ "^ERROR"'
    add: {{ level: error }}
outputs:
  - id: out
    type: file
    path: {out}
    encoding: text
  - id: errors
    type: stdout
    when: 'level == "error"'
""")



def lines(n):
    kinds = ["DEBUG", "INFO", "ERROR", "INFO", "DEBUG"]
    return b"".join(f"{kinds[i % 5]} event {i}\n".encode() for i in range(n))


def test_counters_are_exact_and_pass_promtool(bifrost, tmp_path):
    d = Daemon(bifrost, config(tmp_path))
    data = lines(1000)  # 400 DEBUG, 400 INFO, 200 ERROR
    d.send(data)
    assert wait_for(lambda: d.metric(d.get("/metrics")[1], "bifrost_events_out_total", pipeline="main", component="out") == 600)
    status, text = d.get("/metrics")
    assert status == 200
    m = lambda name, comp, **kw: d.metric(text, name, pipeline="main", component=comp, **kw)
    assert m("bifrost_events_in_total", "in") == 1000
    assert m("bifrost_bytes_in_total", "in") == len(data) - 1000  # without the newlines
    assert m("bifrost_events_in_total", "no_debug") == 1000
    assert m("bifrost_events_out_total", "no_debug") == 600
    assert d.metric(text, "bifrost_events_dropped_total", pipeline="main", component="no_debug", reason="condition") == 400
    assert m("bifrost_events_in_total", "label") == 600
    assert m("bifrost_events_out_total", "label") == 600
    assert m("bifrost_events_in_total", "out") == 600
    assert m("bifrost_events_in_total", "errors") == 200
    assert wait_for(lambda: d.metric(d.get("/metrics")[1], "bifrost_events_out_total", pipeline="main", component="errors") == 200)
    assert m("bifrost_events_failed_total", "out") == 0
    assert m("bifrost_queue_events", "out") is not None
    assert m("bifrost_output_request_duration_seconds_count", "out") >= 1
    assert d.metric(text, "bifrost_output_request_duration_seconds_bucket", pipeline="main", component="out", le="+Inf") \
        == m("bifrost_output_request_duration_seconds_count", "out")
    assert 'bifrost_build_info{version="' in text
    assert d.metric(text, "process_resident_memory_bytes") > 0

    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/test installs Debian's prometheus package"
    check = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert d.close() == 0


def test_health_and_ready_and_not_ready_while_stopping(bifrost, tmp_path):
    # stdout nobody reads: the `errors` output blocks, so the stop takes a while.
    rd, wr = os.pipe()
    d = Daemon(bifrost, config(tmp_path), stdout=wr)
    os.close(wr)
    assert d.get("/health") == (200, "ok\n")
    assert d.get("/ready") == (200, "ready\n")
    d.send(b"ERROR x" + b"y" * 1000 + b"\n" * 0 + b"\n")
    d.send((b"ERROR " + b"z" * 200 + b"\n") * 2000)
    time.sleep(0.5)
    d.p.send_signal(signal.SIGTERM)
    assert wait_for(lambda: d.get("/ready")[0] == 503)
    assert d.get("/health")[0] == 200
    os.close(rd)  # unblock: stdout now fails with EPIPE and is retried until abandoned
    d.p.send_signal(signal.SIGTERM)
    d.p.wait(timeout=10)


def test_token_guards_metrics_and_tap_but_not_probes(bifrost, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    d = Daemon(bifrost, config(tmp_path, extra_api=f", token_file: {token_file}"))
    assert d.get("/metrics")[0] == 401
    assert d.get("/metrics", token="wrong")[0] == 401
    assert d.get("/metrics", token="s3cret")[0] == 200
    assert d.get("/tap?component=out")[0] == 401
    assert d.get("/health")[0] == 200 and d.get("/ready")[0] == 200
    r = subprocess.run([bifrost, "tap", "out", "--api", d.addr, "--limit", "1"], capture_output=True, timeout=10)
    assert r.returncode == 1 and b"401" in r.stderr
    tap = subprocess.Popen([bifrost, "tap", "out", "--api", d.addr, "--limit", "2", "--token", "s3cret"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert wait_for(lambda: d.metric(d.get("/metrics", token="s3cret")[1], "bifrost_tap_listeners",
                                     pipeline="main", component="out") == 1)
    d.send(lines(10))
    out, err = tap.communicate(timeout=10)
    assert tap.returncode == 0, err
    assert len(out.splitlines()) == 2
    assert d.close() == 0


def test_tap_streams_matching_events_leaving_a_component(bifrost, tmp_path):
    cfg = config(tmp_path)
    d = Daemon(bifrost, cfg)
    taps = {
        "in": subprocess.Popen([bifrost, "tap", "in", "--api", d.addr, "--limit", "5"], stdout=subprocess.PIPE),
        "no_debug": subprocess.Popen([bifrost, "tap", "no_debug", "--api", d.addr, "--limit", "3",
                                      "--when", 'message =~ "^ERROR"'], stdout=subprocess.PIPE),
        "errors": subprocess.Popen([bifrost, "tap", "errors", "-c", cfg, "--api", d.addr, "--pipeline", "main",
                                    "--limit", "2"], stdout=subprocess.PIPE),
    }
    assert wait_for(lambda: all(d.metric(d.get("/metrics")[1], "bifrost_tap_listeners", pipeline="main",
                                         component=c) == 1 for c in taps))
    d.send(lines(50))
    import json
    got = {}
    for name, t in taps.items():
        out, _ = t.communicate(timeout=10)
        assert t.returncode == 0, name
        got[name] = [json.loads(l) for l in out.splitlines()]
    assert [e["message"] for e in got["in"]] == [f"{k} event {i}" for i, k in
                                                 enumerate(["DEBUG", "INFO", "ERROR", "INFO", "DEBUG"])]
    assert [e["message"] for e in got["no_debug"]] == ["ERROR event 2", "ERROR event 7", "ERROR event 12"]
    assert all(e["level"] == "error" for e in got["errors"]) and len(got["errors"]) == 2

    missing = subprocess.run([bifrost, "tap", "nope", "--api", d.addr], capture_output=True, timeout=10)
    assert missing.returncode == 1 and b"404" in missing.stderr
    bad = subprocess.run([bifrost, "tap", "in", "--api", d.addr, "--when", "x =="], capture_output=True, timeout=10)
    assert bad.returncode == 1 and b"invalid condition" in bad.stderr
    assert d.close() == 0


def test_a_slow_tap_client_never_slows_the_pipeline(bifrost, tmp_path):
    d = Daemon(bifrost, config(tmp_path))
    # A client that asks for everything and never reads.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting, so the window stays small
    host, port = d.addr.split(":")
    sock.connect((host, int(port)))
    sock.sendall(b"GET /tap?component=in&rate=0 HTTP/1.1\r\nHost: x\r\n\r\n")  # no sampling: the queue fills
    assert wait_for(lambda: d.metric(d.get("/metrics")[1], "bifrost_tap_listeners", pipeline="main", component="in") == 1)
    total = 300_000
    data = b"".join(f"INFO {'p' * 150} {i}\n".encode() for i in range(total))
    writer = threading.Thread(target=lambda: d.send(data))
    t0 = time.time()
    writer.start()
    assert wait_for(lambda: d.metric(d.get("/metrics")[1], "bifrost_events_out_total",
                                     pipeline="main", component="out") == total, timeout=60)
    writer.join()
    text = d.get("/metrics")[1]
    assert d.metric(text, "bifrost_tap_dropped_total", pipeline="main", component="in") > 0
    sock.close()
    assert d.close() == 0
    assert time.time() - t0 < 60


def test_api_off_and_an_address_in_use(bifrost, tmp_path):
    off = write(tmp_path / "off.yaml", "api: {listen: \"off\"}\ninputs: [{id: in, type: stdin}]\n"
                "outputs: [{id: out, type: stdout}]\n")
    r = subprocess.run([bifrost, "run", "-c", off], input=b"x\n", capture_output=True, timeout=10)
    assert r.returncode == 0 and b"api: listening" not in r.stderr
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    cfg = write(tmp_path / "busy.yaml", f"api: {{listen: \"127.0.0.1:{port}\"}}\ninputs: [{{id: in, type: stdin}}]\n"
                "outputs: [{id: out, type: stdout}]\n")
    r = subprocess.run([bifrost, "run", "-c", cfg], input=b"", capture_output=True, timeout=10)
    busy.close()
    assert r.returncode == 1
    assert f"api.listen 127.0.0.1:{port}: cannot listen".encode() in r.stderr
