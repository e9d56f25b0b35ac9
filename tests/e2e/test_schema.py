"""`bifrost schema`: a JSON Schema of the config, checked with a real JSON
Schema validator (python3-jsonschema, Draft 2020-12): every example config
validates, and each class of mistake a schema can see is refused by it, as
`bifrost validate` refuses it."""
import json
import re

import jsonschema
import pytest
import yaml

from conftest import ROOT, run, write

EXAMPLES = sorted((ROOT / "config" / "examples").glob("*.yaml")) + [ROOT / "packaging" / "deb" / "bifrost.yaml"]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2's core schema, as bifrost (yaml-cpp) and YAML language servers
    read it: only true/false are booleans, and there are no timestamps
    (PyYAML's default is YAML 1.1, where `off` is false and a date is a
    date). Merge keys (`<<`) are resolved, as in an editor."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."))


def load(text):
    return yaml.load(text, Loader=Yaml12Loader)


@pytest.fixture(scope="module")
def schema(bifrost):
    r = run(bifrost, "schema")
    assert r.returncode == 0, r.stderr.decode()
    s = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(s)
    return s


@pytest.fixture(scope="module")
def validator(schema):
    return jsonschema.Draft202012Validator(schema)


def problems(validator, text):
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(load(text)))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_config_validates_against_the_schema(validator, path):
    assert problems(validator, path.read_text()) == []


def test_every_whole_config_in_the_docs_validates_against_the_schema(validator):
    blocks = [(page.name, text) for page in DOCS
              for text in re.findall(r"^```yaml\n(.*?)^```", page.read_text(), re.S | re.M)
              if re.search(r"^(pipelines|inputs):", text, re.M)]
    assert blocks
    for page, text in blocks:
        assert problems(validator, text) == [], f"{page}:\n{text}"


MINIMAL = """inputs:
  - id: in
    type: stdin
outputs:
  - id: out
    type: file
    path: /tmp/out.log
"""

# One case per class of mistake a schema can see: (config text, a word of the
# validator's message, a word of bifrost validate's).
MISTAKES = {
    "unknown top-level key": ("data_dri: /tmp\n" + MINIMAL, "data_dri", 'unknown key "data_dri"'),
    "unknown component key": (MINIMAL.replace("path:", "encodng: json\n    path:"), "encodng",
                              'unknown key "encodng"'),
    "unknown nested key": (MINIMAL + "    retry: {max_atempts: 3}\n", "max_atempts", 'unknown key "max_atempts"'),
    "wrong type: a word for an integer": (MINIMAL.replace("type: stdin", "type: stdin\n    batch_events: lots"),
                                          "lots", 'expected an integer, got "lots"'),
    "wrong type: a list for a duration": (MINIMAL + "    flush_interval: [1s]\n", "flush_interval",
                                          "expected a duration"),
    "wrong type: not one of the choices": (MINIMAL + "    encoding: xml\n", "xml", '"xml" is not one of'),
    "wrong type: an integer out of range": (MINIMAL + "    retry: {max_attempts: -1}\n", "-1", "must be between"),
    "wrong type: a map for a list": (MINIMAL.replace("inputs:\n  - id: in\n    type: stdin\n", "inputs: {id: in}\n"),
                                     "inputs", "expected a list of inputs"),
    "missing required key": (MINIMAL.replace("    path: /tmp/out.log\n", ""), "'path' is a required property",
                             'missing required key "path"'),
    "missing required key in a pipeline": (
        "pipelines:\n  web:\n    inputs: [{id: in, type: stdin}]\n", "'outputs' is a required property",
        'missing required key "outputs"'),
    "unknown type": (MINIMAL.replace("type: file", "type: fiel"), "fiel", 'unknown output type "fiel"'),
    "an input type as an output": (MINIMAL.replace("type: file", "type: stdin"), "stdin",
                                   'unknown output type "stdin"'),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_class_of_mistake_is_refused_by_the_schema_and_by_validate(bifrost, validator, tmp_path, name):
    text, schema_word, validate_words = MISTAKES[name]
    found = problems(validator, text)
    assert found and any(schema_word in p for p in found), found
    r = run(bifrost, "validate", "-c", write(tmp_path / "c.yaml", text))
    assert r.returncode == 2 and validate_words.encode() in r.stderr, r.stderr.decode()


def test_the_schema_accepts_what_bifrost_accepts_beyond_plain_values(bifrost, validator, tmp_path):
    # Quoted numbers, ${VAR} for typed options, `key:` with nothing, anchors,
    # merge keys and x- keys are all valid configs.
    text = """x-retry: &retry {max_attempts: 3, initial_backoff: 500ms}
x-out: &out
  type: file
  encoding: text
inputs:
  - id: in
    type: stdin
    batch_events: "100"
    max_line_bytes: ${MAX_LINE:-64KiB}
outputs:
  - id: a
    <<: *out
    path: /tmp/a.log
    retry: *retry
    buffer:
  - id: b
    <<: *out
    path: /tmp/b.log
    flush_interval: 2
    retry:
      <<: *retry
      circuit_breaker_after: 0
"""
    assert problems(validator, text) == []
    r = run(bifrost, "validate", "-c", write(tmp_path / "c.yaml", text))
    assert r.returncode == 0, r.stderr.decode()


def test_the_schema_has_every_type_and_option_describe_lists(bifrost, schema):
    """The schema and `bifrost describe` come from the same tables: each type
    and each of its top-level options is in both."""
    r = run(bifrost, "describe")
    kinds, kind = {}, None
    for line in r.stdout.decode().splitlines():
        if m := re.fullmatch(r"(\w+)s:", line):
            kind = m.group(1)
        elif (m := re.match(r"  (\w+)\s", line)) and kind:
            kinds.setdefault(kind, []).append(m.group(1))
    assert set(kinds) == {"input", "filter", "output"}
    for kind, names in kinds.items():
        assert schema["$defs"][kind]["properties"]["type"]["enum"] == names
        for name in names:
            d = run(bifrost, "describe", name).stdout.decode()
            table = d[d.index(f"{kind} {name}:"):].split("\n\n")[1]  # title, table, (another kind's)
            keys = [m.group(1) for m in re.finditer(r"^  (\S+)", table, re.M) if "." not in m.group(1)][1:]
            props = schema["$defs"][f"{kind}.{name}"]["properties"]
            assert list(props) == keys, (kind, name)
            assert schema["$defs"][f"{kind}.{name}"]["additionalProperties"] is False


def test_schema_help_shows_the_editor_header(bifrost):
    r = run(bifrost, "schema", "--help")
    assert r.returncode == 0
    assert b"# yaml-language-server: $schema=/usr/share/bifrost/bifrost.schema.json" in r.stdout
    assert run(bifrost, "schema", "extra").returncode == 1


def test_parse_regex_patterns_as_a_list_or_as_a_map_of_named_patterns(bifrost, validator, tmp_path):
    text = """inputs: [{id: in, type: stdin}]
filters:
  - id: alternatives
    type: parse_regex
    patterns: ['^(?<a>x)', '^(?<b>y)']
  - id: own
    type: parse_regex
    patterns: { KV: '%{WORD}=%{NOTSPACE}' }
    pattern: '^%{KV:pair}'
outputs: [{id: out, type: stdout}]
"""
    assert problems(validator, text) == []
    assert run(bifrost, "validate", "-c", write(tmp_path / "c.yaml", text)).returncode == 0
