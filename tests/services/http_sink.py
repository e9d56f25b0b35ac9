#!/usr/bin/env python3
"""A real HTTP sink for the tests, on loopback, that the test controls.

usage: http_sink.py PORT RECEIVED_FILE

Every request body to any path other than /_control is split into events
(NDJSON lines, or the items of a JSON array) and, when accepted, appended to
RECEIVED_FILE, one compact JSON event per line (so a restart keeps them).
POST /_control with a JSON object sets the behaviour:
  {"status": 503}          answer every request with this status (200: accept)
  {"reject": "bad"}        answer 400 to requests with this text in the body
  {"reject_status": 422}   the status of those answers (400 unless set)
GET /_control answers the state and "requests": the requests to other paths
answered so far (every status), so a test can count what bifrost sent.
Stop the process (the test does) to make the sink unreachable.
"""
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"status": 200, "reject": None, "reject_status": 400, "requests": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path == "/_control":
            with lock:
                state.update(json.loads(body))
            return self.answer(200, b"ok")
        with lock:
            status, reject, reject_status = state["status"], state["reject"], state["reject_status"]
            state["requests"] += 1
        if status != 200:
            return self.answer(status, b"sink says %d" % status)
        if reject and reject.encode() in body:
            return self.answer(reject_status, b"rejected: contains " + reject.encode())
        text = body.decode()
        if text.lstrip().startswith("["):  # a JSON array: noted with the request's headers
            events = json.loads(text)
            out = "".join(json.dumps(dict(e, _auth=self.headers.get("Authorization", ""),
                                          _ctype=self.headers.get("Content-Type", ""))) + "\n" for e in events)
        else:  # NDJSON: kept as it came (fast enough for hundreds of thousands of events)
            out = text if text.endswith("\n") else text + "\n"
        with lock, open(sys.argv[2], "a") as f:
            f.write(out)
        self.answer(200, b'{"ok":true}')

    def do_GET(self):
        if self.path != "/_control":
            return self.answer(404)
        with lock:
            text = json.dumps(state)
        self.answer(200, text.encode())

    do_POST = handle_body
    do_PUT = handle_body


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
