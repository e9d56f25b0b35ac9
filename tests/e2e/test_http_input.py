"""The http input against curl: NDJSON, JSON arrays and lines; answers that
wait for delivery (200 with the parked count) or not; 429 with Retry-After
while the output is down, then delivered once it is up; 413, 400, 401;
HTTPS with client certificates; a stop while requests wait."""
import json
import shutil
import signal
import subprocess
import time

import pytest

from conftest import wait_for
from netinput import HeldOutput, Net, make_certs


def http_input(id_="in", extra=""):
    return f"  - id: {id_}\n    type: http\n    listen: 127.0.0.1:0\n{extra}"


def curl(url, data=None, *args, timeout=30):
    """(status, headers dict (lower-case names), body) of one curl request."""
    exe = shutil.which("curl")
    assert exe, "curl is missing"
    cmd = [exe, "-sS", "-D", "-", url, *args]
    if data is not None:
        cmd += ["--data-binary", "@-"]
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    assert p.returncode == 0, p.stderr
    return parse_response(p.stdout)


def parse_response(raw):
    # -D - prints every head (a 100 Continue first, perhaps), then the body.
    while raw.startswith(b"HTTP/1.1 100"):
        raw = raw[raw.index(b"\r\n\r\n") + 4:]
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return int(lines[0].split()[1]), headers, body.decode()


def ndjson(events):
    return "".join(json.dumps(e) + "\n" for e in events).encode()


def test_ndjson_answered_once_delivered(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, http_input())
    url = f"http://127.0.0.1:{n.port('in')}/"
    status, headers, body = curl(url, ndjson([{"message": f"m{i}", "i": i} for i in range(500)]))
    assert status == 200, body
    assert json.loads(body) == {"events": 500, "parked": 0}
    assert headers["bifrost-events"] == "500" and headers["bifrost-parked"] == "0"
    # Answered after delivery: the events are in the file already.
    ev = n.events()
    assert [e["message"] for e in ev] == [f"m{i}" for i in range(500)]
    assert ev[0]["i"] == 0 and ev[0]["source"]["ip"] == "127.0.0.1"
    # Chunked, and larger than curl sends without Expect: 100-continue.
    big = ndjson([{"message": "x" * 1000, "n": i} for i in range(2000)])
    status, _, body = curl(url, big, "-H", "Transfer-Encoding: chunked")
    assert (status, json.loads(body)["events"]) == (200, 2000)
    status, _, body = curl(url, big)  # Content-Length, with Expect: 100-continue (over 1 MiB)
    assert (status, json.loads(body)["events"]) == (200, 2000)
    n.stop()
    assert len(n.events()) == 4500


def test_json_arrays_and_text_lines(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, http_input("arr", "    decoding: json\n") + http_input("txt", "    decoding: text\n"))
    status, _, body = curl(f"http://127.0.0.1:{n.port('arr')}/",
                           json.dumps([{"message": "a", "k": 1}, {"message": "b"}]).encode())
    assert (status, body.strip()) == (200, '{"events":2,"parked":0}')
    status, _, body = curl(f"http://127.0.0.1:{n.port('txt')}/", b"line one\r\nline two\n")
    assert (status, body.strip()) == (200, '{"events":2,"parked":0}')
    n.stop()
    assert sorted(e["message"] for e in n.events()) == ["a", "b", "line one", "line two"]


def test_influx_line_protocol_bodies_become_points(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, http_input(extra="    decoding: influx\n    precision: s\n"))
    body = (b"weather,city=Oslo temp=-3.5,wind=4i 1700000000\n\n"
            b"weather,city=Bergen temp=7.25 1700000060\n"
            b"weather,city=Troms\xc3\xb8 temp=\n")
    status, _, answer = curl(f"http://127.0.0.1:{n.port('in')}/", body)
    assert (status, json.loads(answer)) == (200, {"events": 3, "parked": 0})
    assert n.metric("bifrost_influx_points_invalid_total", reason="bad_value") == 1
    n.stop()
    ev = n.events()
    assert [(e.get("tags"), e.get("fields")) for e in ev[:2]] == [
        ({"city": "Oslo"}, {"temp": -3.5, "wind": 4}), ({"city": "Bergen"}, {"temp": 7.25})]
    assert [e["@timestamp"] for e in ev[:2]] == ["2023-11-14T22:13:20.000000000Z", "2023-11-14T22:14:20.000000000Z"]
    assert ev[2]["tags"] == ["http_influx_invalid"] and ev[2]["message"] == "weather,city=Troms\u00f8 temp="


def test_without_acknowledgements_the_answer_does_not_wait(bifrost, tmp_path):
    held = HeldOutput(tmp_path)
    n = Net(bifrost, tmp_path, http_input(extra="    acknowledgements: false\n"), outputs=held.yaml)
    status, _, body = curl(f"http://127.0.0.1:{n.port('in')}/", ndjson([{"message": "fast"}]), timeout=10)
    assert (status, json.loads(body)) == (200, {"events": 1})
    assert held.count() == 0  # not delivered yet: only accepted
    held.release()
    assert wait_for(lambda: held.count() == 1)
    n.stop()


def test_output_down_429_with_retry_after_then_everything_delivered_once(bifrost, tmp_path):
    held = HeldOutput(tmp_path)
    n = Net(bifrost, tmp_path, http_input(extra="    retry_after: 2s\n"), outputs=held.yaml)
    url = f"http://127.0.0.1:{n.port('in')}/"
    waiting, refused = [], []
    for r in range(40):
        body = ndjson([{"message": f"r{r} e{i}"} for i in range(10)])
        p = subprocess.Popen(["curl", "-sS", "-D", "-", url, "--data-binary", "@-"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(body)
        p.stdin.close()
        waiting.append((r, body, p))
        time.sleep(0.02)
    # The pipeline's batches fill with waiting requests; the rest are refused at once.
    time.sleep(1)
    still = []
    for r, body, p in waiting:
        if p.poll() is None:
            still.append((r, p))
            continue
        status, headers, text = parse_response(p.stdout.read())
        assert status == 429, text
        assert headers["retry-after"] == "2"
        refused.append((r, body))
    assert still and refused, (len(still), len(refused))
    assert held.count() == 0
    held.release()
    for r, p in still:
        p.wait(timeout=30)
        status, _, text = parse_response(p.stdout.read())
        assert (status, json.loads(text)) == (200, {"events": 10, "parked": 0})
    for r, body in refused:  # the client sends again what was refused
        status, _, text = curl(url, body)
        assert status == 200, text
    assert wait_for(lambda: n.metric("bifrost_http_requests_total", code="429") == len(refused))
    n.stop()
    got = sorted(e["message"] for e in held.events())
    assert got == sorted(f"r{r} e{i}" for r in range(40) for i in range(10))


def test_parked_events_are_counted_in_the_answer(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, http_input(),
            filters="  - {id: check, type: drop_invalid, require: [user], action: reject}\n")
    status, headers, body = curl(f"http://127.0.0.1:{n.port('in')}/",
                                 ndjson([{"message": "a", "user": "u"}, {"message": "b"}, {"message": "c"}]))
    n.stop()
    assert (status, json.loads(body)) == (200, {"events": 3, "parked": 2})
    assert headers["bifrost-parked"] == "2"
    assert [e["message"] for e in n.events()] == ["a"]


def test_limits_and_errors_are_answered_with_the_reason(bifrost, tmp_path):
    n = Net(bifrost, tmp_path, http_input(extra="    max_body_bytes: 1KiB\n    max_events: 5\n"
                                                "    auth: {bearer: s3cret}\n"))
    url = f"http://127.0.0.1:{n.port('in')}/"
    auth = ("-H", "Authorization: Bearer s3cret")
    assert curl(url, b'{"message":"a"}\n')[0] == 401
    assert curl(url, b'{"message":"a"}\n', "-H", "Authorization: Bearer wrong")[0] == 401
    status, _, body = curl(url, b"x" * 2000, *auth)
    assert status == 413 and "max_body_bytes" in body
    status, _, body = curl(url, b"x" * 2000, *auth, "-H", "Transfer-Encoding: chunked")
    assert status == 413
    status, _, body = curl(url, b'{"message":"a"}\n{oops\n', *auth)
    assert (status, json.loads(body)) == (400, {"error": "line 2 is not a JSON object"})
    status, _, body = curl(url, b"{}\n" * 6, *auth)
    assert status == 413 and "max_events" in body
    assert curl(url + "other", b"{}\n", *auth)[0] == 404
    assert curl(url, None, *auth)[0] == 405  # GET
    assert curl(url, b"{}\n", *auth, "-H", "Content-Encoding: gzip")[0] == 415
    status, _, body = curl(url, b'{"message":"ok"}\n', *auth)
    assert status == 200
    # A head of garbage: 400; a head too large: 431.
    import socket
    with socket.create_connection(("127.0.0.1", n.port("in"))) as s:
        s.sendall(b"\x00\x01garbage\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", n.port("in"))) as s:
        s.sendall(b"POST / HTTP/1.1\r\n" + b"X: " + b"y" * 20000 + b"\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 431")
    assert wait_for(lambda: n.metric("bifrost_http_requests_total", code="401") == 2)
    n.stop()
    assert [e["message"] for e in n.events()] == ["ok"]


def test_https_with_client_certificates_and_basic_auth(bifrost, tmp_path):
    (tmp_path / "certs").mkdir()
    certs = make_certs(tmp_path / "certs")
    tls = (f"    tls: {{cert_file: {certs / 'server.pem'}, key_file: {certs / 'server.key'}, "
           f"ca_file: {certs / 'ca.pem'}}}\n    auth: {{user: alice, password: wonder}}\n")
    n = Net(bifrost, tmp_path, http_input(extra=tls))
    url = f"https://localhost:{n.port('in')}/"
    args = ["--cacert", str(certs / "ca.pem"), "-u", "alice:wonder"]
    status, _, body = curl(url, b'{"message":"secure"}\n', *args, "--cert", str(certs / "client.pem"), "--key",
                           str(certs / "client.key"))
    assert status == 200, body
    p = subprocess.run(["curl", "-sS", url, "--data-binary", "{}", *args], capture_output=True, timeout=30)
    assert p.returncode != 0  # no client certificate: the handshake fails
    n.stop()
    ev = n.events()
    assert [e["message"] for e in ev] == ["secure"]
    assert ev[0]["tls"]["client"]["subject"] == "CN=client1"


def test_a_stop_answers_the_waiting_requests(bifrost, tmp_path):
    held = HeldOutput(tmp_path)
    n = Net(bifrost, tmp_path, http_input(), outputs=held.yaml, shutdown="1s")
    p = subprocess.Popen(["curl", "-sS", "-D", "-", f"http://127.0.0.1:{n.port('in')}/", "--data-binary",
                          '{"message":"never delivered"}'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert wait_for(lambda: n.metric("bifrost_input_received_bytes_total") > 0)
    time.sleep(0.3)
    assert p.poll() is None
    # SIGTERM: the output cannot deliver within shutdown_timeout, so the request is answered 503.
    n.d.p.send_signal(signal.SIGTERM)
    status, headers, body = parse_response(p.communicate(timeout=30)[0])
    n.d.p.wait(timeout=30)
    assert status == 503 and "send them again" in body
