"""Shared helpers for the end-to-end tests: they drive build/bifrost like a user."""
import json
import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIFROST = pathlib.Path(os.environ.get("BIFROST_BIN", ROOT / "build" / "bifrost"))
LOGHUB = ROOT.parent / "shared" / "data" / "loghub"


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
