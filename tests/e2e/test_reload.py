"""`bifrost reload -c PATH` and POST /reload: the reload is checked first, and
the command returns only once the new pipelines run (exit 0), or with the
daemon's errors (exit 2 for an invalid config, which the daemon keeps not
running)."""
import json
import re
import subprocess
import time
import urllib.error
import urllib.request

from conftest import run, wait_for, write
from test_api import Daemon


def config(tmp_path, out, token=""):
    api = '{listen: "127.0.0.1:0"' + (f", token: {token}" if token else "") + "}"
    return f"""data_dir: {tmp_path}/data
api: {api}
shutdown_timeout: 5s
inputs: [{{id: in, type: stdin}}]
outputs: [{{id: out, type: file, path: {out}, encoding: text}}]
"""


def lines_in(path):
    try:
        return path.read_bytes().splitlines()
    except FileNotFoundError:
        return []


def post(d, path, token=None):
    req = urllib.request.Request(d.base + path, data=b"", method="POST")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body.startswith(b"{") else body.decode()


def test_reload_returns_once_the_new_config_runs_and_refuses_an_invalid_one(bifrost, tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    cfg = tmp_path / "c.yaml"
    write(cfg, config(tmp_path, a))
    d = Daemon(bifrost, str(cfg))
    try:
        d.send(b"to-a\n")
        assert wait_for(lambda: lines_in(a) == [b"to-a"])

        write(cfg, config(tmp_path, b))
        r = run(bifrost, "reload", "-c", str(cfg), "--api", d.addr)
        assert r.returncode == 0, r.stderr.decode()
        assert re.search(rb"c\.yaml: reloaded: running 1 pipeline\(s\), 2 component\(s\)\n$", r.stdout), r.stdout
        # It returned after the new pipelines started: the very next line goes to b, and /ready says so.
        assert d.get("/ready")[0] == 200
        d.send(b"to-b\n")
        assert wait_for(lambda: lines_in(b) == [b"to-b"])

        # An invalid config: refused by the local check first (exit 2, located errors) ...
        write(cfg, config(tmp_path, b).replace("type: file", "type: fiel"))
        r = run(bifrost, "reload", "-c", str(cfg), "--api", d.addr)
        assert r.returncode == 2
        assert f'{cfg}:5:27: outputs[0].type: unknown output type "fiel"'.encode() in r.stderr, r.stderr.decode()
        # ... and by the daemon, which says why and keeps running the config it has.
        status, body = post(d, "/reload")
        assert status == 422 and body["status"] == "invalid", body
        assert 'unknown output type "fiel"' in body["message"] and body["config"] == str(cfg)
        d.send(b"still-b\n")
        assert wait_for(lambda: lines_in(b) == [b"to-b", b"still-b"])
    finally:
        assert d.close() == 0
    assert b"reload refused, the running config stays" in d.log


def test_reload_through_the_api_needs_the_token(bifrost, tmp_path):
    out = tmp_path / "out.log"
    cfg = tmp_path / "c.yaml"
    write(cfg, config(tmp_path, out, token="s3cret"))
    d = Daemon(bifrost, str(cfg))
    try:
        status, _ = post(d, "/reload")
        assert status == 401
        status, body = post(d, "/reload", token="s3cret")
        assert status == 200 and body["status"] == "reloaded", body
        # The token from -c PATH; --api because the config listens on port 0.
        r = run(bifrost, "reload", "-c", str(cfg), "--api", d.addr)
        assert r.returncode == 0, r.stderr.decode()
        r = run(bifrost, "reload", "-c", str(cfg), "--api", d.addr, "--token", "wrong")
        assert r.returncode == 1 and b"refused the token (401)" in r.stderr
    finally:
        assert d.close() == 0
    assert d.log.count(b"INFO  bifrost: reloaded") == 2


def test_reload_without_a_daemon_or_an_api_says_so(bifrost, tmp_path):
    cfg = tmp_path / "c.yaml"
    write(cfg, config(tmp_path, tmp_path / "out.log"))
    s = __import__("socket").socket()
    s.bind(("127.0.0.1", 0))
    closed = f"127.0.0.1:{s.getsockname()[1]}"  # bound, never listening: refused
    r = run(bifrost, "reload", "-c", str(cfg), "--api", closed)
    s.close()
    assert r.returncode == 1 and b"cannot reach the daemon's API" in r.stderr
    off = write(tmp_path / "off.yaml", config(tmp_path, tmp_path / "out.log").replace('listen: "127.0.0.1:0"',
                                                                                       'listen: "off"'))
    r = run(bifrost, "reload", "-c", off)
    assert r.returncode == 1 and b"give --pid PID" in r.stderr
    assert run(bifrost, "reload").returncode == 1  # no -c


def test_reload_with_the_api_off_sends_sighup_to_pid(bifrost, tmp_path):
    out = tmp_path / "out.log"
    cfg = write(tmp_path / "c.yaml", config(tmp_path, out).replace('listen: "127.0.0.1:0"', 'listen: "off"'))
    log = open(tmp_path / "daemon.log", "wb")
    p = subprocess.Popen([bifrost, "run", "-c", cfg], stdin=subprocess.PIPE, stderr=log)
    try:
        assert wait_for(lambda: b"running 1 pipeline" in (tmp_path / "daemon.log").read_bytes())
        r = run(bifrost, "reload", "-c", cfg, "--pid", str(p.pid))
        assert r.returncode == 0, r.stderr.decode()
        assert b"sent SIGHUP to" in r.stdout
        assert wait_for(lambda: b"INFO  bifrost: reloaded" in (tmp_path / "daemon.log").read_bytes())
    finally:
        p.stdin.close()
        assert p.wait(timeout=30) == 0


def test_reloads_asked_at_once_are_all_answered(bifrost, tmp_path):
    """Signals sent while a reload runs coalesce into one more reload; each
    asker is answered by a reload that began after it asked."""
    import threading
    cfg = tmp_path / "c.yaml"
    write(cfg, config(tmp_path, tmp_path / "out.log"))
    d = Daemon(bifrost, str(cfg))
    try:
        results = []
        threads = [threading.Thread(target=lambda: results.append(post(d, "/reload"))) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert [s for s, _ in results] == [200, 200, 200], results
    finally:
        assert d.close() == 0
    assert 1 <= d.log.count(b"INFO  bifrost: reloaded") <= 3
