"""config/examples/loghub-*.yaml parse the loghub samples; every field of every
line must equal loghub's own structured parse (*_structured.csv)."""
import csv
import datetime
import json

import pytest

from conftest import LOGHUB, ROOT, run

# How to read each reference's time columns: (format, columns joined by a
# space). Syslog stamps have no year: only what they hold is compared.
TIMES = {
    "Apache": ("%a %b %d %H:%M:%S %Y", ["Time"]),
    "HDFS": ("%y%m%d %H%M%S", ["Date", "Time"]),
    "Linux": ("%b %d %H:%M:%S", ["Month", "Date", "Time"]),
    "OpenSSH": ("%b %d %H:%M:%S", ["Date", "Day", "Time"]),
}

# loghub column -> bifrost field (loghub's names are its own: Linux's "Level"
# is the host, OpenSSH's "Component" is the host).
CASES = {
    "Apache": ("loghub-apache", {"Time": "time", "Level": "level", "Content": "content"}),
    "HDFS": ("loghub-hdfs", {"Date": "date", "Time": "time", "Pid": "pid", "Level": "level",
                             "Component": "component", "Content": "content"}),
    "Linux": ("loghub-linux", {"Month": "month", "Date": "day", "Time": "time", "Level": "host",
                               "Component": "component", "PID": "pid", "Content": "content"}),
    "OpenSSH": ("loghub-openssh", {"Date": "month", "Day": "day", "Time": "time", "Component": "host",
                                   "Pid": "pid", "Content": "content"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_field_of_every_line_matches_the_reference(bifrost, name):
    config, columns = CASES[name]
    data = (LOGHUB / f"{name}_2k.log").read_bytes()
    r = run(bifrost, "run", "-c", str(ROOT / "config" / "examples" / f"{config}.yaml"), input=data)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    with open(LOGHUB / f"{name}_2k.log_structured.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(events) == len(rows) == 2000
    mismatches = []
    for event, row in zip(events, rows):
        assert "tags" not in event, (row["LineId"], event)
        for column, field in columns.items():
            got = event.get(field, "")
            if str(got) != row[column]:
                mismatches.append((row["LineId"], column, row[column], got))
    assert not mismatches, mismatches[:5]
    # The parsed time: @timestamp (UTC: the logs carry no zone) against the reference's text.
    fmt, cols = TIMES[name]
    for event, row in zip(events, rows):
        want = datetime.datetime.strptime(" ".join(row[c] for c in cols), fmt)
        got = datetime.datetime.strptime(event["@timestamp"][:19], "%Y-%m-%dT%H:%M:%S")
        if "%Y" in fmt or "%y" in fmt:
            assert got == want, (row["LineId"], event["@timestamp"], row)
        else:
            assert (got.month, got.day, got.time()) == (want.month, want.day, want.time()), (row["LineId"], event)
            assert got <= datetime.datetime.utcnow() + datetime.timedelta(days=1)  # the year is not in the future
    if "pid" in columns.values():
        assert any(isinstance(e.get("pid"), int) for e in events)  # `types` made them numbers
