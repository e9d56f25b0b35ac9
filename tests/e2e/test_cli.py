"""The command line: versions, help, exit codes, and config errors located as FILE:LINE:COL."""
import json
import pathlib
import re

import pytest

from conftest import ROOT, run, write

MINIMAL = """inputs:
  - id: in
    type: stdin
outputs:
  - id: out
    type: stdout
"""


def test_version_prints_version_and_build_info(bifrost):
    r = run(bifrost, "--version")
    assert r.returncode == 0
    assert re.match(rb"bifrost \d+\.\d+\.\d+\ncommit \S+, built \d{4}-\d\d-\d\d with g\+\+", r.stdout), r.stdout


@pytest.mark.parametrize("args,needle", [
    (["--help"], b"bifrost run -c PATH"),
    (["run", "--help"], b"SIGHUP"),
    (["validate", "--help"], b"FILE:LINE:COL"),
    (["describe", "--help"], b"options"),
])
def test_help_for_each_command(bifrost, args, needle):
    r = run(bifrost, *args)
    assert r.returncode == 0
    assert needle in r.stdout


def test_describe_lists_types_and_options_with_defaults(bifrost):
    r = run(bifrost, "describe")
    assert r.returncode == 0
    for t in [b"stdin", b"stdout", b"file", b"modify", b"drop"]:
        assert t in r.stdout
    r = run(bifrost, "describe", "file")
    assert r.returncode == 0
    assert b"flush_interval" in r.stdout and b"1s" in r.stdout
    assert run(bifrost, "describe", "nope").returncode == 1


def test_bad_usage_exits_1(bifrost):
    assert run(bifrost).returncode == 1
    assert run(bifrost, "frobnicate").returncode == 1
    assert run(bifrost, "run").returncode == 1
    assert run(bifrost, "validate", "-c").returncode == 1


def test_every_example_config_is_valid(bifrost):
    examples = sorted((ROOT / "config" / "examples").glob("*.yaml"))
    assert examples, "config/examples/ holds no example"
    for ex in examples:
        r = run(bifrost, "validate", "-c", str(ex), env={"PATH": "/usr/bin:/bin"})
        assert r.returncode == 0, f"{ex.name}: {r.stderr.decode()}"


# One case per class of config error: (config text, line, column, words in the message).
ERRORS = {
    "unknown key": (MINIMAL.replace("type: stdout", "type: stdout\n    encodng: json"),
                    7, 5, 'unknown key "encodng"; did you mean "encoding"?'),
    "wrong type": (MINIMAL.replace("type: stdin", "type: stdin\n    batch_events: lots"),
                   4, 19, 'expected an integer, got "lots"'),
    "missing required key": ("inputs:\n  - id: in\n    type: stdin\noutputs:\n  - id: out\n    type: file\n",
                             5, 5, 'missing required key "path"'),
    "duplicate id": (MINIMAL.replace("id: out", "id: in"), 5, 9, 'duplicate id "in" (first used at'),
    "unknown component type": (MINIMAL.replace("type: stdout", "type: stdot"),
                               6, 11, 'unknown output type "stdot"; did you mean "stdout"?'),
    "bad condition": (MINIMAL.replace("type: stdout", "type: stdout\n    when: 'status >= 500 and'"),
                      7, 29, "invalid condition"),
    "bad template": ("inputs:\n  - id: in\n    type: stdin\noutputs:\n  - id: out\n    type: file\n    path: '/tmp/{{x'\n",
                     7, 17, 'invalid template: unclosed "{{"'),
    "YAML syntax": ("inputs:\n  - id: in\n    type: [stdin\noutputs: []\n", 4, 8, "YAML syntax error: end of sequence flow not found"),
    "bad regex": (MINIMAL.replace("type: stdout", "type: stdout\n    when: 'message =~ \"(oops\"'"),
                  7, 23, "invalid regular expression"),
    "misspelt type key": (MINIMAL.replace("    type: stdout", "    typ: stdout"), 6, 5, 'did you mean "type"?'),
    # The peers' spelling `id: auto` (bifrost's document_id) next to the output's own id.
    "duplicate key": ("inputs: [{id: in, type: stdin}]\noutputs:\n  - id: es\n    type: elasticsearch\n"
                      "    hosts: [\"http://127.0.0.1:9200\"]\n    id: auto\n",
                      6, 5, 'outputs[0].id: key "id" given twice (first at 3:5)'),
    "error in an anchored block": ("x-out: &out {type: stdout, encoding: xml}\ninputs: [{id: in, type: stdin}]\n"
                                   "outputs:\n  - id: out\n    <<: *out\n",
                                   1, 38, '"xml" is not one of json | text (through *out at 5:9)'),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_config_error_is_located(bifrost, tmp_path, case):
    text, line, col, words = ERRORS[case]
    path = write(tmp_path / "bad.yaml", text)
    for cmd in ("validate", "run"):
        r = run(bifrost, cmd, "-c", path, input=b"")
        assert r.returncode == 2, (cmd, r.stderr)
        err = r.stderr.decode()
        assert f"{path}:{line}:{col}: " in err, err
        assert words in err, err


def test_validate_explain_shows_the_topology_with_delivery_defaults(bifrost, tmp_path):
    text = """x-retry: &retry {max_attempts: 5}
data_dir: /srv/bifrost
pipelines:
  web:
    inputs:
      - {id: access, type: file, paths: [/var/log/a.log]}
    filters:
      - {id: json, type: parse_json, field: message}
      - {id: no_health, type: drop, when: 'path == "/health"'}
    outputs:
      - id: es
        type: elasticsearch
        hosts: ["http://127.0.0.1:9200"]
        when: 'status >= 500'
        batch: {max_events: 500}
        retry: *retry
        buffer: {type: disk}
      - {id: all, type: stdout}
"""
    r = run(bifrost, "validate", "-c", write(tmp_path / "c.yaml", text), "--explain")
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode()
    # In this order; runs of spaces are columns.
    expected = r"""pipeline web \(\S+c.yaml:4:3\): 1 input\(s\) -> 2 filter\(s\) -> 2 output\(s\)
  inputs
    access +file
  filters, in order
    1  json +parse_json +every event
    2  no_health +drop +when: path == "/health"
  outputs
    es +elasticsearch +when: status >= 500
      batch +max_events 500 \(default: max_bytes 10MiB\)
      retry +max_attempts 5 \(default: initial_backoff 100ms, max_backoff 30s, circuit_breaker_after 5\)
      buffer +in /srv/bifrost/buffers/web/es/ type disk \(default: max_bytes 1GiB, when_full block\)
      failed queue +in /srv/bifrost/failed/web/es/ \(default: max_bytes 1GiB, when_full block\)
    all +stdout +every event
      retry +\(default: max_attempts 0, initial_backoff 100ms, max_backoff 30s, circuit_breaker_after 5\)
"""
    assert re.search(expected, out), out
    assert "batch" not in out[out.index("    all"):]  # stdout sends no requests: no batch
    assert run(bifrost, "validate", "-c", write(tmp_path / "bad.yaml", "inputs: []\n"), "--explain").returncode == 2
    assert run(bifrost, "run", "-c", str(tmp_path / "c.yaml"), "--explain").returncode == 1  # validate's only


def test_every_error_is_reported_at_once(bifrost, tmp_path):
    text = MINIMAL.replace("type: stdin", "type: stdin\n    nope: 1").replace("type: stdout", "type: stdout\n    encoding: xml")
    r = run(bifrost, "validate", "-c", write(tmp_path / "c.yaml", text))
    assert r.returncode == 2
    assert b'unknown key "nope"' in r.stderr and b'"xml" is not one of json | text' in r.stderr
    assert b"2 error(s)" in r.stderr


def test_environment_variables_are_substituted(bifrost, tmp_path):
    out = tmp_path / "env.log"
    path = write(tmp_path / "c.yaml", "api: {listen: \"off\"}\ninputs: [{id: in, type: stdin}]\n"
                 "outputs: [{id: out, type: file, path: '${OUT_DIR}/env.log', encoding: '${ENC:-text}'}]\n")
    r = run(bifrost, "run", "-c", path, input=b"hello\n", env={"OUT_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == b"hello\n"
    r = run(bifrost, "validate", "-c", path, env={})
    assert r.returncode == 2
    assert b"environment variable OUT_DIR is not set" in r.stderr


def test_a_directory_of_yaml_files_is_merged_in_name_order(bifrost, tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    out_a, out_b = tmp_path / "a.log", tmp_path / "b.log"
    write(d / "00-global.yaml", "shutdown_timeout: 5s\nlog: {level: warn}\n")
    write(d / "10-a.yaml", f"pipelines:\n  a:\n    inputs: [{{id: in, type: stdin}}]\n"
          f"    outputs: [{{id: out, type: file, path: {out_a}, encoding: text}}]\n")
    write(d / "20-b.yaml", f"pipelines:\n  b:\n    inputs: [{{id: in, type: stdin}}]\n"
          f"    outputs: [{{id: out, type: file, path: {out_b}, encoding: text}}]\n")
    write(d / "ignored.txt", "not: yaml: at: all")
    r = run(bifrost, "validate", "-c", str(d))
    assert r.returncode == 0, r.stderr
    assert b"2 pipeline(s)" in r.stdout


def test_a_directory_rejects_duplicate_pipelines_and_globals(bifrost, tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    body = "pipelines:\n  a:\n    inputs: [{id: in, type: stdin}]\n    outputs: [{id: out, type: stdout}]\n"
    write(d / "1.yaml", "data_dir: /tmp/x\n" + body)
    write(d / "2.yaml", "data_dir: /tmp/y\n" + body)
    write(d / "3.yaml", MINIMAL)
    r = run(bifrost, "validate", "-c", str(d))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert (f"{d}/2.yaml:1:11: data_dir: key \"data_dir\" given twice (first at {d}/1.yaml:1:11): "
            "a global key goes in one file of the directory") in err, err
    assert f"{d}/2.yaml:3:3: pipelines.a: pipeline \"a\" given twice (first at {d}/1.yaml:3:3)" in err, err
    assert f"{d}/3.yaml:2:3: inputs: top-level inputs/filters/outputs are for a single config file" in err, err


def test_run_with_an_invalid_config_exits_2_and_a_missing_file_too(bifrost, tmp_path):
    assert run(bifrost, "run", "-c", str(tmp_path / "missing.yaml")).returncode == 2
    r = run(bifrost, "validate", "-c", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and b"cannot read" in r.stderr


def test_own_log_as_json_lines_with_levels(bifrost, tmp_path):
    path = write(tmp_path / "c.yaml", "api: {listen: \"off\"}\nlog: {format: json, level: debug}\n" + MINIMAL)
    r = run(bifrost, "run", "-c", path, input=b"x\n")
    assert r.returncode == 0
    records = [json.loads(l) for l in r.stderr.decode().splitlines()]
    assert records and all({"time", "level", "message"} <= rec.keys() for rec in records)
    assert {rec["level"] for rec in records} <= {"debug", "info", "warn", "error"}
    quiet = write(tmp_path / "q.yaml", "api: {listen: \"off\"}\nlog: {level: error}\n" + MINIMAL)
    r = run(bifrost, "run", "-c", quiet, input=b"x\n")
    assert r.returncode == 0 and r.stderr == b""
