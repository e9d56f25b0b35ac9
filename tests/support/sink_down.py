"""The "sink down for N seconds" of the service tests: a log that keeps
growing while the real service behind an output is stopped and started
again (tests/services/NAME.sh), and what the run's stderr says of memory."""
import re
import time

from realservices import service


def outage(name, seconds, tick, every=0.1):
    """Stops service NAME for about `seconds`, calling tick() every `every`
    seconds meanwhile (a writer that goes on), then starts it again."""
    service(name, "stop")
    try:
        for _ in range(int(seconds / every)):
            tick()
            time.sleep(every)
    finally:
        service(name, "start")


class Feed:
    """Appends lines to a log file: make(k, start) gives k lines numbered
    from `start`; `written` counts them."""

    def __init__(self, path, make):
        self.path, self.make, self.written = path, make, 0

    def add(self, k):
        with open(self.path, "a") as f:
            f.write(self.make(k, self.written))
        self.written += k


def feed_through_an_outage(feed, name, seconds=30, before=(10, 500), during=100, after=(1, 1000)):
    """Lines before (rounds, lines a round, 0.1 s apart), `during` lines every
    0.1 s while service NAME is down for `seconds`, then lines after; returns
    how many were written in all."""
    for _ in range(before[0]):
        feed.add(before[1])
        time.sleep(0.1)
    outage(name, seconds, lambda: feed.add(during))
    for i in range(after[0]):
        feed.add(after[1])
        if i + 1 < after[0]:
            time.sleep(0.1)
    return feed.written


def peak_rss_kib(stderr):
    """The peak RSS bifrost reports at its stop (its summary line)."""
    return int(re.search(r"peak_rss_kib=(\d+)", stderr).group(1))
