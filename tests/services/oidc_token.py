#!/usr/bin/env python3
"""An OIDC token endpoint for the tests (the client credentials grant), on
loopback: what bifrost's Kafka OAUTHBEARER asks tokens of. The real broker
(tests/services/kafka.sh) checks the tokens against the public key it
signs them with (RS256, by openssl), as it would a real identity provider's.

usage: oidc_token.py PORT KEY_FILE CLIENT_ID CLIENT_SECRET [LIFETIME_S]

POST /token with HTTP basic auth CLIENT_ID:CLIENT_SECRET and
grant_type=client_credentials answers {"access_token": JWT, "token_type":
"Bearer", "expires_in": LIFETIME_S} (sub: CLIENT_ID, the scope asked for);
other credentials get 401. Every request is counted in GET /_count.
"""
import base64
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, KEY, CLIENT, SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
LIFETIME = int(sys.argv[5]) if len(sys.argv) > 5 else 3600
counts = {"issued": 0, "refused": 0}
lock = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(scope):
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": "bifrost-test"}
    claims = {"sub": CLIENT, "iat": now, "exp": now + LIFETIME, "iss": "bifrost-test-idp"}
    if scope:
        claims["scope"] = scope
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=signing_input.encode(),
                         capture_output=True, check=True).stdout
    return f"{signing_input}.{b64url(sig)}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            self.answer(200, dict(counts))

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
        want = "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
        if self.headers.get("Authorization") != want or form.get("grant_type") != ["client_credentials"]:
            with lock:
                counts["refused"] += 1
            return self.answer(401, {"error": "invalid_client"})
        with lock:
            counts["issued"] += 1
        self.answer(200, {"access_token": token(form.get("scope", [""])[0]), "token_type": "Bearer",
                          "expires_in": LIFETIME})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print("ready", flush=True)
    server.serve_forever()
