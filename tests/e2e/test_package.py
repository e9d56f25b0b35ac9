"""The Debian package and its systemd unit: built by scripts/package, checked by
lintian and systemd-analyze, unpacked into a scratch root and started with the
unit's own command lines and the shipped config."""
import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import ROOT


def need(tool):
    path = shutil.which(tool)
    assert path, f"{tool} is missing: scripts/test installs it"
    return path


@pytest.fixture(scope="module")
def deb():
    r = subprocess.run([str(ROOT / "scripts" / "package")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    path = r.stdout.strip().splitlines()[-1]
    assert re.search(r"dist/bifrost_\d+\.\d+\.\d+_amd64\.deb$", path), path
    return path


@pytest.fixture(scope="module")
def scratch(deb, tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    subprocess.run(["dpkg-deb", "-e", deb, str(root / "DEBIAN")], check=True)
    return root


def test_lintian_reports_no_error_or_warning(deb):
    r = subprocess.run([need("lintian"), "--allow-root", "--pedantic", deb], capture_output=True, text=True)
    bad = [l for l in r.stdout.splitlines() if l.startswith(("E:", "W:"))]
    assert not bad, r.stdout


def test_files_modes_owners_and_conffile(deb, scratch):
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    entries = {}
    for line in listing.splitlines():
        mode, owner, _, _, _, name = line.split(None, 5)
        entries[name.lstrip(".")] = (mode, owner)
    want = {
        "/usr/bin/bifrost": "-rwxr-xr-x",
        "/etc/bifrost/bifrost.yaml": "-rw-r--r--",
        "/lib/systemd/system/bifrost.service": "-rw-r--r--",
        "/usr/share/man/man1/bifrost.1.gz": "-rw-r--r--",
        "/usr/share/doc/bifrost/copyright": "-rw-r--r--",
        "/usr/share/doc/bifrost/changelog.gz": "-rw-r--r--",
        "/usr/share/doc/bifrost/README.md": "-rw-r--r--",
        "/usr/share/doc/bifrost/docs/outputs.md": "-rw-r--r--",
        "/usr/share/doc/bifrost/docs/operations.md": "-rw-r--r--",
        "/usr/share/bifrost/bifrost.schema.json": "-rw-r--r--",
    }
    for path, mode in want.items():
        assert path in entries, path
        assert entries[path] == (mode, "root/root"), (path, entries[path])
    assert all(owner == "root/root" for _, owner in entries.values())
    assert (scratch / "DEBIAN" / "conffiles").read_text().split() == ["/etc/bifrost/bifrost.yaml"]
    control = (scratch / "DEBIAN" / "control").read_text()
    assert "adduser" in control and "libyaml-cpp0.7" in control
    postinst = (scratch / "DEBIAN" / "postinst").read_text()
    for needed in ["adduser --system --group --home /var/lib/bifrost", "adduser --quiet bifrost adm",
                   "install -d -o bifrost -g bifrost -m 0700 /var/lib/bifrost", "chmod 0640 /etc/bifrost/bifrost.yaml"]:
        assert needed in postinst, needed
    for script in ["postinst", "prerm", "postrm"]:
        assert subprocess.run(["sh", "-n", str(scratch / "DEBIAN" / script)]).returncode == 0, script


def test_unit_is_verified_and_hardened(scratch):
    unit = scratch / "lib" / "systemd" / "system" / "bifrost.service"
    analyze = need("systemd-analyze")
    # The scratch root holds only the package: give it the host's stock units
    # (sysinit.target and the rest) that every service depends on.
    units = scratch / "lib" / "systemd" / "system"
    for stock in ["/lib/systemd/system", "/usr/lib/systemd/system"]:
        if os.path.isdir(stock):
            for name in os.listdir(stock):
                src = os.path.join(stock, name)
                if name != "bifrost.service" and not (units / name).exists() and os.path.isfile(src):
                    shutil.copy(src, units / name)
    # --man=no: man pages are looked up on the host, not in --root.
    r = subprocess.run([analyze, "verify", "--man=no", f"--root={scratch}", "/lib/systemd/system/bifrost.service"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "" and r.stdout.strip() == "", r.stdout + r.stderr
    r = subprocess.run([analyze, "security", "--offline=true", str(unit)], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for bifrost.service: ([\d.]+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.5, r.stdout
    text = unit.read_text()
    for line in ["Type=notify", "ExecReload=/usr/bin/bifrost reload -c /etc/bifrost/bifrost.yaml --pid $MAINPID",
                 "WatchdogSec=",
                 "ExecStartPre=/usr/bin/bifrost validate -c /etc/bifrost/bifrost.yaml",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/bifrost", "NoNewPrivileges=yes",
                 "CapabilityBoundingSet=\n", "PrivateTmp=yes", "ProtectHome=read-only", "SystemCallFilter="]:
        assert line in text, line


def unit_command(scratch, key):
    """The command line of `key` in the unit, with /usr/bin and /etc mapped into the scratch root."""
    text = (scratch / "lib" / "systemd" / "system" / "bifrost.service").read_text()
    line = next(l for l in text.splitlines() if l.startswith(key + "="))
    argv = shlex.split(line.split("=", 1)[1])
    return [str(scratch) + a if a.startswith(("/usr/bin/", "/etc/")) else a for a in argv]


def test_the_installed_binary_starts_with_the_units_command_lines(scratch):
    env = {"PATH": "/usr/bin:/bin", "BIFROST_API_LISTEN": "127.0.0.1:0"}
    pre = subprocess.run(unit_command(scratch, "ExecStartPre"), capture_output=True, text=True, env=env, timeout=30)
    assert pre.returncode == 0, pre.stderr
    run = subprocess.run(unit_command(scratch, "ExecStart"), stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, env=env, timeout=30)
    assert run.returncode == 0, run.stderr
    assert '"message":"api: listening on http://127.0.0.1:' in run.stderr  # the shipped config logs JSON
    assert '"message":"stopped; peak_rss_kib=' in run.stderr
    version = subprocess.run([str(scratch / "usr/bin/bifrost"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("bifrost ")


def test_the_package_installs_the_schema_the_shipped_config_names(scratch):
    import json
    schema = scratch / "usr/share/bifrost/bifrost.schema.json"
    made = subprocess.run([str(scratch / "usr/bin/bifrost"), "schema"], capture_output=True, check=True).stdout
    assert schema.read_bytes() == made
    assert json.loads(made)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    first = (scratch / "etc/bifrost/bifrost.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=/usr/share/bifrost/bifrost.schema.json"


def test_the_units_reload_returns_once_the_daemon_reloaded(scratch, tmp_path):
    from conftest import free_port, wait_for
    env = {"PATH": "/usr/bin:/bin", "BIFROST_API_LISTEN": f"127.0.0.1:{free_port()}"}
    log = open(tmp_path / "daemon.log", "w+b")
    daemon = subprocess.Popen(unit_command(scratch, "ExecStart"), stdin=subprocess.PIPE, stderr=log, env=env)
    try:
        assert wait_for(lambda: b'"message":"running 1 pipeline(s)' in (tmp_path / "daemon.log").read_bytes())
        reload = [str(daemon.pid) if a == "$MAINPID" else a for a in unit_command(scratch, "ExecReload")]
        r = subprocess.run(reload, capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "reloaded: running 1 pipeline(s)" in r.stdout
        assert b'"message":"reloaded"' in (tmp_path / "daemon.log").read_bytes()
    finally:
        daemon.stdin.close()
        assert daemon.wait(timeout=60) == 0


def test_sd_notify_ready_reloading_stopping_and_watchdog(bifrost, tmp_path):
    import signal
    import socket
    import time
    sock_path = str(tmp_path / "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(10)
    cfg = tmp_path / "c.yaml"
    cfg.write_text('api: {listen: "off"}\ninputs: [{id: in, type: stdin}]\noutputs: [{id: out, type: stdout}]\n')
    r, w = os.pipe()
    p = subprocess.Popen([bifrost, "run", "-c", str(cfg)], stdin=r, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env={"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000"})
    os.close(r)

    def until(word):
        seen = []
        end = time.time() + 10
        while time.time() < end:
            msg = s.recv(4096).decode()
            seen.append(msg)
            if word in msg:
                return msg
        raise AssertionError(f"no {word} in {seen}")

    assert "STATUS=running" in until("READY=1")
    until("WATCHDOG=1")
    p.send_signal(signal.SIGHUP)
    assert "MONOTONIC_USEC=" in until("RELOADING=1")
    until("READY=1")
    p.send_signal(signal.SIGTERM)
    until("STOPPING=1")
    assert p.wait(timeout=10) == 0
    os.close(w)
