"""parse_regex through the binary: Fluent Bit's nginx regex and its named-pattern form give the same fields, each
pattern's engine is logged at start, a line built to make a pattern backtrack goes to RE2 and shows in /metrics
(checked by promtool), and bad named patterns are located errors."""
import json
import shutil
import subprocess

from conftest import run, wait_for, write
from test_api import Daemon

FLUENT_BIT_NGINX = (r'^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)'
                    r'(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)'
                    r'(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)")')
GROK_NGINX = (r'^%{IPORHOST:remote} %{NOTSPACE:host} %{NOTSPACE:user} \[%{HTTPDATE:time}\] '
              r'"%{WORD:method}(?: +%{DATA:path}(?: +%{NOTSPACE})?)?" %{INT:code:int} (?:%{INT:size:int}|-)'
              r'(?: "%{DATA:referer}" "%{DATA:agent}")')

LINES = [
    '10.0.0.1 - alice [01/Jan/2024:00:00:01 +0000] "GET /index.html?x=1 HTTP/1.1" 200 512 "-" "curl/8.0"',
    '2001:db8::7 - - [01/Jan/2024:00:00:02 +0100] "POST /a b/c HTTP/2.0" 404 - "https://example.com/" "Mozilla/5.0 (X11)"',
    'host-1.example.com - - [01/Jan/2024:00:00:03 +0000] "OPTIONS" 204 0 "-" "caf\u00e9 bot"',
]


def yaml_quote(s):
    return "'" + s.replace("'", "''") + "'"


def test_fluent_bit_regex_and_its_named_pattern_form_give_the_same_fields(bifrost, tmp_path):
    cfg = write(tmp_path / "c.yaml", f"""
api: {{listen: "off"}}
inputs: [{{id: in, type: stdin}}]
filters:
  - {{id: fb, type: parse_regex, target: fb, pattern: {yaml_quote(FLUENT_BIT_NGINX)}, types: {{code: int}}}}
  - {{id: grok, type: parse_regex, target: grok, pattern: {yaml_quote(GROK_NGINX)}}}
  - {{id: re2, type: parse_regex, target: re2, engine: re2, pattern: {yaml_quote(FLUENT_BIT_NGINX)},
      types: {{code: int}}}}
outputs: [{{id: out, type: stdout}}]
""")
    r = run(bifrost, "run", "-c", cfg, input=("\n".join(LINES) + "\n").encode())
    assert r.returncode == 0, r.stderr
    log = r.stderr.decode()
    assert "main/fb: parse_regex: pattern 1 of 1 runs on pcre2-jit; re2 for a line past pcre2's match limits" in log
    assert "main/re2: parse_regex: pattern 1 of 1 runs on re2" in log
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(events) == 3
    for e in events:
        fb, grok = dict(e["fb"]), dict(e["grok"])
        if fb.get("size") == "-":  # the named-pattern form takes "-" outside its group
            del fb["size"]
        if grok.get("size") is not None:
            grok["size"] = str(grok["size"])
        assert fb == grok, e
        assert e["re2"] == e["fb"], e
    assert events[1]["fb"]["path"] == "/a b/c"
    assert events[1]["fb"]["size"] == "-"
    assert "size" not in events[1]["grok"]
    assert events[2]["fb"]["method"] == "OPTIONS" and "path" not in events[2]["fb"]
    assert events[2]["fb"]["agent"] == "caf\u00e9 bot"


def test_a_line_built_to_backtrack_goes_to_re2_and_is_counted(bifrost, tmp_path):
    out = tmp_path / "out.log"
    cfg = write(tmp_path / "c.yaml", f"""
api: {{ listen: "127.0.0.1:0" }}
inputs: [{{id: in, type: stdin}}]
filters:
  - id: kv
    type: parse_regex
    pattern: '^(?<key>(?:\\w+\\s?)+)=(?<value>.*)$|^(?<words>.*) !='
  - id: lookbehind
    type: parse_regex
    pattern: '^(?<key>(?:\\w+\\s?)+)(?<!x)=(?<value>.*)$'
    on_mismatch: tag
outputs: [{{id: out, type: file, path: "{out}"}}]
""")
    d = Daemon(bifrost, cfg)
    try:
        hostile = " ".join(["alpha", "beta", "gamma", "delta"] * 8) + " != value"
        d.send(f"{hostile}\nuser name=ann\n".encode())
        assert wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 2)
        status, text = d.get("/metrics")
        assert status == 200
        assert d.metric(text, "bifrost_regex_fallback_total", pipeline="main", component="kv") == 1
        assert d.metric(text, "bifrost_regex_limit_hits_total", pipeline="main", component="kv") == 1
        assert d.metric(text, "bifrost_regex_fallback_total", pipeline="main", component="lookbehind") == 0
        assert d.metric(text, "bifrost_regex_limit_hits_total", pipeline="main", component="lookbehind") == 1
        promtool = shutil.which("promtool")
        assert promtool, "promtool is missing: scripts/test installs Debian's prometheus package"
        check = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        assert d.close() == 0
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events[0]["words"] == hostile[:-len(" != value")]  # RE2's answer, from the second branch
    assert "lookbehind_mismatch" in events[0]["tags"]  # PCRE2 alone gave up: on_mismatch
    assert events[1]["key"] == "user name" and events[1]["value"] == "ann"
    assert "took PCRE2 past its match limits" in d.log.decode()


def test_bad_named_patterns_are_located_errors(bifrost, tmp_path):
    cfg = write(tmp_path / "c.yaml", """inputs: [{id: in, type: stdin}]
filters:
  - id: p
    type: parse_regex
    patterns: { MINE: '%{NOTSPACE}+' }
    pattern: '%{IPV4:ip} %{MINE:m} %{INTT:n}'
  - {id: q, type: parse_regex, engine: re2, pattern: '(?<=@)(?<host>\\w+)'}
outputs: [{id: out, type: stdout}]
""")
    r = run(bifrost, "validate", "-c", cfg)
    assert r.returncode == 2
    err = r.stderr.decode() + r.stdout.decode()
    assert 'c.yaml:6:38: filters[0].pattern: unknown named pattern "INTT"; did you mean "INT"?' in err, err
    assert "c.yaml:7:" in err and "RE2 cannot compile it" in err, err
