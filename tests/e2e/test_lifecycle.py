"""Signals, reload, end of input, and backpressure, on the running binary."""
import os
import signal
import subprocess
import threading
import time

from conftest import run, stdin_to_file_config, wait_for, write


def start(bifrost, cfg, stdout=subprocess.DEVNULL):
    r, w = os.pipe()
    p = subprocess.Popen([bifrost, "run", "-c", cfg], stdin=r, stdout=stdout, stderr=subprocess.PIPE)
    return p, r, w



def lines_in(path):
    try:
        return path.read_bytes().splitlines()
    except FileNotFoundError:
        return []


def test_end_of_input_drains_and_exits_0(bifrost, tmp_path):
    out = tmp_path / "out.log"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out, encoding="text"))
    r = run(bifrost, "run", "-c", cfg, input=b"one\ntwo\n")
    assert r.returncode == 0
    assert out.read_bytes() == b"one\ntwo\n"
    assert b"every input has ended" in r.stderr


def test_sigterm_mid_stream_loses_nothing(bifrost, tmp_path):
    """What bifrost read is delivered; what it did not read is still in the pipe: together, the input."""
    out = tmp_path / "out.log"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out, encoding="text"))
    p, r, w = start(bifrost, cfg)
    sent = bytearray()
    for i in range(200_000):
        sent += f"line {i} {'x' * (i % 50)}\n".encode()
    # Write the first part, then half a line, then signal, then the rest.
    os.write(w, bytes(sent[:1_000_000]))
    half = sent.index(b"\n", 1_500_000) - 5
    os.write(w, bytes(sent[1_000_000:half]))
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    rest_writer = threading.Thread(target=lambda: (os.write(w, bytes(sent[half:])), os.close(w)))
    rest_writer.start()
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    unread = bytearray()
    while chunk := os.read(r, 1 << 20):  # until the writer has sent the rest and closed
        unread += chunk
    rest_writer.join(timeout=10)
    os.close(r)
    delivered = out.read_bytes()
    assert delivered.endswith(b"\n")
    assert delivered + bytes(unread) == bytes(sent)
    assert b"SIGTERM: stopping" in err


def test_second_signal_exits_at_once(bifrost, tmp_path):
    """An output that cannot write (a pipe nobody reads) holds the drain; a second SIGINT ends it."""
    cfg = write(tmp_path / "c.yaml", "api: {listen: \"off\"}\nshutdown_timeout: 1h\ninputs: [{id: in, type: stdin}]\n"
                "outputs: [{id: out, type: stdout}]\n")
    rd, wr = os.pipe()
    p, r, w = start(bifrost, cfg, stdout=wr)
    os.close(wr)
    payload = (b"z" * 100 + b"\n") * 20_000
    # stdin stays open: the stop must come from the signals, not from end of input.
    t = threading.Thread(target=lambda: _write_ignoring_epipe(w, payload, close=False), daemon=True)
    t.start()
    time.sleep(1.0)  # stdout pipe (64 KiB) is full by now: the output is blocked
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)
    if p.poll() is not None:
        raise AssertionError("the first signal should wait for delivery: " + p.stderr.read().decode())
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    p.wait(timeout=5)
    assert time.time() - t0 < 2
    assert p.returncode == 1
    assert b"second signal" in p.stderr.read()
    os.close(rd)
    os.close(r)
    os.close(w)


def _write_ignoring_epipe(fd, data, close=True):
    try:
        os.write(fd, data)
        if close:
            os.close(fd)
    except OSError:
        pass


def test_sighup_reloads_a_valid_config_and_keeps_the_old_one_when_invalid(bifrost, tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    cfg_path = tmp_path / "c.yaml"
    write(cfg_path, stdin_to_file_config(a, encoding="text"))
    p, r, w = start(bifrost, str(cfg_path))
    os.write(w, b"to-a-1\n")
    assert wait_for(lambda: lines_in(a) == [b"to-a-1"])

    write(cfg_path, "inputs: [{id: in, type: stdin, nope: 1}]\noutputs: [{id: out, type: stdout}]\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    os.write(w, b"to-a-2\n")
    assert wait_for(lambda: lines_in(a) == [b"to-a-1", b"to-a-2"]), "an invalid reload must keep the old config"

    write(cfg_path, stdin_to_file_config(b, encoding="text"))
    p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: b"reloaded" in _stderr_so_far(p))
    os.write(w, b"to-b-1\n")
    assert wait_for(lambda: lines_in(b) == [b"to-b-1"])
    os.close(w)
    _, err = p.communicate(timeout=10)
    err = _stderr_buf.pop(p.pid, b"") + err
    assert p.returncode == 0, err
    assert lines_in(a) == [b"to-a-1", b"to-a-2"]
    assert b"reload refused, the running config stays" in err
    assert b'unknown key "nope"' in err
    os.close(r)


_stderr_buf = {}


def _stderr_so_far(p):
    """Reads what stderr has so far without blocking."""
    os.set_blocking(p.stderr.fileno(), False)
    try:
        chunk = p.stderr.read() or b""
    except BlockingIOError:
        chunk = b""
    _stderr_buf[p.pid] = _stderr_buf.get(p.pid, b"") + chunk
    return _stderr_buf[p.pid]


def test_a_blocked_output_holds_the_input_with_bounded_memory(bifrost, tmp_path):
    cfg = write(tmp_path / "c.yaml", "api: {listen: \"off\"}\ninputs: [{id: in, type: stdin}]\n"
                "outputs: [{id: out, type: stdout, encoding: text}]\n")
    p = subprocess.Popen([bifrost, "run", "-c", cfg], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    line = b"q" * 199 + b"\n"
    total = 1_500_000  # 300 MB
    fed = [0]

    def feed():
        chunk = line * 5000
        for _ in range(total // 5000):
            p.stdin.write(chunk)
            fed[0] += 5000
        p.stdin.close()

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    time.sleep(2.0)  # nobody reads stdout: everything backs up
    assert fed[0] < total // 10, "the input should have stopped reading"
    # The data held is anonymous memory; the mapped binary (RssFile) is not bounded by the queue
    # (under ASan it alone is ~50 MiB of a 110 MiB debug executable).
    status = open(f"/proc/{p.pid}/status").read()
    rss_kib = int(next(l for l in status.splitlines() if l.startswith("RssAnon")).split()[1])
    assert rss_kib < 96 * 1024, f"anonymous RSS {rss_kib} KiB while blocked"
    count = 0
    while chunk := p.stdout.read(1 << 20):
        count += chunk.count(b"\n")
    t.join()
    p.wait(timeout=30)
    assert p.returncode == 0
    assert count == total
