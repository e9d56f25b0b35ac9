"""Shared helpers for the end-to-end tests: they drive build/bifrost like a user."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIFROST = pathlib.Path(os.environ.get("BIFROST_BIN", ROOT / "build" / "bifrost"))
# The loghub samples beside the repository; BIFROST_LOGHUB for a checkout elsewhere (a worktree).
LOGHUB = pathlib.Path(os.environ.get("BIFROST_LOGHUB", ROOT.parent / "shared" / "data" / "loghub"))
sys.path.insert(0, str(ROOT / "tests" / "support"))  # the shared helpers (stateful.py)


@pytest.fixture(scope="session")
def bifrost():
    if not BIFROST.exists():
        pytest.fail(f"{BIFROST} is missing: build first (scripts/test does)")
    return str(BIFROST)


def write(path, text):
    path = pathlib.Path(path)
    path.write_text(text)
    return str(path)


def run(bifrost, *args, input=None, timeout=60, env=None):
    return subprocess.run([bifrost, *args], input=input, capture_output=True, timeout=timeout, env=env)


def stdin_to_file_config(out_path, encoding="json", extra_filters="", stdin_opts=""):
    # No API: these runs must not depend on a fixed port being free.
    return f"""
api: {{listen: "off"}}
inputs:
  - id: in
    type: stdin
{stdin_opts}
{extra_filters}
outputs:
  - id: out
    type: file
    path: {out_path}
    encoding: {encoding}
"""


def read_json_lines(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f]


def wait_for(pred, timeout=10.0):
    """Polls `pred` until it holds or `timeout` seconds pass; returns whether it held."""
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def _bifrost_children():
    """The bifrost processes this pytest process started that still run."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if comm.startswith("bifrost") and int(rest[1]) == os.getpid() and rest[0] != "Z":
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def no_daemon_left_running():
    """A test that fails before it stops its daemon does not leave it running
    into the next tests (one was found still running after its CI run)."""
    yield
    for pid in _bifrost_children():
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


class Daemon:
    """bifrost run in the background; its log goes to a file (a pipe nobody reads would block it)."""

    def __init__(self, bifrost, cfg):
        self.log = open(pathlib.Path(cfg).parent / f"bifrost-{time.monotonic_ns()}.log", "w+b")
        self.p = subprocess.Popen([bifrost, "run", "-c", cfg], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=self.log)

    def logged(self):
        """What it has logged so far."""
        return open(self.log.name, errors="replace").read()

    def open_files(self):
        """The paths it holds open now (an fd closed while looking is skipped)."""
        held = []
        for fd in os.listdir(f"/proc/{self.p.pid}/fd"):
            try:
                held.append(os.readlink(f"/proc/{self.p.pid}/fd/{fd}"))
            except FileNotFoundError:
                pass
        return held

    def handles(self, sig):
        """Whether bifrost has blocked `sig` for its signal thread: from then
        on the signal is its stop (or reload); before (the dynamic loader,
        the first microseconds of main) it would kill the process. Any of
        its threads shows it (the main thread's mask is lifted while it
        waits in sigtimedwait; the others inherit it)."""
        try:
            for task in os.listdir(f"/proc/{self.p.pid}/task"):
                with open(f"/proc/{self.p.pid}/task/{task}/status") as f:
                    blocked = next(int(line.split()[1], 16) for line in f if line.startswith("SigBlk:"))
                if blocked >> (int(sig) - 1) & 1:
                    return True
        except (OSError, StopIteration):
            return self.p.poll() is not None
        return False

    def stop(self, sig=signal.SIGTERM):
        wait_for(lambda: self.p.poll() is not None or self.handles(sig), 10)
        self.p.send_signal(sig)
        self.p.wait(timeout=60)
        self.log.seek(0)
        err = self.log.read().decode(errors="replace")
        self.log.close()
        if sig == signal.SIGTERM:
            assert self.p.returncode == 0, err
        return err

    def kill(self):
        self.p.kill()
        self.p.wait()
        self.log.close()


def lines(path):
    try:
        return path.read_bytes().splitlines()
    except FileNotFoundError:
        return []


def whole_lines(path):
    """The lines of a file another process is still writing: a last line
    without its newline is left for later."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return data[:data.rfind(b"\n") + 1].splitlines()


def wait_lines(out, n, timeout=60):
    ok = wait_for(lambda: len(lines(out)) >= n, timeout)
    assert ok, f"{len(lines(out))} lines out of {n} after {timeout}s"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
