"""The tcp input: newline-delimited text and JSON from real connections, cut
lines, and TLS with client certificates checked by openssl s_client."""
import socket

import pytest

from conftest import wait_for
from netinput import Net, make_certs, s_client


def tcp_input(id_="in", extra=""):
    return f"  - id: {id_}\n    type: tcp\n    listen: 127.0.0.1:0\n{extra}"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_lines_from_many_connections_each_in_order(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, tcp_input())
    socks = [socket.create_connection(("127.0.0.1", n.port("in"))) for _ in range(5)]
    for i in range(1000):
        for k, s in enumerate(socks):
            s.sendall(f"conn {k} line {i}\r\n".encode() if i % 2 else f"conn {k} line {i}\n".encode())
    for s in socks:
        s.close()
    ev = n.wait_events(5000)
    n.stop()
    for k, s in enumerate(socks):
        mine = [e["message"] for e in ev if e["message"].startswith(f"conn {k} ")]
        assert mine == [f"conn {k} line {i}" for i in range(1000)]
    ports = {e["source"]["port"] for e in ev}
    assert len(ports) == 5 and all(e["source"]["ip"] == "127.0.0.1" for e in ev)


def test_json_lines_become_events_and_the_others_are_kept_tagged(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, tcp_input(extra="    decoding: json\n    max_line_bytes: 80\n"))
    with socket.create_connection(("127.0.0.1", n.port("in"))) as s:
        s.sendall(b'{"message":"hello","@timestamp":"2024-05-06T07:08:09.5Z","user":{"id":7}}\n'
                  b"not json\n" + b'{"message":"' + b"x" * 100 + b'"}\n')
    ev = n.wait_events(4)
    assert wait_for(lambda: n.metric("bifrost_input_parse_errors_total", reason="json") == 3)
    assert n.metric("bifrost_input_parse_errors_total", reason="message_cut") == 2
    n.stop()
    assert ev[0] == {"@timestamp": "2024-05-06T07:08:09.500000000Z", "message": "hello", "user": {"id": 7},
                     "source": ev[0]["source"]}
    assert ev[1]["message"] == "not json" and ev[1]["tags"] == ["tcp_json_invalid"]
    # A line over max_line_bytes: two pieces, each tagged line_cut, together the whole line.
    assert ev[2]["tags"] == ["line_cut", "tcp_json_invalid"] and ev[3]["tags"] == ["line_cut", "tcp_json_invalid"]
    assert ev[2]["message"] + ev[3]["message"] == '{"message":"' + "x" * 100 + '"}'


def test_influx_lines_become_points_and_a_bad_one_is_kept_tagged(bifrost, tmp_path):
    # As Telegraf's socket_writer sends them: sorted tags, i-suffixed integers, ns times, escapes.
    n = Net(bifrost, tmp_path, tcp_input(extra="    decoding: influx\n"))
    with socket.create_connection(("127.0.0.1", n.port("in"))) as s:
        s.sendall(b'cpu,cpu=cpu0,host=web\\ 1 usage_idle=97.5,usage_user=1i 1700000000000000000\n'
                  b'mem,host=web used=12u,ok=true,note="a \\"quoted\\" word"\n'
                  b'disk,host=web free=\n')
    ev = n.wait_events(3)
    assert wait_for(lambda: n.metric("bifrost_input_parse_errors_total", reason="influx") == 1)
    assert n.metric("bifrost_influx_points_invalid_total", reason="bad_value") == 1
    n.stop()
    assert ev[0]["measurement"] == "cpu" and ev[0]["tags"] == {"cpu": "cpu0", "host": "web 1"}
    assert ev[0]["fields"] == {"usage_idle": 97.5, "usage_user": 1}
    assert ev[0]["@timestamp"] == "2023-11-14T22:13:20.000000000Z"
    assert ev[1]["fields"] == {"used": 12, "ok": True, "note": 'a "quoted" word'}
    assert ev[2]["message"] == "disk,host=web free=" and ev[2]["tags"] == ["tcp_influx_invalid"]
    assert "measurement" not in ev[2]


def test_tls_with_required_client_certificates(bifrost, tmp_path, certs):
    tls = (f"    tls: {{cert_file: {certs / 'server.pem'}, key_file: {certs / 'server.key'}, "
           f"ca_file: {certs / 'ca.pem'}}}\n")
    n = Net(bifrost, tmp_path, tcp_input(extra=tls))
    ca = certs / "ca.pem"
    rc, out = s_client(n.port("in"), ["over TLS", "second line"], certs / "client.pem", certs / "client.key", ca)
    assert rc == 0, out
    s_client(n.port("in"), ["no certificate"], ca=ca)
    s_client(n.port("in"), ["stranger's"], certs / "stranger.pem", certs / "stranger.key", ca)
    with socket.create_connection(("127.0.0.1", n.port("in"))) as s:  # plain text to a TLS port
        s.sendall(b"plain text, no TLS\n")
        s.settimeout(5)
        try:
            s.recv(100)
        except ConnectionResetError:
            pass
    ev = n.wait_events(2)
    assert wait_for(lambda: n.metric("bifrost_input_connections_refused_total", reason="tls_handshake") == 3)
    n.stop()
    assert [e["message"] for e in n.events()] == ["over TLS", "second line"]
    assert ev[0]["tls"] == {"client": {"subject": "CN=client1"}}


def test_tls_without_client_certificates(bifrost, tmp_path, certs):
    tls = f"    tls: {{cert_file: {certs / 'server.pem'}, key_file: {certs / 'server.key'}}}\n"
    n = Net(bifrost, tmp_path, tcp_input(extra=tls))
    rc, out = s_client(n.port("in"), ["anyone may send"], ca=certs / "ca.pem")
    assert rc == 0, out
    ev = n.wait_events(1)
    n.stop()
    assert ev[0]["message"] == "anyone may send" and "tls" not in ev[0]


def test_a_bad_certificate_file_fails_the_start_with_the_reason(bifrost, tmp_path):
    from conftest import run, write
    cfg = write(tmp_path / "c.yaml", f"""
api: {{listen: "off"}}
inputs:
  - id: in
    type: tcp
    listen: 127.0.0.1:0
    tls: {{cert_file: {tmp_path / 'missing.pem'}, key_file: {tmp_path / 'missing.key'}}}
outputs: [{{id: out, type: stdout}}]
""")
    assert run(bifrost, "validate", "-c", cfg).returncode == 0  # validating opens no file
    r = run(bifrost, "run", "-c", cfg, timeout=20)
    assert r.returncode == 1
    assert b"tls.cert_file" in r.stderr and b"missing.pem" in r.stderr
