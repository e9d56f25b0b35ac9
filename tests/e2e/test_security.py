"""Security of the daemon itself: the API over HTTPS (and the commands that
talk to it), which paths need the token, warnings for an open API and for
secret files others may read, files checked at start and reload, and what
bifrost writes under data_dir: private modes whatever the umask, and no
symlink followed out of it."""
import json
import os
import re
import signal
import ssl
import stat
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import Daemon, run, wait_for, write


def make_cert(tmp, name="api", san="IP:127.0.0.1,DNS:localhost"):
    """A self-signed certificate and key (openssl), as a server's."""
    key, cert = tmp / f"{name}.key", tmp / f"{name}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName={san}"], check=True, capture_output=True)
    key.chmod(0o600)
    return cert, key


def api_address(d):
    assert wait_for(lambda: "api: listening on" in d.logged(), 20), d.logged()
    m = re.search(r"api: listening on (https?)://([\d.]+:\d+)", d.logged())
    return m.group(1), m.group(2)


def get(url, token=None, cafile=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    ctx = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def api_config(tmp, api):
    return write(tmp / "c.yaml", f"""
data_dir: {tmp / 'data'}
api: {{listen: "127.0.0.1:0", {api}}}
inputs: [{{id: in, type: file, paths: ["{tmp / 'nothing.log'}"]}}]
outputs: [{{id: out, type: file, path: "{tmp / 'out.log'}"}}]
""")


def test_the_api_over_https_and_the_commands_that_talk_to_it(bifrost, tmp_path):
    cert, key = make_cert(tmp_path)
    token = "api-token-for-the-https-test"
    cfg = api_config(tmp_path, f"token: {token}, tls: {{cert_file: {cert}, key_file: {key}}}")
    d = Daemon(bifrost, cfg)
    scheme, addr = api_address(d)
    assert scheme == "https"
    assert get(f"https://{addr}/health", cafile=str(cert)) == 200
    assert get(f"https://{addr}/metrics", cafile=str(cert)) == 401
    assert get(f"https://{addr}/metrics", token, cafile=str(cert)) == 200
    with pytest.raises(OSError):  # plain HTTP is not served (URLError, or the connection closed)
        urllib.request.urlopen(f"http://{addr}/health", timeout=5).read()
    # -c: the address, the token and the certificate to trust come from the config
    cfg_here = write(tmp_path / "client.yaml", open(cfg).read().replace("127.0.0.1:0", addr))
    r = run(bifrost, "top", "--once", "-c", cfg_here)
    assert r.returncode == 0, r.stderr.decode()
    assert b"out" in r.stdout
    r = run(bifrost, "reload", "-c", cfg_here)
    assert r.returncode == 0, r.stderr.decode()
    # --api https://: verified against the system's CAs, which do not know this certificate
    r = run(bifrost, "top", "--once", "--api", f"https://{addr}", "--token", token)
    assert r.returncode != 0
    assert b"self-signed certificate" in r.stdout + r.stderr, r.stdout + r.stderr
    r = run(bifrost, "top", "--once", "--api", f"https://{addr}", "--token", token, "--ca-file", str(cert))
    assert r.returncode == 0, r.stderr.decode()
    # a certificate that does not name the host it is reached by is refused
    other, other_key = make_cert(tmp_path, "other", "DNS:elsewhere.example")
    r = run(bifrost, "top", "--once", "--api", f"https://{addr}", "--token", token, "--ca-file", str(other))
    assert r.returncode != 0
    d.stop()


@pytest.mark.parametrize("public, open_paths", [
    (None, {"/health", "/ready"}),  # the default, as before api.public
    ("[/health, /metrics]", {"/health", "/metrics"}),
    ("[]", set()),
])
def test_which_paths_need_the_token(bifrost, tmp_path, public, open_paths):
    token = "token-of-the-public-test"
    cfg = api_config(tmp_path, f"token: {token}" + (f", public: {public}" if public is not None else ""))
    d = Daemon(bifrost, cfg)
    _, addr = api_address(d)
    assert wait_for(lambda: get(f"http://{addr}/ready", token) == 200)
    for path in ["/health", "/ready", "/metrics", "/tap?component=in&limit=1"]:
        want = 200 if path in open_paths else 401
        if path.startswith("/tap"):
            want = 401  # never public
        assert get(f"http://{addr}{path}") == want, path
        if not path.startswith("/tap"):
            assert get(f"http://{addr}{path}", token) == 200, path
    d.stop()


def test_public_refuses_tap_and_reload_and_unknown_paths(bifrost, tmp_path):
    cfg = api_config(tmp_path, "token: t0k3n-t0k3n, public: [/tap, /reload, /nope]")
    r = run(bifrost, "validate", "-c", cfg)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "/tap cannot be public" in err and "/reload cannot be public" in err and '"/nope"' in err, err


def test_an_api_open_to_other_hosts_without_a_token_is_warned_about(bifrost, tmp_path):
    cfg = write(tmp_path / "c.yaml", f"""
data_dir: {tmp_path / 'data'}
api: {{listen: "0.0.0.0:0"}}
inputs: [{{id: in, type: file, paths: ["{tmp_path / 'nothing.log'}"]}}]
outputs: [{{id: out, type: file, path: "{tmp_path / 'out.log'}"}}]
""")
    d = Daemon(bifrost, cfg)
    assert wait_for(lambda: "api: listening" in d.logged(), 20)
    err = d.stop()
    warning = next(x for x in err.splitlines() if "no token" in x)
    assert "WARN" in warning and "0.0.0.0:0" in warning
    # on loopback, or with a token: no warning
    d = Daemon(bifrost, api_config(tmp_path, "token: t0k3n-t0k3n"))
    assert wait_for(lambda: "api: listening" in d.logged(), 20)
    assert "no token" not in d.stop()


def test_a_secret_file_others_may_read_is_warned_about_and_a_missing_one_is_an_error_at_start(bifrost, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("the-token-in-a-file\n")
    token_file.chmod(0o644)
    cfg = api_config(tmp_path, f"token_file: {token_file}")
    d = Daemon(bifrost, cfg)
    _, addr = api_address(d)
    assert get(f"http://{addr}/metrics", "the-token-in-a-file") == 200
    err = d.stop()
    warning = next(x for x in err.splitlines() if "every user may read" in x)
    assert str(token_file) in warning and "0644" in warning and "c.yaml:3:" in warning, warning
    token_file.chmod(0o600)
    d = Daemon(bifrost, cfg)
    api_address(d)
    assert "every user may read" not in d.stop()
    # gone at start: an error located at its key, naming the file; exit 1
    token_file.unlink()
    r = run(bifrost, "run", "-c", cfg)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert re.search(r"c\.yaml:3:\d+: api\.token_file: cannot read .*token: No such file or directory", err), err
    # validate does not open it: the config is valid on any machine
    assert run(bifrost, "validate", "-c", cfg).returncode == 0


def test_a_reload_naming_a_missing_file_keeps_the_running_config(bifrost, tmp_path):
    cfg = api_config(tmp_path, "token: t0k3n-t0k3n")
    d = Daemon(bifrost, cfg)
    _, addr = api_address(d)
    text = open(cfg).read().replace(
        "outputs: [{id: out, type: file,",
        f"outputs: [{{id: out, type: http, url: \"https://127.0.0.1:1/x\", tls: {{ca_file: {tmp_path / 'no-ca.pem'}}}}}]\n#")
    write(cfg, text)
    d.p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload refused" in d.logged(), 20), d.logged()
    assert "no-ca.pem: No such file or directory" in d.logged()
    assert get(f"http://{addr}/ready") == 200  # still running the old config
    d.stop()


def modes(root):
    """Every path under root (root included) with its permission bits."""
    out = {root: stat.S_IMODE(os.lstat(root).st_mode)}
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            out[p] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def test_what_bifrost_writes_under_data_dir_is_private_whatever_the_umask(bifrost, tmp_path):
    data = tmp_path / "data"
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(20)) + "bad line\n")
    cfg = write(tmp_path / "c.yaml", f"""
data_dir: {data}
api: {{listen: "off"}}
inputs: [{{id: in, type: file, paths: ["{log}"], end_at_eof: true}}]
filters:
  - {{id: strict, type: parse_regex, pattern: '^line (?P<n>\\d+)$', on_mismatch: reject}}
outputs:
  - id: out
    type: file
    path: "{tmp_path / 'out.log'}"
    buffer: {{type: disk}}
""")
    p = subprocess.run([bifrost, "run", "-c", cfg], capture_output=True, timeout=60,
                       preexec_fn=lambda: os.umask(0))
    assert p.returncode == 0, p.stderr.decode()
    found = modes(str(data))
    kinds = {os.path.relpath(p, data).split("/")[0] for p in found}
    assert {"checkpoints", "failed", "buffers"} <= kinds, found
    wrong = {p: oct(m) for p, m in found.items()
             if m != (0o700 if os.path.isdir(p) else 0o600)}
    assert wrong == {}, wrong


def test_a_symlink_planted_in_data_dir_is_not_followed_out_of_it(bifrost, tmp_path):
    data = tmp_path / "data"
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    # a directory of data_dir, and a checkpoint, that point out of it
    (data / "checkpoints").mkdir(parents=True)
    os.symlink(outside, data / "failed")
    (data / "checkpoints" / "main").mkdir()
    os.symlink(victim, data / "checkpoints" / "main" / "in.ckpt")
    log = tmp_path / "app.log"
    log.write_text("line 1\nbad line\n")
    cfg = write(tmp_path / "c.yaml", f"""
data_dir: {data}
api: {{listen: "off"}}
shutdown_timeout: 2s
inputs: [{{id: in, type: file, paths: ["{log}"], end_at_eof: true}}]
filters:
  - {{id: strict, type: parse_regex, pattern: '^line (?P<n>\\d+)$', on_mismatch: reject}}
outputs: [{{id: out, type: file, path: "{tmp_path / 'out.log'}"}}]
""")
    r = run(bifrost, "run", "-c", cfg, timeout=60)
    err = r.stderr.decode()
    assert list(outside.iterdir()) == []  # the failed queue did not follow data_dir/failed
    assert victim.read_text() == "keep me\n"  # the checkpoint did not write through its link
    assert "does not follow links below data_dir" in err, err
    assert "symlink" in err
