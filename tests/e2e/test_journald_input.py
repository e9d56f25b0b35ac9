"""The journald input on real journal files, written by systemd-journal-remote
from journal export format: fields, unit and priority matches, new files
picked up while running (rotation), resumed by cursor after kill -9 with
nothing lost, and a vacuumed file."""
import re
import shutil
import signal
import subprocess
import uuid

import pytest

from conftest import Daemon, lines, wait_for, write

REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = uuid.uuid4().hex


def journal(path, entries, first=0):
    """Writes `entries` (lists of (NAME, value)) into the journal file `path` with systemd-journal-remote,
    entry i at realtime and monotonic time first+i of one boot (so that a later file sorts after an earlier
    one, as journald's own files do)."""
    exe = shutil.which("systemd-journal-remote") or REMOTE
    assert shutil.os.path.exists(exe), "systemd-journal-remote is missing: scripts/test installs it (TEST_PACKAGES)"
    out = []
    for i, fields in enumerate(entries):
        out.append(f"__REALTIME_TIMESTAMP={1_700_000_000_000_000 + (first + i) * 1000}\n")
        out.append(f"__MONOTONIC_TIMESTAMP={1000 + first + i}\n_BOOT_ID={BOOT}\n")
        out += [f"{k}={v}\n" for k, v in fields]
        out.append("\n")
    p = subprocess.run([exe, "-o", str(path), "-"], input="".join(out).encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr


def numbered(n, first=0, unit="app.service", prio=6):
    return [[("MESSAGE", f"entry {first + i}"), ("_SYSTEMD_UNIT", unit), ("PRIORITY", str(prio)), ("_PID", "42"),
             ("SYSLOG_IDENTIFIER", "app"), ("CODE_LINE", str(i))] for i in range(n)]


def config(tmp, directory, extra="", out=None):
    out = out or tmp / "out.json"
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / 'data'}
api: {{listen: "off"}}
inputs:
  - id: j
    type: journald
    directory: {directory}
    batch_events: 100
{extra}
outputs:
  - id: out
    type: file
    path: {out}
""")


def numbers(path):
    return [int(m) for m in re.findall(rb'"message":"entry (\d+)"', path.read_bytes())] if path.exists() else []


def test_entries_become_events_with_ecs_fields(bifrost, tmp_path):
    d = tmp_path / "journal"
    d.mkdir()
    journal(d / "a.journal", [[("MESSAGE", "hello"), ("_SYSTEMD_UNIT", "nginx.service"), ("PRIORITY", "3"),
                               ("_PID", "1234"), ("_COMM", "nginx"), ("_HOSTNAME", "web1"),
                               ("_SOURCE_REALTIME_TIMESTAMP", "1699999999000001"), ("CODE_FILE", "main.c")]])
    dm = Daemon(bifrost, config(tmp_path, d))
    assert wait_for(lambda: len(lines(tmp_path / "out.json")) == 1)
    dm.stop()
    import json
    e = json.loads(lines(tmp_path / "out.json")[0])
    assert e["message"] == "hello"
    assert e["@timestamp"] == "2023-11-14T22:13:19.000001000Z"  # the source's time
    assert e["systemd"] == {"unit": "nginx.service"}
    assert e["process"] == {"pid": 1234, "name": "nginx"}
    assert e["log"]["syslog"]["priority"] == 3
    assert e["host"] == {"hostname": "web1"}
    assert e["journald"]["CODE_FILE"] == "main.c" and e["journald"]["_BOOT_ID"] == BOOT


def test_units_and_priority_select_entries(bifrost, tmp_path):
    d = tmp_path / "journal"
    d.mkdir()
    journal(d / "a.journal", numbered(10, 0, "app.service", 6) + numbered(10, 10, "other.service", 6) +
            numbered(10, 20, "app.service", 3) + numbered(10, 30, "app.service", 7))
    dm = Daemon(bifrost, config(tmp_path, d, "    units: [app]\n    priority: info"))
    assert wait_for(lambda: len(lines(tmp_path / "out.json")) >= 20)
    dm.stop()
    assert sorted(numbers(tmp_path / "out.json")) == list(range(0, 10)) + list(range(20, 30))


def test_new_files_are_read_while_running_and_start_at_end(bifrost, tmp_path):
    d = tmp_path / "journal"
    d.mkdir()
    journal(d / "a.journal", numbered(50))
    dm = Daemon(bifrost, config(tmp_path, d, "    start_at: end"))
    assert "reading the journal" in dm.logged() or wait_for(lambda: "reading the journal" in dm.logged())
    # A rotated-in file appears: its entries are read; the old ones never were (start_at: end).
    journal(d / "b.journal", numbered(50, 50), first=50)
    assert wait_for(lambda: len(lines(tmp_path / "out.json")) >= 50, 20), dm.logged()
    dm.stop()
    assert numbers(tmp_path / "out.json") == list(range(50, 100))


def test_resumed_by_cursor_after_kill_9_with_nothing_lost_and_a_vacuumed_file(bifrost, tmp_path):
    d = tmp_path / "journal"
    d.mkdir()
    journal(d / "a.journal", numbered(3000))
    # First the output cannot write (a file stands where its directory goes): entries are read into
    # the pipeline's batches but never delivered. A checkpoint that moved on reading would lose them.
    blocker = tmp_path / "held"
    blocker.write_text("in the way")
    out = blocker / "out.json"
    cfg = config(tmp_path, d, out=out)
    dm = Daemon(bifrost, cfg)
    assert wait_for(lambda: "write failed" in dm.logged())
    import time
    time.sleep(1.5)  # past a checkpoint interval
    dm.p.send_signal(signal.SIGKILL)
    dm.p.wait()
    blocker.unlink()
    journal(d / "b.journal", numbered(2000, 3000), first=3000)
    dm = Daemon(bifrost, cfg)
    # Killed again while delivering: what was not acknowledged comes again.
    assert wait_for(lambda: len(numbers(out)) >= 1000)
    dm.p.send_signal(signal.SIGKILL)
    dm.p.wait()
    before = len(numbers(out))
    dm = Daemon(bifrost, cfg)
    assert wait_for(lambda: set(numbers(out)) >= set(range(5000)), 30), len(set(numbers(out)))
    dm.stop()
    got = numbers(out)
    assert set(got) == set(range(5000))  # nothing lost
    assert len(got) - 5000 <= before  # read again at most what the second run had delivered
    # A clean stop saved the cursor of the last entry: a restart reads nothing again. The oldest
    # file is vacuumed, a new one written: only the new entries come.
    size = len(got)
    dm = Daemon(bifrost, cfg)
    assert wait_for(lambda: "resuming after the checkpointed cursor" in dm.logged())
    (d / "a.journal").unlink()
    journal(d / "c.journal", numbered(100, 5000), first=5000)
    assert wait_for(lambda: len(numbers(out)) >= size + 100, 20)
    dm.stop()
    assert numbers(out)[size:] == list(range(5000, 5100))


def test_a_kill_9_right_after_delivery_sends_nothing_again(bifrost, tmp_path):
    # The cursor's live copy follows each acknowledgement: killed a moment
    # after the last entry is written (within the second between durable
    # saves), bifrost resumes after it; nothing comes twice.
    d = tmp_path / "journal"
    d.mkdir()
    journal(d / "a.journal", numbered(3000))
    out = tmp_path / "out.json"
    cfg = config(tmp_path, d, out=out)
    dm = Daemon(bifrost, cfg)
    assert wait_for(lambda: len(numbers(out)) >= 3000, 20)
    dm.p.send_signal(signal.SIGKILL)
    dm.p.wait()
    journal(d / "b.journal", numbered(100, 3000), first=3000)
    dm = Daemon(bifrost, cfg)
    assert wait_for(lambda: len(numbers(out)) >= 3100, 20), dm.logged()
    dm.stop()
    assert numbers(out) == list(range(3100))  # each once, in order
