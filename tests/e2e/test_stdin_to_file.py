"""Events through stdin -> filters -> file: content, encoding, order, routing, counters."""
import errno
import json
import os
import pathlib
import subprocess

import pytest

from conftest import LOGHUB, read_json_lines, run, stdin_to_file_config, write

LOGS = sorted(LOGHUB.glob("*.log"))


def test_loghub_samples_are_present():
    assert len(LOGS) >= 4, f"no loghub logs under {LOGHUB}"


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_every_loghub_line_comes_out_intact_as_text(bifrost, tmp_path, log):
    out = tmp_path / "out.log"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out, encoding="text"))
    data = log.read_bytes()
    r = run(bifrost, "run", "-c", cfg, input=data)
    assert r.returncode == 0, r.stderr
    want = [line.rstrip(b"\r") for line in data.split(b"\n")]
    if want and want[-1] == b"":
        want.pop()
    assert out.read_bytes().split(b"\n")[:-1] == want


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_every_loghub_line_comes_out_intact_as_json(bifrost, tmp_path, log):
    out = tmp_path / "out.json"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out))
    data = log.read_bytes()
    r = run(bifrost, "run", "-c", cfg, input=data)
    assert r.returncode == 0, r.stderr
    events = read_json_lines(out)
    lines = data.decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    assert [e["message"] for e in events] == [l.rstrip("\r") for l in lines]
    offsets = [e["log"]["offset"] for e in events]
    assert offsets == sorted(offsets) and offsets[0] == 0
    assert all(e["@timestamp"].endswith("Z") and len(e["@timestamp"]) == 30 for e in events)
    assert all(e["host"]["name"] for e in events)


def test_json_output_is_valid_utf8_json_whatever_the_bytes(bifrost, tmp_path):
    out = tmp_path / "out.json"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out))
    lines = [
        b'quote " backslash \\ slash /',
        b"tab\tbell\x07escape\x1bdel\x7f",
        b"nul\x00byte",
        b"invalid \xff\xfe utf-8 \xc3",
        "valid 한국어 ünïcode 😀".encode(),
        b"overlong \xc0\xaf surrogate \xed\xa0\x80",
        b"",
        b"\r",  # a lone CR is a CRLF line ending: the line is empty
    ]
    r = run(bifrost, "run", "-c", cfg, input=b"\n".join(lines) + b"\n")
    assert r.returncode == 0, r.stderr
    raw = out.read_bytes()
    raw.decode("utf-8")  # strict: must not raise
    events = [json.loads(l) for l in raw.splitlines()]
    got = [e["message"] for e in events]
    assert got[0] == 'quote " backslash \\ slash /'
    assert got[1] == "tab\tbell\x07escape\x1bdel\x7f"
    assert got[2] == "nul\x00byte"
    assert b"\\u0000" in raw.splitlines()[2]
    assert got[3] == "invalid \ufffd\ufffd utf-8 \ufffd"
    assert got[4] == "valid 한국어 ünïcode 😀"
    assert got[5] == "overlong \ufffd\ufffd surrogate \ufffd\ufffd\ufffd"
    assert got[6] == "" and got[7] == ""


def test_a_10_mb_line_passes_whole(bifrost, tmp_path):
    out = tmp_path / "out.json"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out))
    big = ("x" * 1000 + '"\\' + "é") * 10_000  # about 10 MB with escapes and multibyte
    r = run(bifrost, "run", "-c", cfg, input=b"before\n" + big.encode() + b"\nafter\n")
    assert r.returncode == 0, r.stderr
    events = read_json_lines(out)
    assert [len(e["message"]) for e in events] == [6, len(big), 5]
    assert events[1]["message"] == big
    assert "tags" not in events[1]


def test_a_line_over_max_line_bytes_is_cut_into_tagged_pieces(bifrost, tmp_path):
    out = tmp_path / "out.json"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out, stdin_opts="    max_line_bytes: 1MiB"))
    big = b"y" * (2 * 1024 * 1024 + 10)
    r = run(bifrost, "run", "-c", cfg, input=b"a\n" + big + b"\nb\n")
    assert r.returncode == 0, r.stderr
    events = read_json_lines(out)
    assert [len(e["message"]) for e in events] == [1, 1048576, 1048576, 10, 1]
    assert [e.get("tags") for e in events] == [None, ["line_cut"], ["line_cut"], ["line_cut"], None]
    assert "".join(e["message"] for e in events[1:4]).encode() == big


def test_a_million_lines_arrive_in_order(bifrost, tmp_path):
    out = tmp_path / "out.log"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out, encoding="text"))
    data = "".join(f"{i}\n" for i in range(1_000_000)).encode()
    r = run(bifrost, "run", "-c", cfg, input=data, timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == data


def test_when_routes_events_and_templated_paths_split_them(bifrost, tmp_path):
    cfg = write(tmp_path / "c.yaml", f"""
api: {{listen: "off"}}
inputs: [{{id: in, type: stdin}}]
filters:
  - id: level
    type: modify
    when: 'message =~ "^(ERROR|WARN|INFO) "'
    add: {{ level: x }}
  - id: name_level
    type: modify
    when: 'exists(level)'
    add: {{ level: '{{{{message}}}}' }}
outputs:
  - id: errors
    type: file
    when: 'message =~ "^ERROR"'
    path: {tmp_path}/errors.log
    encoding: text
  - id: by_first_word
    type: file
    path: '{tmp_path}/by/{{{{level}}}}-%Y.log'
    encoding: text
""")
    lines = ["ERROR a", "INFO b", "WARN c", "ERROR d", "other e"]
    r = run(bifrost, "run", "-c", cfg, input=("\n".join(lines) + "\n").encode())
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "errors.log").read_text() == "ERROR a\nERROR d\n"
    files = sorted(p.name for p in (tmp_path / "by").iterdir())
    # `level` is the whole message for matched lines; `other e` has no level: empty name.
    assert len(files) == 5, files
    assert any(f.startswith("-") for f in files)  # a missing field renders as nothing


def test_drop_counts_what_it_dropped_and_the_rest_is_delivered(bifrost, tmp_path):
    out = tmp_path / "out.log"
    filters = """filters:
  - id: no_debug
    type: drop
    when: 'message =~ "DEBUG"'
"""
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out, encoding="text", extra_filters=filters))
    lines = [f"{'DEBUG' if i % 3 == 0 else 'INFO'} {i}" for i in range(3000)]
    r = run(bifrost, "run", "-c", cfg, input=("\n".join(lines) + "\n").encode())
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines() == [l for l in lines if "DEBUG" not in l]
    assert b"main/no_debug (filter drop): in=3000 out=2000 dropped{condition}=1000" in r.stderr
    assert b"main/out (output file): in=2000 out=2000" in r.stderr


RWF_DONTCACHE = 0x80  # <linux/fs.h>, Linux 6.14+


def uncached_writes_work(directory):
    """Whether this kernel and file system take RWF_DONTCACHE writes."""
    probe = directory / "uncached-probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.pwritev(fd, [b"x" * 4096], 0, RWF_DONTCACHE)
        return True
    except OSError as e:
        assert e.errno in (errno.EOPNOTSUPP, errno.EINVAL), e
        return False
    finally:
        os.close(fd)
        probe.unlink()


@pytest.mark.parametrize("drop_behind", [True, False], ids=["drop_behind", "cached"])
def test_drop_behind_keeps_the_output_out_of_the_page_cache(bifrost, tmp_path, drop_behind):
    fs = subprocess.run(["stat", "-f", "-c", "%T", str(tmp_path)], capture_output=True, text=True).stdout.strip()
    assert fs != "tmpfs", f"{tmp_path} is on tmpfs, which has no writeback: the test needs a disk filesystem"
    out = tmp_path / "out.log"
    cfg = write(tmp_path / "c.yaml", stdin_to_file_config(out, encoding="text") +
                f"    drop_behind: {str(drop_behind).lower()}\n")
    data = b"".join(b"%09d %s\n" % (i, b"y" * 190) for i in range(600_000))  # 120 MB
    r = run(bifrost, "run", "-c", cfg, input=data, timeout=120)
    assert r.returncode == 0, r.stderr
    res = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(out)],
                         capture_output=True, text=True, check=True)
    cached = int(res.stdout.strip())
    if drop_behind and uncached_writes_work(tmp_path):
        # The kernel drops each batch's whole pages once written back: what
        # is left is the last partial page of each batch, what is in flight, and
        # pages whose writeback ended where the kernel could not drop them.
        assert cached <= 24 << 20, f"{cached} bytes of the output still cached"
    elif drop_behind:  # what is left: the last two 32 MiB windows at most
        assert cached <= 72 << 20, f"{cached} bytes of the output still cached"
    else:
        assert cached >= 100 << 20, f"only {cached} bytes cached without drop_behind"
    assert out.read_bytes() == data
