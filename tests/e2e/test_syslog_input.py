"""The syslog input against real senders: util-linux logger (RFC 5424 and RFC
3164, UDP and TCP, octet-counted or not), a test-private rsyslogd forwarding
over TCP with octet counting and over TLS (gtls), openssl s_client; and its
limits: UDP overflow counted, TCP backpressure without loss, idle timeouts,
max_connections."""
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import wait_for
from netinput import HeldOutput, Net, Rsyslog, make_certs, s_client


def logger(port, *args, message=None, stdin=None):
    exe = shutil.which("logger")
    assert exe, "logger (util-linux, Debian bsdutils) is missing"
    cmd = [exe, "-n", "127.0.0.1", "-P", str(port), *args]
    if message is not None:
        cmd.append(message)
    subprocess.run(cmd, check=True, input=stdin, timeout=30)


def syslog_input(id_="in", mode="udp", extra=""):
    return f"  - id: {id_}\n    type: syslog\n    mode: {mode}\n    listen: 127.0.0.1:0\n{extra}"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_logger_sends_rfc5424_and_rfc3164_over_udp(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, syslog_input())
    port = n.port("in")
    logger(port, "-d", "--rfc5424", "--sd-id", "origin@32473", "--sd-param", 'ip="10.1.2.3"', "--msgid", "ID47",
           "-t", "app5424", "-p", "local3.err", "--id=4242", message="hello five four two four")
    logger(port, "-d", "--rfc3164", "-t", "app3164", "-p", "auth.warning", "--id=77", message="hello three one six four")
    ev = n.wait_events(2)
    n.stop()
    by = {e["message"]: e for e in ev}
    a = by["hello five four two four"]
    assert a["log"]["syslog"]["priority"] == 19 * 8 + 3
    assert a["log"]["syslog"]["facility"] == {"code": 19, "name": "local3"}
    assert a["log"]["syslog"]["severity"] == {"code": 3, "name": "Error"}
    assert a["log"]["syslog"]["version"] == 1
    assert a["log"]["syslog"]["msgid"] == "ID47"
    assert a["log"]["syslog"]["structured_data"]["origin@32473"] == {"ip": "10.1.2.3"}
    assert a["process"] == {"name": "app5424", "pid": 4242}
    assert a["host"]["hostname"] == socket.gethostname()
    assert a["source"]["ip"] == "127.0.0.1"
    b = by["hello three one six four"]
    assert b["log"]["syslog"]["facility"]["name"] == "auth"
    assert b["log"]["syslog"]["severity"]["name"] == "Warning"
    assert b["process"] == {"name": "app3164", "pid": 77}
    assert "version" not in b["log"]["syslog"]
    # RFC 3164 carries no year and no zone: UTC, this year (the test runs in UTC time).
    assert b["@timestamp"][:4] == time.strftime("%Y", time.gmtime())


@pytest.mark.parametrize("framing_args", [[], ["--octet-count"]], ids=["newline", "octet-counted"])
def test_logger_over_tcp_every_line_in_order(bifrost, tmp_path, framing_args):
    n = Net(bifrost, tmp_path, syslog_input(mode="tcp"))
    lines = "".join(f"line {i} of the tcp test\n" for i in range(2000)).encode()
    logger(n.port("in"), "-T", "--rfc5424", "-t", "burst", *framing_args, stdin=lines)
    logger(n.port("in"), "-T", "--rfc3164", "-t", "old", *framing_args, message="one in RFC 3164")
    ev = n.wait_events(2001)
    n.stop()
    burst = [e["message"] for e in ev if e.get("process", {}).get("name") == "burst"]
    assert burst == [f"line {i} of the tcp test" for i in range(2000)]
    assert [e["message"] for e in ev if e.get("process", {}).get("name") == "old"] == ["one in RFC 3164"]
    assert not [e for e in ev if "syslog_invalid" in e.get("tags", [])]


def test_what_is_not_syslog_is_kept_tagged_and_counted(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, syslog_input(mode="tcp", extra="    max_message_bytes: 64\n"))
    with socket.create_connection(("127.0.0.1", n.port("in"))) as s:
        s.sendall(b"just some text\n<999>bad priority\n<13>1 not-a-time host app - - - x\n<13>fine: message\n" +
                  b"<13>" + b"x" * 100 + b"\n")
    ev = n.wait_events(6)
    assert wait_for(lambda: n.metric("bifrost_input_parse_errors_total", reason="bad_timestamp") == 1)
    assert n.metric("bifrost_input_parse_errors_total", reason="no_priority") == 2  # the text and the cut's 2nd piece
    assert n.metric("bifrost_input_parse_errors_total", reason="bad_priority") == 1
    assert n.metric("bifrost_input_parse_errors_total", reason="message_cut") == 2
    n.stop()
    assert [e["message"] for e in ev[:3]] == ["just some text", "<999>bad priority", "<13>1 not-a-time host app - - - x"]
    assert all(e["tags"] == ["syslog_invalid"] for e in ev[:3])
    assert ev[3]["message"] == "message" and ev[3]["process"]["name"] == "fine" and "tags" not in ev[3]
    # 104 bytes over a 64-byte maximum: two pieces, both tagged line_cut, every byte kept.
    assert ev[4]["tags"] == ["line_cut"] and ev[5]["tags"] == ["line_cut", "syslog_invalid"]
    assert len(ev[4]["message"]) + len(ev[5]["message"]) == 104 - 4


def rsyslog_forward(bifrost, tmp_path, certs, tls):
    extra = "    framing: auto\n"
    if tls:
        extra += (f"    tls: {{cert_file: {certs / 'server.pem'}, key_file: {certs / 'server.key'}, "
                  f"ca_file: {certs / 'ca.pem'}, client_auth: required}}\n")
    n = Net(bifrost, tmp_path, syslog_input(mode="tls" if tls else "tcp", extra=extra))
    stream = ""
    # Control characters as they are (rsyslog writes a newline as #012 by default).
    globals_ = 'parser.escapeControlCharactersOnReceive="off"'
    if tls:
        globals_ += (f' defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{certs / "ca.pem"}" '
                    f'defaultNetstreamDriverCertFile="{certs / "client.pem"}" '
                    f'defaultNetstreamDriverKeyFile="{certs / "client.key"}"')
        stream = ('StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" '
                  'StreamDriverPermittedPeers="localhost"')
    r = Rsyslog(tmp_path, f'action(type="omfwd" target="127.0.0.1" port="{n.port("in")}" protocol="tcp" '
                          f'TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format" {stream})',
                globals_)
    try:
        for i in range(300):
            # Through rsyslog's UDP input: logger sends, rsyslog forwards.
            logger(r.port, "-d", "--rfc5424", "-t", "relayed", message=f"relayed {i}\nwith a newline inside")
        ev = n.wait_events(300, timeout=30)
    finally:
        rlog = r.stop()
    n.stop()
    assert sorted(e["message"] for e in ev) == sorted(f"relayed {i}\nwith a newline inside" for i in range(300)), rlog
    assert all(e["process"]["name"] == "relayed" and e["log"]["syslog"]["version"] == 1 for e in ev)
    return ev


def test_rsyslog_forwards_over_tcp_with_octet_counting(bifrost, tmp_path, certs):
    rsyslog_forward(bifrost, tmp_path, certs, tls=False)


def test_rsyslog_forwards_over_tls_with_its_client_certificate(bifrost, tmp_path, certs):
    ev = rsyslog_forward(bifrost, tmp_path, certs, tls=True)
    assert ev[0]["tls"]["client"]["subject"] == "CN=client1"


def test_tls_client_certificates_with_openssl_s_client(bifrost, tmp_path, certs):
    def tls(auth):
        return (f"    tls: {{cert_file: {certs / 'server.pem'}, key_file: {certs / 'server.key'}, "
                f"ca_file: {certs / 'ca.pem'}, client_auth: {auth}}}\n")
    n = Net(bifrost, tmp_path, syslog_input("req", "tls", tls("required")) + syslog_input("opt", "tls", tls("optional")))
    ca = certs / "ca.pem"
    rc, out = s_client(n.port("req"), ["<13>1 - - app - - - with a certificate"], certs / "client.pem",
                       certs / "client.key", ca)
    assert rc == 0, out
    s_client(n.port("req"), ["<13>1 - - app - - - without one"], ca=ca)
    s_client(n.port("req"), ["<13>1 - - app - - - from a stranger"], certs / "stranger.pem", certs / "stranger.key", ca)
    rc, out = s_client(n.port("opt"), ["<13>1 - - app - - - optional, without one"], ca=ca)
    assert rc == 0, out
    ev = n.wait_events(2)
    assert wait_for(lambda: n.metric("bifrost_input_connections_refused_total", component="req",
                                     reason="tls_handshake") == 2)
    time.sleep(0.3)
    n.stop()
    assert sorted(e["message"] for e in n.events()) == ["optional, without one", "with a certificate"]
    cert = [e for e in ev if e["message"] == "with a certificate"][0]
    assert cert["tls"]["client"]["subject"] == "CN=client1"
    assert "tls" not in [e for e in ev if e["message"] != "with a certificate"][0]


def test_udp_overflow_is_counted_as_dropped_and_the_rest_arrives(bifrost, tmp_path):
    held = HeldOutput(tmp_path)
    n = Net(bifrost, tmp_path, syslog_input(extra="    receive_buffer_bytes: 64KiB\n    batch_events: 16\n"),
            outputs=held.yaml)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 20000
    for i in range(sent):
        s.sendto(b"<13>1 - - udp - - - datagram %d" % i, ("127.0.0.1", n.port("in")))
    s.close()
    text = n.metrics()
    for family in ("bifrost_input_connections_open", "bifrost_input_parse_errors_total", "bifrost_http_requests_total",
                   "bifrost_input_received_bytes_total"):
        assert f"# TYPE {family}" in text
    # Held back by the output: the socket's buffer overflows; the kernel's count is read within a second.
    assert wait_for(lambda: n.metric("bifrost_events_dropped_total", reason="udp_overflow") > 0, 10)
    held.release()
    dropped = 0

    def settled():
        nonlocal dropped
        dropped = n.metric("bifrost_events_dropped_total", reason="udp_overflow")
        return held.count() + dropped == sent
    assert wait_for(settled, 30), f"{held.count()} delivered + {dropped} dropped != {sent}"
    final = n.metrics()
    n.stop()
    got = sorted(int(e["message"].rsplit(" ", 1)[1]) for e in held.events())
    assert len(set(got)) == len(got)  # none twice
    assert 0 < dropped < sent
    # The families the network inputs declare pass promtool.
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/test installs Debian's prometheus package"
    check = subprocess.run([promtool, "check", "metrics"], input=final.encode(), capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


def test_tcp_backpressure_stops_reading_and_loses_nothing(bifrost, tmp_path):
    held = HeldOutput(tmp_path)
    n = Net(bifrost, tmp_path, syslog_input(mode="tcp"), outputs=held.yaml)
    total = 400_000
    data = b"".join(b"<13>1 - - bp - - - message %d\n" % i for i in range(total))
    done = threading.Event()

    def send():
        with socket.create_connection(("127.0.0.1", n.port("in"))) as s:
            s.sendall(data)
        done.set()
    t = threading.Thread(target=send, daemon=True)
    t.start()
    # The input stops reading: the sender blocks in sendall (13 MB do not fit in the socket buffers).
    assert not done.wait(2), "the sender finished while the pipeline was held back"
    assert n.metric("bifrost_input_blocked_seconds_total") > 0
    assert n.metric("bifrost_input_received_bytes_total") < len(data) / 2
    held.release()
    assert done.wait(60)
    assert wait_for(lambda: held.count() >= total, 60), held.count()
    n.stop()
    # In order, each once (read from the raw output: parsing 400k JSON lines takes Python seconds).
    got = [int(x) for x in re.findall(rb'"message":"message (\d+)"', held.path.read_bytes())]
    assert got == list(range(total))


def test_idle_connections_close_and_their_partial_message_is_kept(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, syslog_input(mode="tcp", extra="    idle_timeout: 500ms\n"))
    with socket.create_connection(("127.0.0.1", n.port("in"))) as s:
        s.sendall(b"<13>1 - - idle - - - complete\n<13>1 - - idle - - - no newline yet")
        s.settimeout(5)
        assert s.recv(10) == b""  # closed by bifrost
    ev = n.wait_events(2)
    assert wait_for(lambda: n.metric("bifrost_input_connections_closed_total", reason="idle_timeout") == 1)
    n.stop()
    assert [e["message"] for e in ev] == ["complete", "no newline yet"]


def test_max_connections_refuses_the_next_and_garbage_in_a_loop_stays_bounded(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, syslog_input("lim", mode="tcp", extra="    max_connections: 3\n") +
            syslog_input("junk", mode="tcp", extra="    max_message_bytes: 1KiB\n"))
    port = n.port("lim")
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    for s in held:
        s.sendall(b"<13>1 - - held - - - open\n")
    n.wait_events(3)
    extra = socket.create_connection(("127.0.0.1", port))
    extra.settimeout(5)
    try:
        assert extra.recv(10) == b""
    except ConnectionResetError:
        pass
    assert wait_for(lambda: n.metric("bifrost_input_connections_refused_total", reason="max_connections") == 1)
    assert n.metric("bifrost_input_connections_open", component="lim") == 3
    for s in held:
        s.close()
    assert wait_for(lambda: n.metric("bifrost_input_connections_closed_total", component="lim", reason="eof") == 3)
    assert n.metric("bifrost_input_connections_open", component="lim") == 0
    # Garbage without newlines, from connections opened and closed in a loop: cut into 1 KiB
    # pieces (kept, tagged line_cut), memory stays flat.
    junk = (bytes(range(1, 256)) * 1000).replace(b"\n", b"")  # ~250 KB
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", n.port("junk"))) as s:
            s.sendall(junk)
    want = 3 + 30 * ((len(junk) + 1023) // 1024)
    n.wait_events(want, timeout=60)
    rss = int([l for l in open(f"/proc/{n.d.p.pid}/status") if l.startswith("VmHWM")][0].split()[1])
    n.stop()
    assert rss < 200 * 1024, f"peak RSS {rss} KiB"
    ev = n.events()
    assert len(ev) == want
    assert all("line_cut" in e["tags"] for e in ev[3:])
