"""The test OIDC token endpoint (tests/services/oidc_token.py) as a process the test owns."""
import json
import pathlib
import socket
import subprocess
import sys
import urllib.request

import pytest

SERVICE = pathlib.Path(__file__).resolve().parents[1] / "services" / "oidc_token.py"


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TokenEndpoint:
    """tests/services/oidc_token.py: an OIDC token endpoint that signs with the key the broker trusts."""

    def __init__(self, sec, client_id, client_secret):
        self.port = _free_port()
        self.p = subprocess.Popen([sys.executable, str(SERVICE),
                                   str(self.port), sec["idp_key"], client_id, client_secret],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if self.p.stdout.readline().strip() != b"ready":
            pytest.fail("the OIDC token endpoint did not start")
        self.url = f"http://127.0.0.1:{self.port}/token"

    def counts(self):
        return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_count", timeout=5).read())

    def stop(self):
        self.p.kill()
        self.p.wait()
