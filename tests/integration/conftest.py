"""Shared by the tests against real services (tests/services/*.sh): they
reuse the end-to-end helpers (loaded under the name `e2e`) and start the
service they need once per session."""
import importlib.util
import json
import pathlib
import sys
import uuid

import pytest

_HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent / "support"))  # the shared helpers (sink_down.py)
_spec = importlib.util.spec_from_file_location("e2e", _HERE.parent / "e2e" / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
sys.modules["e2e"] = e2e
_spec.loader.exec_module(e2e)

# The e2e helpers and fixtures, also under this module's name: run in one
# pytest session with tests/e2e, `from conftest import ...` may find this file.
from e2e import *  # noqa: E402,F401,F403
from realservices import service  # noqa: E402


@pytest.fixture(scope="session")
def kafka():
    """A real Kafka broker (KRaft, single node) on loopback: '127.0.0.1:PORT'."""
    return service("kafka")


@pytest.fixture(scope="session")
def kafka_secure(kafka):
    """The same broker's SASL_SSL listener (tests/services/kafka.sh secure): a dict of
    address, ca_file, other_ca_file, user, password_file and prefix (the topics and
    groups the user may use; it may use no other)."""
    return json.loads(service("kafka", "secure"))


@pytest.fixture(scope="session")
def nginx_tls():
    """nginx as a TLS-terminating proxy (tests/services/nginx_tls.sh): its test PKI as a
    dict (ca_file, other_ca_file, client_cert, client_key, other_client_cert,
    other_client_key), and proxy(name, upstream, *options) -> port."""
    pki = json.loads(service("nginx_tls", "pki"))

    def proxy(name, upstream, *options):
        return int(service("nginx_tls", "proxy", name, upstream, *options))
    pki["proxy"] = proxy
    return pki


@pytest.fixture(scope="session")
def es():
    """A real Elasticsearch (single node) on loopback: 'http://127.0.0.1:PORT'."""
    return service("elasticsearch")


@pytest.fixture(scope="session")
def influx():
    """A real InfluxDB 1.6 on loopback: 'http://127.0.0.1:PORT'."""
    return service("influxdb")


@pytest.fixture(scope="session")
def s3():
    """moto's S3 server on loopback: 'http://127.0.0.1:PORT'."""
    return service("s3")


@pytest.fixture
def topic():
    return f"t-{uuid.uuid4().hex[:12]}"
