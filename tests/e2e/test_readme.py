"""The README and docs/ stay true: every YAML example in README.md and
docs/*.md is a valid config, or a valid component once put into a minimal
pipeline."""
import re
import textwrap

import pytest

from conftest import ROOT, run, write

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
KINDS = ("inputs", "filters", "outputs")
# (page, index within the page, text) of every ```yaml block, also one
# indented inside a list item.
BLOCKS = [(page.relative_to(ROOT).as_posix(), i, textwrap.dedent(text))
          for page in PAGES
          for i, text in enumerate(re.findall(r"^[ \t]*```yaml\n(.*?)^[ \t]*```", page.read_text(), re.S | re.M))]


@pytest.fixture(scope="session")
def component_types(bifrost):
    """{"inputs": {...}, "filters": {...}, "outputs": {...}} as `bifrost describe` lists them."""
    r = run(bifrost, "describe")
    assert r.returncode == 0, r.stderr.decode()
    kinds, kind = {}, None
    for line in r.stdout.decode().splitlines():
        if m := re.fullmatch(r"(\w+):", line):
            kind = m.group(1)
            kinds[kind] = set()
        elif (m := re.match(r"  (\w+)\s", line)) and kind:
            kinds[kind].add(m.group(1))
    assert set(KINDS) <= kinds.keys(), r.stdout.decode()
    return kinds


def kind_of(block, type_name, types):
    """inputs, filters or outputs: where a component of this type goes."""
    kinds = [k for k in KINDS if type_name in types[k]]
    if kinds == ["inputs", "outputs"]:  # file, kafka and http are both
        if type_name == "file" and re.search(r"^\s+paths:", block, re.M):
            return "inputs"  # the file input, not the file output
        if type_name == "kafka" and re.search(r"^\s+topics:", block, re.M):
            return "inputs"  # the kafka input, not the kafka output
        if type_name == "http" and not re.search(r"^\s+url:", block, re.M):
            return "inputs"  # the http input (it listens), not the http output (it has a url)
        return "outputs"
    # An unknown type goes where validate reports it ("did you mean").
    return kinds[0] if kinds else "filters"


def component_type(block):
    m = re.match(r"- id: \S+\n\s+type: (\S+)", block)
    return m.group(1) if m else None


def as_config(block, types):
    if re.search(r"^(pipelines|inputs):", block, re.M):
        return block
    type_name = component_type(block)
    if type_name is None:
        return None  # not a bifrost config (the Prometheus scrape config)
    item = "  " + block.rstrip().replace("\n", "\n  ") + "\n"
    kind = kind_of(block, type_name, types)
    if kind == "inputs":
        return "inputs:\n" + item + "outputs: [{id: o, type: stdout}]\n"
    if kind == "outputs":
        return "inputs: [{id: i, type: stdin}]\noutputs:\n" + item
    return "inputs: [{id: i, type: stdin}]\nfilters:\n" + item + "outputs: [{id: o, type: stdout}]\n"


def test_the_readme_and_the_docs_have_examples(component_types):
    checked = [(page, i) for page, i, text in BLOCKS if as_config(text, component_types)]
    assert any(page == "README.md" for page, _ in checked), "README.md has no example config"
    in_docs = [page for page, _ in checked if page.startswith("docs/")]
    assert len(in_docs) >= 7 and len(set(in_docs)) >= 4, f"too few examples in docs/: {checked}"


def test_every_component_type_has_an_example_in_the_docs(component_types):
    shown = {(kind_of(text, component_type(text), component_types), component_type(text))
             for page, _, text in BLOCKS if page.startswith("docs/") and component_type(text)}
    missing = [f"{kind[:-1]} {name}" for kind in KINDS for name in sorted(component_types[kind])
               if (kind, name) not in shown]
    assert not missing, f"no example in docs/ for: {', '.join(missing)}"


@pytest.mark.parametrize("page,index,text", BLOCKS, ids=[f"{page}#{i}" for page, i, _ in BLOCKS])
def test_example_is_valid(bifrost, component_types, tmp_path, page, index, text):
    config = as_config(text, component_types)
    if config is None:
        return
    path = write(tmp_path / "c.yaml", config)
    r = run(bifrost, "validate", "-c", path, env={"BIFROST_API_TOKEN": "t", "ENVIRONMENT": "prod"})
    assert r.returncode == 0, f"{page}, YAML example {index}:\n{config}\n{r.stderr.decode()}"
