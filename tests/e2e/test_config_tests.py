"""`bifrost test -c PATH`: the unit tests written in a config."""
import pytest

from conftest import ROOT, run, write

PIPELINE = """api: {listen: "off"}
inputs: [{id: in, type: stdin}]
filters:
  - id: parse
    type: parse_regex
    pattern: '^(?P<level>[A-Z]+) (?P<n>\\d+)'
    types: { n: int }
  - id: no_debug
    type: drop
    when: 'level == "DEBUG"'
outputs:
  - { id: errors, type: stdout, when: 'level == "ERROR"' }
"""


def test_passing_and_failing_tests_exit_0_and_1_with_a_diff(bifrost, tmp_path):
    good = write(tmp_path / "good.yaml", PIPELINE + """
tests:
  - name: errors reach the errors output
    input: in
    events: ['ERROR 1', 'INFO 2', 'DEBUG 3', { message: 'ERROR 4', extra: true }]
    expect: { at: errors, events: [{ n: 1 }, { n: 4, extra: true }] }
  - name: debug lines are dropped
    input: no_debug
    events: [{ message: x, level: DEBUG }]
    expect: { at: no_debug, events: [] }
""")
    r = run(bifrost, "test", "-c", good)
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"ok   errors reach the errors output" in r.stdout
    assert b"2 test(s) passed, 0 failed" in r.stdout

    bad = write(tmp_path / "bad.yaml", PIPELINE + """
tests:
  - name: wrong on purpose
    input: parse
    events: ['ERROR 7']
    expect: { at: parse, events: [{ n: 8, level: ERROR }] }
""")
    r = run(bifrost, "test", "-c", bad)
    assert r.returncode == 1
    out = r.stdout.decode()
    assert "FAIL wrong on purpose" in out and f"at {bad}:15:5" in out
    assert "n: expected 8, got 7" in out
    assert '"message":"ERROR 7"' in out  # the events it did see


def test_no_tests_is_a_failure_and_bad_tests_are_located_config_errors(bifrost, tmp_path):
    r = run(bifrost, "test", "-c", write(tmp_path / "none.yaml", PIPELINE))
    assert r.returncode == 1 and b"no tests" in r.stderr
    bad = write(tmp_path / "bad.yaml", PIPELINE + """
tests:
  - name: x
    input: nope
    events: ['a']
    expect: { at: parse, events: [] }
  - name: y
    input: no_debug
    events: ['a']
    expect: { at: parse, events: [] }
  - name: z
    pipeline: other
    input: in
    events: ['a']
    expect: { at: errors, events: [] }
""")
    r = run(bifrost, "test", "-c", bad)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert f"{bad}:16:12: tests[0].input: no input or filter \"nope\" in pipeline \"main\"" in err, err
    assert f"{bad}:22:19: tests[1].expect.at: \"parse\" comes before \"no_debug\"" in err, err
    assert f"{bad}:24:15: tests[2].pipeline: no pipeline \"other\"" in err, err
    assert run(bifrost, "validate", "-c", bad).returncode == 2  # validate checks tests too


@pytest.mark.parametrize("example", sorted((ROOT / "config" / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_carries_passing_tests(bifrost, example):
    r = run(bifrost, "test", "-c", str(example))
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert b" 0 failed" in r.stdout


def test_a_stateful_stage_is_tested_too_its_windows_emitted_at_the_end_of_the_events(bifrost, tmp_path):
    cfg = write(tmp_path / "agg.yaml", """api: {listen: "off"}
data_dir: /nonexistent/not/used/by/tests
inputs: [{id: in, type: stdin}]
filters:
  - {id: time, type: parse_timestamp, field: t, formats: [rfc3339]}
  - id: per_minute
    type: aggregate
    window: 1m
    group_by: [status]
    metrics: {requests: count, bytes: {sum: bytes}}
    pass: false
  - {id: big, type: drop, when: 'requests > 100'}
outputs: [{id: out, type: stdout}]
tests:
  - name: two windows, one group each
    input: time
    events:
      - {t: "2024-01-01T00:00:10Z", status: 200, bytes: 10}
      - {t: "2024-01-01T00:00:50Z", status: 200, bytes: 5}
      - {t: "2024-01-01T00:01:01Z", status: 404, bytes: 1}
    expect:
      at: out
      events:
        - {"@timestamp": "2024-01-01T00:00:00Z", window.start: "2024-01-01T00:00:00Z", status: 200, requests: 2, bytes: 15}
        - {"@timestamp": "2024-01-01T00:01:00Z", window.end: "2024-01-01T00:02:00Z", status: 404, requests: 1}
""")
    r = run(bifrost, "test", "-c", cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"1 test(s) passed, 0 failed" in r.stdout


def test_describe_lists_the_stateful_stages_among_the_filters(bifrost):
    r = run(bifrost, "describe")
    out = r.stdout.decode()
    filters = out[out.index("filters:"):out.index("outputs:")]
    for name in ("aggregate", "dedupe", "throttle"):
        assert f"  {name} " in filters
    r = run(bifrost, "describe", "aggregate")
    assert r.returncode == 0 and b"filter aggregate: (a stateful stage)" in r.stdout and b"allowed_lateness" in r.stdout
