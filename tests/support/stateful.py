"""Helpers of the stateful stages' tests (aggregate, dedupe, throttle): a
generated nginx access log whose exact roll-up the test knows, and running
bifrost through kill -9s."""
import json
import random
import signal
import subprocess
import time
import urllib.request

T0 = 1_700_000_040  # 2023-11-14T22:14:00Z, a minute boundary
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
STATUSES = [200] * 14 + [301, 304, 404, 404, 500]
PATHS = ["/", "/a", "/api/v1/users", "/static/app.js", "/login"]

# What the tests' pipelines parse the log with.
NGINX_FILTERS = r"""
  - id: parse
    type: parse_regex
    field: message
    pattern: '^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+)[^"]*" (?P<status>\d{3}) (?P<bytes>\d+)'
    types: {status: int, bytes: int}
    on_mismatch: drop
  - id: time
    type: parse_timestamp
    field: time
    formats: ["%d/%b/%Y:%H:%M:%S %z"]
"""


class Row:
    __slots__ = ("t", "client", "status", "bytes", "late")

    def __init__(self, t, client, status, nbytes, late):
        self.t, self.client, self.status, self.bytes, self.late = t, client, status, nbytes, late


def nginx_log(n, span_s=7200, seed=7, clients=3000, jitter_s=0, late_every=0, late_by_s=600):
    """`n` access-log lines over `span_s` seconds from T0, in order but each
    moved by up to +-jitter_s, and every late_every-th line (past the first
    20 minutes) late_by_s late: (the lines, the rows they hold)."""
    rnd = random.Random(seed)
    ips = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(clients)]
    stamps = {}
    rows, out = [], []
    for i in range(n):
        t = T0 + i * span_s // n
        late = bool(late_every) and i % late_every == late_every - 1 and t - late_by_s >= T0 + 1200
        if late:
            t -= late_by_s
        elif jitter_s:
            t = max(T0, t + rnd.randint(-jitter_s, jitter_s))
        s = stamps.get(t)
        if s is None:
            g = time.gmtime(t)
            s = stamps[t] = (f"{g.tm_mday:02d}/{MONTHS[g.tm_mon - 1]}/{g.tm_year}:"
                             f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} +0000")
        row = Row(t, rnd.choice(ips), rnd.choice(STATUSES), rnd.randrange(100, 50000), late)
        rows.append(row)
        out.append(f'{row.client} - - [{s}] "GET {rnd.choice(PATHS)} HTTP/1.1" {row.status} {row.bytes}\n')
    return out, rows


def append(path, lines):
    with open(path, "a") as f:
        f.write("".join(lines))


def per_minute(rows):
    """{(window start, status): [count, byte sum, set of clients]}, late lines left out."""
    out = {}
    for r in rows:
        if r.late:
            continue
        e = out.setdefault((r.t // 60 * 60, r.status), [0, 0, set()])
        e[0] += 1
        e[1] += r.bytes
        e[2].add(r.client)
    return out


# count_distinct: exact up to 1024 values, else a HyperLogLog with a
# standard error of 0.81%; the tests allow three standard errors.
def distinct_ok(got, exact):
    return got == exact if exact <= 1024 else abs(got - exact) <= 3 * 0.0081 * exact


def scrape(port, name, component):
    """The value of metric `name` for `component` on bifrost's /metrics, or 0."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name + "{") and f'component="{component}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0


class Runs:
    """bifrost runs of one config, killed (-9) at chosen moments, then run
    to its end with a second config (the same pipeline, end_at_eof)."""

    def __init__(self, bifrost, cfg, port, input_id, timeout=300):
        self.bifrost, self.cfg, self.port, self.input_id, self.timeout = bifrost, cfg, port, input_id, timeout
        self.n = self.kills = 0

    def _start(self, cfg):
        self.n += 1
        self.log = open(f"{cfg}.{self.n}.log", "w+b")
        return subprocess.Popen([self.bifrost, "run", "-c", cfg], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=self.log)

    def _events_in(self):
        return scrape(self.port, "bifrost_events_in_total", self.input_id)

    def _kill(self, p):
        assert p.poll() is None, f"bifrost ended before it was killed:\n{open(self.log.name).read()[-3000:]}"
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.kills += 1

    def json_events(self, path):
        """The events of a file output's file written across these runs. A
        kill -9 in the middle of a write leaves a partial line, which the
        next run ends with a newline (and warns of): those lines, at most
        one per kill, are left out (their events were not acknowledged and
        were delivered again); any other line that is not JSON fails."""
        events, torn = [], []
        with open(path, "rb") as f:
            for line in f:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    torn.append(line[:200])
        assert len(torn) <= self.kills, f"{len(torn)} lines are not JSON after {self.kills} kills: {torn[:3]}"
        return events

    def kill_while_reading(self, after):
        """Killed once its input has read `after` events: mid-stream."""
        p = self._start(self.cfg)
        end = time.time() + self.timeout
        while time.time() < end and p.poll() is None and self._events_in() < after:
            time.sleep(0.02)
        self._kill(p)

    def kill_when_idle(self):
        """Killed once it has read everything there is and its checkpoint
        had time to be saved (every second): whatever the input's
        checkpoint may pass, it has passed; the open windows are open."""
        p = self._start(self.cfg)
        seen, since = -1, time.time()
        end = time.time() + self.timeout
        while time.time() < end and p.poll() is None:
            now = self._events_in()
            if now != seen or now == 0:
                seen, since = now, time.time()
            elif time.time() - since > 1.0:
                break
            time.sleep(0.05)
        time.sleep(1.5)
        self._kill(p)

    def run_to_end(self, cfg):
        """Runs `cfg` (end_at_eof) until it exits by itself; its log."""
        p = self._start(cfg)
        try:
            p.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            raise AssertionError(f"bifrost did not end by itself:\n{open(self.log.name).read()[-3000:]}")
        text = open(self.log.name, errors="replace").read()
        assert p.returncode == 0, text[-3000:]
        return text
