"""`bifrost top`: run under tmux (a real terminal), its screen shows the
numbers /metrics gives; keys sort and quit; without a terminal, or with
--once, it prints one plain table."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import run, wait_for, write
from test_api import Daemon

N = 300


def config(tmp_path, token=""):
    api = '{listen: "127.0.0.1:0"' + (f", token: {token}" if token else "") + "}"
    return f"""data_dir: {tmp_path}/data
api: {api}
shutdown_timeout: 2s
pipelines:
  web:
    inputs: [{{id: in, type: stdin}}]
    filters:
      - {{id: json, type: parse_json, field: message}}
      - {{id: quiet, type: drop, when: 'n > {N - 50}'}}
    outputs:
      - {{id: archive, type: file, path: {tmp_path}/out.log}}
      - {{id: webhook, type: http, url: "http://127.0.0.1:9/down", retry: {{max_attempts: 1}}}}
"""


def metrics(d):
    """{(component, name): value} of /metrics, summed over the other labels."""
    out = {}
    for line in d.get("/metrics", token=d.token)[1].splitlines():
        m = re.match(r'(bifrost_\w+)\{pipeline="web",component="(\w+)"[^}]*\} (\S+)$', line)
        if m:
            key = (m.group(2), m.group(1))
            out[key] = out.get(key, 0) + float(m.group(3))
    return out


def fmt_bytes(v):
    """As top shows bytes."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= size:
            return f"{v / size:.1f}{unit}"
    return f"{v:.0f}B"


@pytest.fixture
def daemon(bifrost, tmp_path):
    d = Daemon(bifrost, write(tmp_path / "c.yaml", config(tmp_path)))
    d.token = None
    d.send(b"".join(b'{"n": %d}\n' % i for i in range(1, N + 1)))
    # Settled: the archive has every kept event, the webhook parked them all.
    assert wait_for(lambda: metrics(d).get(("archive", "bifrost_events_out_total")) == N - 50
                    and metrics(d).get(("webhook", "bifrost_events_failed_total")) == N - 50, 30), metrics(d)
    yield d
    assert d.close() == 0


def rows_of(text):
    """{component: {column: cell}} of a table top printed."""
    lines = [l for l in text.splitlines() if l.strip()]
    head = next(i for i, l in enumerate(lines) if re.match(r"^>?PIPELINE", l))
    columns = lines[head].replace(">", "").split()
    rows = {}
    for line in lines[head + 1:]:
        cells = line.split()
        if len(cells) == len(columns):
            rows[cells[1]] = dict(zip(columns, cells))
    return columns, rows


def check_numbers(rows, m):
    assert set(rows) == {"in", "json", "quiet", "archive", "webhook"}, rows
    for comp in rows:
        assert rows[comp]["IN"] == f"{m[(comp, 'bifrost_events_in_total')]:.0f}", (comp, rows[comp])
        assert rows[comp]["OUT"] == f"{m[(comp, 'bifrost_events_out_total')]:.0f}", (comp, rows[comp])
        assert rows[comp]["ERRORS"] == f"{m[(comp, 'bifrost_events_failed_total')]:.0f}", (comp, rows[comp])
    assert rows["quiet"]["DROPPED"] == "50"
    assert rows["webhook"]["KIND"] == "output" and rows["webhook"]["TYPE"] == "http"
    assert rows["webhook"]["FAILED-Q"] == fmt_bytes(m[("webhook", "bifrost_failed_queue_bytes")])
    assert m[("webhook", "bifrost_failed_queue_bytes")] > 1024
    assert rows["archive"]["FAILED-Q"] == "0B" and rows["in"]["FAILED-Q"] == "-"
    assert rows["webhook"]["BUFFER"] == fmt_bytes(m[("webhook", "bifrost_buffer_bytes")])
    assert rows["archive"]["IN/S"] == "0.0"  # settled: nothing moves


def test_top_under_tmux_shows_what_metrics_says_sorts_and_quits(bifrost, daemon, tmp_path):
    tmux = shutil.which("tmux")
    assert tmux, "tmux is missing: scripts/test installs it (TEST_PACKAGES)"
    sock = f"bifrost-top-{os.getpid()}"
    rc = tmp_path / "rc"
    cmd = f"{bifrost} top --api {daemon.addr}; echo $? > {rc}; sleep 30"
    tm = lambda *a: subprocess.run([tmux, "-L", sock, *a], capture_output=True, text=True, timeout=10)
    assert tm("new-session", "-d", "-x", "200", "-y", "30", cmd).returncode == 0
    try:
        screen = lambda: tm("capture-pane", "-p", "-t", "0").stdout
        # The second frame has rates (two scrapes).
        assert wait_for(lambda: "webhook" in screen() and " 0.0 " in screen(), 10), screen()
        text = screen()
        assert text.startswith(f"bifrost top - {daemon.addr} - every 1s - sorted by pipeline order")
        columns, rows = rows_of(text)
        assert columns[:6] == ["PIPELINE", "COMPONENT", "KIND", "TYPE", "IN/S", "OUT/S"]
        check_numbers(rows, metrics(daemon))
        assert [l.split()[1] for l in text.splitlines() if l.startswith("web ")] == ["in", "json", "quiet",
                                                                                      "archive", "webhook"]
        # s: sort by the next column (PIPELINE); s four more times: IN/S ... then r reverses.
        tm("send-keys", "-t", "0", "s")
        assert wait_for(lambda: ">PIPELINE" in screen() and "sorted by PIPELINE" in screen(), 5), screen()
        for _ in range(6):
            tm("send-keys", "-t", "0", "s")
        assert wait_for(lambda: "sorted by IN -" in screen(), 5), screen()
        # By IN, largest first: the input and the parser took all N, the rest fewer.
        order = [l.split()[1] for l in screen().splitlines() if l.startswith("web ")]
        assert order[:3] == ["in", "json", "quiet"], order
        tm("send-keys", "-t", "0", "r")
        assert wait_for(lambda: "(reversed)" in screen(), 5), screen()
        order = [l.split()[1] for l in screen().splitlines() if l.startswith("web ")]
        assert order[-3:] == ["quiet", "json", "in"], order
        tm("send-keys", "-t", "0", "q")
        assert wait_for(lambda: rc.exists() and rc.read_text().strip() == "0", 5)
    finally:
        tm("kill-server")


def test_top_without_a_terminal_prints_one_plain_table(bifrost, daemon):
    for args in (["--once"], []):  # stdout is a pipe here: one table either way
        t0 = time.monotonic()
        r = run(bifrost, "top", "--api", daemon.addr, "--interval", "0.2", *args)
        assert r.returncode == 0, r.stderr.decode()
        assert time.monotonic() - t0 < 5
        assert b"\x1b" not in r.stdout  # no escape codes in a plain table
        columns, rows = rows_of(r.stdout.decode())
        assert columns[-1] == "LAG"
        check_numbers(rows, metrics(daemon))
    r = run(bifrost, "top", "--api", daemon.addr, "--once", "--sort", "errors", "--interval", "0.2")
    assert r.stdout.decode().splitlines()[1].split()[1] == "webhook"
    assert b">ERRORS" in r.stdout
    assert run(bifrost, "top", "--sort", "nope").returncode == 1


def test_top_finds_the_api_and_token_like_tap(bifrost, tmp_path):
    cfg = write(tmp_path / "c.yaml", config(tmp_path, token="t0ken"))
    d = Daemon(bifrost, cfg)
    d.token = "t0ken"
    try:
        r = run(bifrost, "top", "--api", d.addr, "--once", "--interval", "0.2")
        assert r.returncode == 1 and b"401" in r.stderr
        r = run(bifrost, "top", "-c", cfg, "--api", d.addr, "--once", "--interval", "0.2")
        assert r.returncode == 0, r.stderr.decode()
        assert b"webhook" in r.stdout
        env = dict(os.environ, BIFROST_API_TOKEN="t0ken")
        r = run(bifrost, "top", "--api", d.addr, "--once", "--interval", "0.2", env=env)
        assert r.returncode == 0, r.stderr.decode()
    finally:
        assert d.close() == 0
