"""Shared by the network inputs' end-to-end tests (syslog, tcp, http): bifrost
run with listeners on port 0 (the ports read from its log), its API, its file
output; a test CA and certificates made with openssl; a test-private rsyslogd."""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import Daemon, wait_for, write


class Net:
    """bifrost with network inputs. `inputs`, `filters`, `outputs`: YAML list items
    (indented by 2); without outputs, one file output `out` writing out.json."""

    def __init__(self, bifrost, tmp, inputs, outputs=None, filters="", extra="", shutdown="5s"):
        self.tmp = pathlib.Path(tmp)
        self.out = self.tmp / "out.json"
        outputs = outputs or f"  - id: out\n    type: file\n    path: {self.out}\n"
        self.cfg = write(self.tmp / "c.yaml", f"""
data_dir: {self.tmp / 'data'}
api: {{listen: "127.0.0.1:0"}}
shutdown_timeout: {shutdown}
{extra}
inputs:
{inputs}
{"filters:" + chr(10) + filters if filters else ""}
outputs:
{outputs}
""")
        self.ids = re.findall(r"^  - id: (\S+)\n    type: (?:syslog|tcp|http)\b", inputs, re.M)
        self.d = Daemon(bifrost, self.cfg)
        self.ports = {}
        ok = wait_for(self._bound, 15)
        assert ok, f"bifrost did not start listening:\n{self.d.logged()}"

    def _bound(self):
        log = self.d.logged()
        if self.d.p.poll() is not None:
            raise AssertionError(f"bifrost exited:\n{log}")
        m = re.search(r"api: listening on http://(\S+)", log)
        for i in self.ids:
            p = re.search(rf"{re.escape(i)}: listening on [\d.]+:(\d+)", log)
            if p:
                self.ports[i] = int(p.group(1))
        if not m or len(self.ports) < len(self.ids):
            return False
        self.api = "http://" + m.group(1)
        return True

    def port(self, input_id):
        return self.ports[input_id]

    def metrics(self):
        with urllib.request.urlopen(self.api + "/metrics", timeout=10) as r:
            return r.read().decode()

    def metric(self, name, **labels):
        """The value of one series (labels beyond pipeline/component may be given); 0 when absent."""
        total = None
        for line in self.metrics().splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total = (total or 0) + float(line.rsplit(" ", 1)[1])
        return total or 0

    def events(self):
        try:
            data = self.out.read_bytes()
        except FileNotFoundError:
            return []
        return [json.loads(x) for x in data[:data.rfind(b"\n") + 1].splitlines()]

    def count(self):
        """Events written so far (lines counted, not parsed)."""
        try:
            return self.out.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def wait_events(self, n, timeout=20):
        ok = wait_for(lambda: self.count() >= n, timeout)
        assert ok, f"{self.count()} events of {n} after {timeout}s:\n{self.d.logged()[-3000:]}"
        return self.events()

    def stop(self):
        return self.d.stop()

    def kill(self):
        self.d.kill()


class HeldOutput:
    """A file output that cannot write until release(): its directory's
    place is taken by a regular file, so every write fails (a transient
    error, retried) and the output holds its batches: the pipeline fills and
    holds its inputs back."""

    def __init__(self, tmp, id_="out"):
        self.blocker = pathlib.Path(tmp) / "held"
        self.blocker.write_text("in the way\n")
        self.path = self.blocker / "out.json"
        self.yaml = (f"  - id: {id_}\n    type: file\n    path: {self.path}\n"
                     "    retry: {max_attempts: 100000, initial_backoff: 20ms, max_backoff: 100ms}\n")

    def release(self):
        self.blocker.unlink()

    def events(self):
        try:
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [json.loads(x) for x in data[:data.rfind(b"\n") + 1].splitlines()]

    def count(self):
        try:
            return self.path.read_bytes().count(b"\n")
        except (FileNotFoundError, NotADirectoryError):
            return 0


def make_certs(d):
    """A test CA, a server certificate for localhost and 127.0.0.1, a client
    certificate it signed, and a client certificate of another CA."""
    d = pathlib.Path(d)
    openssl = shutil.which("openssl")
    assert openssl, "openssl is missing: scripts/test installs it (TEST_PACKAGES)"

    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=d)

    ext = d / "ext.cnf"
    ext.write_text("[server]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                   "[client]\nextendedKeyUsage=clientAuth\n")
    for ca in ("ca", "rogue"):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
            "-subj", f"/CN=bifrost test {ca}")
    for name, ca, section, cn in (("server", "ca", "server", "localhost"), ("client", "ca", "client", "client1"),
                                  ("stranger", "rogue", "client", "stranger")):
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
            f"/CN={cn}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", str(ext), "-extensions", section)
    return d


def s_client(port, lines, cert=None, key=None, ca=None, timeout=10):
    """openssl s_client sending `lines`; its exit status and output."""
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-quiet", "-no_ign_eof", "-verify_return_error"]
    if ca:
        args += ["-CAfile", str(ca), "-verify_hostname", "localhost"]
    if cert:
        args += ["-cert", str(cert), "-key", str(key)]
    p = subprocess.run(args, input="".join(l + "\n" for l in lines).encode(), capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def wait_bound_udp(port, timeout=10):
    """Until something has bound UDP `port` on 127.0.0.1."""
    def bound():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return False
        except OSError:
            return True
        finally:
            s.close()
    return wait_for(bound, timeout)


class Rsyslog:
    """A test-private rsyslogd in the foreground (-n): its own config, pid
    file and work directory; it receives on a UDP port and forwards to
    bifrost as `action` says. No system service is touched."""

    def __init__(self, tmp, action, globals_=""):
        exe = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
        assert os.path.exists(exe), "rsyslogd is missing: scripts/test installs rsyslog (TEST_PACKAGES)"
        self.dir = pathlib.Path(tmp) / "rsyslog"
        (self.dir / "work").mkdir(parents=True, exist_ok=True)
        from conftest import free_port
        self.port = free_port()
        conf = self.dir / "rsyslog.conf"
        conf.write_text(f"""
global(workDirectory="{self.dir / 'work'}" {globals_})
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{self.port}")
{action}
""")
        self.log = open(self.dir / "rsyslogd.log", "w+b")
        self.p = subprocess.Popen([exe, "-n", "-f", str(conf), "-i", str(self.dir / "rsyslogd.pid")],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_bound_udp(self.port):
            self.stop()
            pytest.fail(f"rsyslogd did not start:\n{(self.dir / 'rsyslogd.log').read_text()}")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return (self.dir / "rsyslogd.log").read_text(errors="replace")
