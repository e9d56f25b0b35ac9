"""The file input, driven like a user drives it: real files, real logrotate, signals, kill -9."""
import collections
import json
import os
import pathlib
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import Daemon, lines, read_json_lines, wait_for, wait_lines, write

LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"


def config(tmp, paths, out, input_opts="", encoding="text", api="off"):
    paths_yaml = json.dumps([str(p) for p in paths])
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / 'data'}
api: {{listen: "{api}"}}
shutdown_timeout: 10s
inputs:
  - id: tail
    type: file
    paths: {paths_yaml}
    scan_interval: 200ms
{input_opts}
outputs:
  - id: out
    type: file
    path: {out}
    encoding: {encoding}
""")


def numbered(start, end, width=40):
    return b"".join(b"line %08d %s\n" % (i, b"x" * (i % width)) for i in range(start, end))


def test_reads_existing_and_new_files_with_source_fields(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(b"a1\na2\n")
    (logs / "tiny.log").write_bytes(b"t\n")  # under 100 bytes: read at once
    out = tmp_path / "out.ndjson"
    d = Daemon(bifrost, config(tmp_path, [logs / "*.log"], out, encoding="json"))
    wait_lines(out, 3, 10)
    (logs / "b.log").write_bytes(b"b1\n")
    with open(logs / "a.log", "ab") as f:
        f.write(b"a3\n")
    wait_lines(out, 5, 10)
    d.stop()
    events = read_json_lines(out)
    got = sorted((e["log"]["file"]["path"], e["log"]["offset"], e["message"]) for e in events)
    assert got == sorted([
        (str(logs / "a.log"), 0, "a1"), (str(logs / "a.log"), 3, "a2"), (str(logs / "a.log"), 6, "a3"),
        (str(logs / "tiny.log"), 0, "t"), (str(logs / "b.log"), 0, "b1"),
    ])
    assert all(e["host"]["name"] for e in events)


def test_restart_resumes_after_the_last_acknowledged_line(bifrost, tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(numbered(0, 1000))
    out = tmp_path / "out.log"
    cfg = config(tmp_path, [log], out)
    d = Daemon(bifrost, cfg)
    wait_lines(out, 1000)
    d.stop()
    with open(log, "ab") as f:
        f.write(numbered(1000, 1500))
        f.write(b"partial, no newline yet")
    d = Daemon(bifrost, cfg)
    wait_lines(out, 1500)
    time.sleep(0.5)
    d.stop()
    with open(log, "ab") as f:
        f.write(b" - now complete\n")
    d = Daemon(bifrost, cfg)
    wait_lines(out, 1501)
    d.stop()
    assert lines(out) == log.read_bytes().splitlines()


def test_start_at_end_applies_to_the_first_start_only(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "old.log").write_bytes(b"old history\n")
    out = tmp_path / "out.log"
    cfg = config(tmp_path, [logs / "*.log"], out, input_opts="    start_at: end")
    d = Daemon(bifrost, cfg)
    time.sleep(1)
    with open(logs / "old.log", "ab") as f:
        f.write(b"old new\n")
    wait_lines(out, 1)
    d.stop()
    (logs / "later.log").write_bytes(b"appeared while stopped\n")  # never seen: from its start
    d = Daemon(bifrost, cfg)
    wait_lines(out, 2)
    d.stop()
    assert sorted(lines(out)) == [b"appeared while stopped", b"old new"]


def test_exclude_and_symlinks(bifrost, tmp_path):
    logs = tmp_path / "logs"
    real = tmp_path / "real"
    logs.mkdir()
    real.mkdir()
    (real / "target.txt").write_bytes(b"via symlink\n")
    (logs / "link.log").symlink_to(real / "target.txt")
    (logs / "skip.log.gz").write_bytes(b"compressed, excluded\n")
    (logs / "keep.log").write_bytes(b"kept\n")
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [logs / "*.log*"], out, input_opts='    exclude: ["*.gz"]'))
    wait_lines(out, 2)
    time.sleep(0.5)
    d.stop()
    assert sorted(lines(out)) == [b"kept", b"via symlink"]


def test_truncated_to_zero_and_rewritten(bifrost, tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(b"first content line one\nfirst content line two\n")
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [log], out))
    wait_lines(out, 2)
    with open(log, "r+b") as f:  # same inode, truncated, then shorter new content
        f.truncate(0)
    time.sleep(0.5)
    with open(log, "ab") as f:
        f.write(b"second\n")
    wait_lines(out, 3)
    # Truncated and at once rewritten longer than before: the fingerprint tells.
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(b"third content, longer than everything before it was\n")
    wait_lines(out, 4)
    d.stop()
    assert lines(out) == [b"first content line one", b"first content line two", b"second",
                          b"third content, longer than everything before it was"]


def reuse_inode(directory, ino, content):
    """Creates a file in `directory` that gets inode `ino` again. ext4 (with its
    journal) gives a new file the lowest free inode of its directory's group:
    files are created, and kept, until one gets `ino`; the others are removed."""
    extra = []
    try:
        for i in range(20_000):
            p = directory / f"new-{i}.log"
            p.write_bytes(content)
            if p.stat().st_ino == ino:
                return p
            extra.append(p)
        pytest.fail(f"could not get inode {ino} again in {directory}: this test needs a filesystem that reuses inodes")
    finally:
        for p in extra:
            p.unlink()


def test_inode_reuse_is_a_new_file(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    old = logs / "old.log"
    old.write_bytes(b"old file, first line\nold file, second line, long enough to pass the new file\n")
    out = tmp_path / "out.log"
    cfg = config(tmp_path, [logs / "*.log"], out)
    d = Daemon(bifrost, cfg)
    wait_lines(out, 2)
    d.stop()
    ino = old.stat().st_ino
    old.unlink()
    new = reuse_inode(logs, ino, b"new file\n")  # same inode, shorter than the old offset
    d = Daemon(bifrost, cfg)
    wait_lines(out, 3)
    d.stop()
    assert lines(out)[2] == b"new file"
    # While running: the file is closed (close_inactive), then holds other
    # content on the same inode, longer than what was read: the known
    # inode's fingerprint no longer matches, so it is read from the start.
    cfg = config(tmp_path, [logs / "*.log"], out, input_opts="    close_inactive: 300ms")
    d = Daemon(bifrost, cfg)
    time.sleep(1.5)  # closed by now
    with open(new, "r+b") as f:
        f.write(b"another content, longer than the one before\n")
    wait_lines(out, 4)
    d.stop()
    assert lines(out)[3] == b"another content, longer than the one before"
    assert len(lines(out)) == 4


def test_a_50mb_line_is_cut_and_nothing_is_lost(bifrost, tmp_path):
    log = tmp_path / "big.log"
    big = b"x" * (50 << 20)
    log.write_bytes(b"before\n" + big + b"\nafter\n")
    out = tmp_path / "out.ndjson"
    d = Daemon(bifrost, config(tmp_path, [log], out, encoding="json"))
    wait_lines(out, 6, 60)
    d.stop()
    events = read_json_lines(out)
    assert [e["message"] for e in events][0] == "before"
    assert events[-1]["message"] == "after"
    pieces = events[1:-1]
    assert "".join(e["message"] for e in pieces) == big.decode()
    assert [len(e["message"]) for e in pieces] == [16 << 20, 16 << 20, 16 << 20, 2 << 20]
    assert all("line_cut" in e["tags"] for e in pieces)


def test_nul_bytes_and_invalid_utf8_are_kept(bifrost, tmp_path):
    log = tmp_path / "bin.log"
    raw = [b"nul\x00inside", b"bad \xff\xfe utf8", b"cut \xe2\x82", b"ok \xe2\x82\xac"]
    log.write_bytes(b"\n".join(raw) + b"\n")
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [log], out))
    wait_lines(out, 4)
    d.stop()
    assert lines(out) == raw  # text encoding: the bytes as they were
    jout = tmp_path / "out.ndjson"
    (tmp_path / "data").rename(tmp_path / "data-1")
    d = Daemon(bifrost, config(tmp_path, [log], jout, encoding="json"))
    wait_lines(jout, 4)
    d.stop()
    events = read_json_lines(jout)  # valid JSON for every line
    assert events[0]["message"] == "nul\x00inside"
    assert events[3]["message"] == "ok \u20ac"


def test_a_thousand_files_in_one_directory(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    expected = []
    for i in range(1000):
        body = b"".join(b"file %04d line %d\n" % (i, j) for j in range(5))
        (logs / f"f{i:04d}.log").write_bytes(body)
        expected += body.splitlines()
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [logs / "*.log"], out,
                               input_opts="    max_open_files: 64\n    close_inactive: 1s"))
    wait_lines(out, 5000, 60)
    for i in range(0, 1000, 10):  # more lines, to files closed by now
        with open(logs / f"f{i:04d}.log", "ab") as f:
            f.write(b"file %04d late\n" % i)
            expected.append(b"file %04d late" % i)
    wait_lines(out, 5100, 60)
    d.stop()
    got = lines(out)
    assert collections.Counter(got) == collections.Counter(expected)
    # Per file, in order.
    for i in (0, 500, 990):
        prefix = b"file %04d " % i
        assert [x for x in got if x.startswith(prefix)] == [x for x in expected if x.startswith(prefix)]


class Writer(threading.Thread):
    """Appends numbered lines to `path`, reopening it for every chunk (as a logger that follows rotation does)."""

    def __init__(self, path, total, chunk=200, pause=0.004):
        super().__init__(daemon=True)
        self.path, self.total, self.chunk, self.pause = path, total, chunk, pause
        self.written = 0
        # Set by rotate_while once it has rotated enough: the last chunk waits
        # for it, so the writing lasts through the rotations however slow
        # logrotate runs on a loaded machine.
        self.rotated_enough = threading.Event()
        self.rotated_enough.set()

    def run(self):
        while self.written < self.total:
            n = min(self.chunk, self.total - self.written)
            if self.written + n == self.total:
                self.rotated_enough.wait(120)
            with open(self.path, "ab") as f:
                f.write(numbered(self.written, self.written + n))
            self.written += n
            time.sleep(self.pause)


def rotate_while(writer, conf, state, every=0.2, at_least=0):
    """Rotates every `every` seconds while `writer` writes. With `at_least`
    (and writer.rotated_enough cleared before writer.start()), the writer's
    last chunk waits until that many rotations were made."""
    rotations = 0
    while writer.is_alive() or not writer.rotated_enough.is_set():
        r = subprocess.run([LOGROTATE, "-f", "-s", str(state), str(conf)], capture_output=True)
        assert r.returncode == 0, r.stderr.decode()
        rotations += 1
        if rotations >= at_least:
            writer.rotated_enough.set()
        time.sleep(every)
    return rotations


def logrotate_conf(tmp, log, mode):
    return write(tmp / "logrotate.conf", f"""
{log} {{
    {mode}
    rotate 100000
    missingok
    nocompress
}}
""")


def on_disk(log):
    found = []
    for p in sorted(log.parent.glob(log.name + "*")):
        found += p.read_bytes().splitlines()
    return found


def test_logrotate_create_under_load_every_line_once(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    out = tmp_path / "out.log"
    # Only app.log matches: a rotated file must be read to its end after its rename.
    d = Daemon(bifrost, config(tmp_path, [log], out, input_opts="    rotate_wait: 1s"))
    w = Writer(log, 200_000)
    w.rotated_enough.clear()
    w.start()
    rotations = rotate_while(w, logrotate_conf(tmp_path, log, "create"), tmp_path / "lr.state", 0.15, at_least=10)
    w.join()
    # When the writer recreates app.log before logrotate does, logrotate
    # moves the writer's file aside (app.log-<date>.backup), out of `paths`,
    # within a millisecond: those lines cannot be asked for.
    moved = set()
    for p in logs.glob("*.backup"):
        moved |= set(p.read_bytes().splitlines())
    expected = [x for x in numbered(0, 200_000).splitlines() if x not in moved]
    assert len(moved) <= 2_000, len(moved)
    wait_lines(out, len(expected), 60)
    time.sleep(1)
    err = d.stop()
    assert rotations >= 10, rotations
    got = lines(out)
    counts = collections.Counter(got)
    written = numbered(0, 200_000).splitlines()
    missing = set(expected) - set(got)
    assert not missing, f"{len(missing)} lines missing, e.g. {sorted(missing)[:3]}; {err[-2000:]}"
    assert set(got) <= set(written) and max(counts.values()) == 1
    # One source at a time here: order kept (what was read of a moved-aside file included).
    assert got == [x for x in written if x in counts]
    assert "read to its end" in err


def test_logrotate_copytruncate_under_load_every_line_once(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    out = tmp_path / "out.log"
    # app.log* matches the rotated copies too: each is known by its first
    # bytes as the continuation of what was read, never read again.
    d = Daemon(bifrost, config(tmp_path, [str(log) + "*"], out))
    w = Writer(log, 200_000)
    w.rotated_enough.clear()
    w.start()
    rotations = rotate_while(w, logrotate_conf(tmp_path, log, "copytruncate"), tmp_path / "lr.state", 0.15,
                             at_least=10)
    w.join()
    disk = on_disk(log)
    # copytruncate itself loses what is written between its copy and its
    # truncate (logrotate(8) says so): compare with what is on disk.
    wait_lines(out, len(disk), 60)
    time.sleep(1.5)
    err = d.stop()
    got = lines(out)
    counts = collections.Counter(got)
    dups = {k: v for k, v in counts.items() if v > 1}
    assert rotations >= 10, rotations
    assert not dups, f"{len(dups)} lines read twice, e.g. {list(dups)[:3]}; {err[-3000:]}"
    # Every line on disk is read; lines logrotate lost from the disk may
    # still have been read from the original before its truncation.
    missing = set(disk) - set(got)
    assert not missing, f"{len(missing)} lines on disk not read, e.g. {sorted(missing)[:3]}; {err[-3000:]}"
    written = set(numbered(0, 200_000).splitlines())
    assert set(got) <= written
    print(f"copytruncate: {rotations} rotations; logrotate's copy/truncate window left {len(written) - len(disk)}"
          f" lines off the disk, of which bifrost still read {len(got) - len(disk)}")
    assert "continues" in err


def test_kill_9_during_rotation_loses_nothing(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    out = tmp_path / "out.log"
    cfg = config(tmp_path, [str(log) + "*"], out)
    w = Writer(log, 200_000, chunk=200, pause=0.01)
    w.start()
    conf = logrotate_conf(tmp_path, log, "create")
    kills = 0
    d = Daemon(bifrost, cfg)
    rotations = 0
    last_kill = time.time()
    while w.is_alive():
        subprocess.run([LOGROTATE, "-f", "-s", str(tmp_path / "lr.state"), str(conf)], check=True)
        rotations += 1
        time.sleep(0.2)
        if time.time() - last_kill > 1.5:
            d.kill()
            kills += 1
            d = Daemon(bifrost, cfg)
            last_kill = time.time()
    w.join()
    expected = numbered(0, 200_000).splitlines()
    ok = wait_for(lambda: set(lines(out)) >= set(expected), 90)
    d.stop()
    got = lines(out)
    missing = set(expected) - set(got)
    assert ok and not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:3]}"
    assert kills >= 3, kills
    dups = len(got) - len(set(got))
    print(f"kill -9: {kills} kills, {rotations} rotations, {dups} duplicates ({dups / len(expected):.2%})")
    # A kill in the middle of a write leaves the start of a line, which the
    # next run ends with a newline: at most one per kill, and its line was
    # delivered again whole. Nothing else.
    torn = set(got) - set(expected)
    assert len(torn) <= kills, f"{len(torn)} lines not written, e.g. {sorted(torn)[:3]}"
    assert all(any(e.startswith(t) for e in expected) for t in torn), sorted(torn)[:3]


def test_checkpoint_entries_of_vanished_files_expire(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(300):
        (logs / f"r{i}.log").write_bytes(b"rotated file %d\n" % i)
    out = tmp_path / "out.log"
    cfg = config(tmp_path, [logs / "*.log"], out, input_opts="    forget_after: 1s\n    rotate_wait: 100ms")
    d = Daemon(bifrost, cfg)
    wait_lines(out, 300)
    ckpt = tmp_path / "data" / "checkpoints" / "main" / "tail.ckpt"

    def entries():
        try:
            return ckpt.read_bytes().count(b'"ino"')
        except FileNotFoundError:
            return -1

    assert wait_for(lambda: entries() == 300, 10)
    for i in range(300):
        (logs / f"r{i}.log").unlink()
    (logs / "live.log").write_bytes(b"still here\n")
    ok = wait_for(lambda: entries() == 1, 15)
    d.stop()
    assert ok, ckpt.read_bytes()[:500]
    assert b"live.log" in ckpt.read_bytes()


def test_corrupt_checkpoint_is_reported_and_files_are_read_again(bifrost, tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntwo\n")
    out = tmp_path / "out.log"
    cfg = config(tmp_path, [log], out, input_opts="    start_at: end")
    d = Daemon(bifrost, cfg)
    time.sleep(1.5)
    d.stop()
    ckpt = tmp_path / "data" / "checkpoints" / "main" / "tail.ckpt"
    data = bytearray(ckpt.read_bytes())
    data[-10] ^= 0x55  # flip bits: the checksum no longer matches
    ckpt.write_bytes(bytes(data))
    d = Daemon(bifrost, cfg)
    wait_lines(out, 2)
    err = d.stop()
    assert "corrupt checkpoint (checksum mismatch)" in err
    assert list(ckpt.parent.glob("tail.ckpt.corrupt-*")), "the corrupt checkpoint is kept for inspection"
    assert lines(out) == [b"one", b"two"]  # read from the start: duplicates, never loss
    ckpt.write_bytes(b"garbage")
    d = Daemon(bifrost, cfg)
    wait_lines(out, 4)
    err = d.stop()
    assert "corrupt checkpoint (no valid header)" in err


def test_multiline_start_continuation_timeout_and_max_lines(bifrost, tmp_path):
    log = tmp_path / "app.log"
    trace = (b"2026-01-01 ERROR boom\n"
             b"  at a.b(c.java:1)\n"
             b"  at d.e(f.java:2)\n"
             b"2026-01-01 INFO fine\n")
    log.write_bytes(trace + b"2026-01-01 WARN last one\n  with a detail\n")
    out = tmp_path / "out.ndjson"
    opts = "    multiline: {start: '^\\d{4}-', max_lines: 3, timeout: 300ms}"
    d = Daemon(bifrost, config(tmp_path, [log], out, input_opts=opts, encoding="json"))
    wait_lines(out, 3)  # the last event is sent once the timeout passes
    with open(log, "ab") as f:
        f.write(b"2026-01-01 ERROR long\n" + b"".join(b"  frame %d\n" % i for i in range(4)) + b"2026-01-01 end\n")
    wait_lines(out, 5)
    time.sleep(0.6)
    d.stop()
    events = read_json_lines(out)
    msgs = [e["message"] for e in events]
    assert msgs[:3] == ["2026-01-01 ERROR boom\n  at a.b(c.java:1)\n  at d.e(f.java:2)", "2026-01-01 INFO fine",
                        "2026-01-01 WARN last one\n  with a detail"]
    assert msgs[3] == "2026-01-01 ERROR long\n  frame 0\n  frame 1"
    assert "multiline_cut" in events[3]["tags"]
    assert msgs[4] == "  frame 2\n  frame 3"
    assert msgs[5] == "2026-01-01 end"
    assert [e["log"]["offset"] for e in events[:3]] == [0, len(trace) - 21, len(trace)]


def test_multiline_continuation_pattern(bifrost, tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(b"Traceback:\n  line 1\n  line 2\nnext\n")
    out = tmp_path / "out.ndjson"
    d = Daemon(bifrost, config(tmp_path, [log], out, encoding="json",
                               input_opts="    multiline: {continuation: '^\\s', timeout: 200ms}"))
    wait_lines(out, 2)
    time.sleep(0.5)
    d.stop()
    assert [e["message"] for e in read_json_lines(out)] == ["Traceback:\n  line 1\n  line 2", "next"]


def test_metrics_file_lag_and_open_files(bifrost, tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = tmp_path / "app.log"
    log.write_bytes(numbered(0, 100))
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [log], out, api=f"127.0.0.1:{port}"))
    wait_lines(out, 100)
    import urllib.request

    def metrics():
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()

    assert wait_for(lambda: f'bifrost_file_lag_bytes{{pipeline="main",component="tail",path="{log}"}} 0' in metrics(), 5)
    m = metrics()
    d.stop()
    assert 'bifrost_files_open{pipeline="main",component="tail"} 1' in m
    assert 'bifrost_checkpoint_duration_seconds_count{pipeline="main",component="tail"}' in m


def test_reload_keeps_the_position(bifrost, tmp_path):
    log = tmp_path / "app.log"
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [log], out))
    w = Writer(log, 50_000, chunk=500, pause=0.01)
    w.start()
    for _ in range(3):
        time.sleep(0.3)
        d.p.send_signal(signal.SIGHUP)
    w.join()
    expected = numbered(0, 50_000).splitlines()
    wait_lines(out, len(expected))
    time.sleep(0.5)
    err = d.stop()
    assert err.count("reloaded") == 3
    assert lines(out) == expected  # once each, in order, across three reloads


def test_a_deleted_file_is_read_to_its_end_and_kept_open_for_late_writes(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    log.write_bytes(numbered(0, 100))
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [logs / "*.log"], out, "    rotate_wait: 2s"))
    wait_lines(out, 100)

    assert str(log) in d.open_files()
    with open(log, "ab", buffering=0) as f:  # a writer that keeps it open
        f.write(numbered(100, 200))
        log.unlink()
        assert wait_for(lambda: ": deleted; reading it to its end" in d.logged(), 10), d.logged()
        wait_lines(out, 200)
        f.write(numbered(200, 250))  # written after bifrost saw the delete: still read
        f.write(b"partial, ")
        time.sleep(0.5)
        f.write(b"then whole\n")
        wait_lines(out, 251)
    assert any(str(log) in p for p in d.open_files())  # within rotate_wait of the last write
    assert wait_for(lambda: not any(str(log) in p for p in d.open_files()), 10), d.open_files()
    err = d.stop()
    assert lines(out) == numbered(0, 250).splitlines() + [b"partial, then whole"]
    assert "deleted, read to its end" in err


def test_a_copy_of_a_deleted_file_continues_it(bifrost, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    log.write_bytes(numbered(0, 100))
    out = tmp_path / "out.log"
    d = Daemon(bifrost, config(tmp_path, [logs / "app.log*"], out, "    rotate_wait: 1s"))
    wait_lines(out, 100)
    copy = logs / "app.log.1"
    shutil.copyfile(log, copy)  # cp, then rm: the copy is a new inode with the same first bytes
    log.unlink()
    with open(copy, "ab") as f:
        f.write(numbered(100, 150))
    wait_lines(out, 150)
    time.sleep(1)
    err = d.stop()
    assert lines(out) == numbered(0, 150).splitlines()  # nothing read twice
    assert "continues" in err
