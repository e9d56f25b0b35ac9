"""README.md stays true: every YAML example in it is a valid config, or a
valid component once put into a minimal pipeline."""
import re

import pytest

from conftest import ROOT, run, write

BLOCKS = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def as_config(block):
    if re.search(r"^(pipelines|inputs):", block, re.M):
        return block
    m = re.match(r"- id: \S+\n\s+type: (\S+)", block)
    if not m:
        return None  # not a bifrost config (the Prometheus scrape config)
    kind = {"stdin": "inputs"}.get(m.group(1))
    if m.group(1) == "file" and re.search(r"^\s+paths:", block, re.M):
        kind = "inputs"  # the file input, not the file output
    if m.group(1) == "kafka" and re.search(r"^\s+topics:", block, re.M):
        kind = "inputs"  # the kafka input, not the kafka output
    item = "  " + block.rstrip().replace("\n", "\n  ") + "\n"
    if kind == "inputs":
        return "inputs:\n" + item + "outputs: [{id: o, type: stdout}]\n"
    if m.group(1) in ("stdout", "file", "http", "kafka", "influxdb", "elasticsearch"):
        return "inputs: [{id: i, type: stdin}]\noutputs:\n" + item
    return "inputs: [{id: i, type: stdin}]\nfilters:\n" + item + "outputs: [{id: o, type: stdout}]\n"


def test_the_readme_has_examples():
    assert len([b for b in BLOCKS if as_config(b)]) >= 7


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_is_valid(bifrost, tmp_path, index):
    config = as_config(BLOCKS[index])
    if config is None:
        return
    path = write(tmp_path / "c.yaml", config)
    r = run(bifrost, "validate", "-c", path, env={"BIFROST_API_TOKEN": "t", "ENVIRONMENT": "prod"})
    assert r.returncode == 0, f"README example {index}:\n{config}\n{r.stderr.decode()}"
