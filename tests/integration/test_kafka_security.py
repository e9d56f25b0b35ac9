"""The kafka input and output through the real broker's SASL_SSL listener
(tests/services/kafka.sh secure: TLS with a test CA, SCRAM and PLAIN users,
KRaft's StandardAuthorizer), with kcat as the outside client."""
import json
import pathlib
import signal
import subprocess
import uuid

import pytest

from e2e import Daemon, run, wait_for, write
from oidc_endpoint import TokenEndpoint


@pytest.fixture
def sec_topic(kafka_secure):
    """A topic the secured user may write and read."""
    return f"{kafka_secure['prefix']}{uuid.uuid4().hex[:12]}"


def kcat_secure(sec, mechanism, *args, input=None):
    """kcat through the SASL_SSL listener as the test user."""
    password = pathlib.Path(sec["password_file"]).read_text().strip()
    return subprocess.run(["kcat", "-b", sec["address"], "-X", "security.protocol=SASL_SSL",
                           "-X", f"sasl.mechanisms={mechanism}", "-X", f"sasl.username={sec['user']}",
                           "-X", f"sasl.password={password}", "-X", f"ssl.ca.location={sec['ca_file']}", *args],
                          input=input, capture_output=True, timeout=120)


def records(kafka, topic):
    """Every record of the topic, read by the admin (the plaintext listener)."""
    p = subprocess.run(["kcat", "-b", kafka, "-C", "-t", topic, "-o", "beginning", "-e", "-q"],
                       capture_output=True, timeout=120)
    return p.stdout.decode().splitlines() if p.returncode == 0 else []


def security(sec, mechanism="SCRAM-SHA-512", password_file=None, password=None, ca_file=None):
    secret = f"password: {password}" if password else f"password_file: {password_file or sec['password_file']}"
    return f"""    tls: {{ca_file: {ca_file or sec['ca_file']}}}
    sasl: {{mechanism: {mechanism}, username: {sec['user']}, {secret}}}"""


def file_to_kafka(tmp, sec, topic, log, sec_opts, end_at_eof=True):
    return write(tmp / "f2k.yaml", f"""
data_dir: {tmp / 'data'}
api: {{listen: "off"}}
shutdown_timeout: 2s
inputs:
  - {{id: in, type: file, paths: ["{log}"], end_at_eof: {str(end_at_eof).lower()}}}
outputs:
  - id: kafka
    type: kafka
    brokers: [{sec['address']}]
    topic: {topic}
    encoding: text
    message_timeout: 2s
    retry: {{initial_backoff: 100ms, max_backoff: 500ms}}
{sec_opts}
""")


def failed(tmp, output="kafka"):
    return [json.loads(x) for seg in sorted((tmp / "data" / "failed" / "main" / output).glob("*.ndjson"))
            for x in seg.read_text().splitlines()]


def test_produce_and_consume_through_sasl_ssl_with_scram_and_plain(bifrost, tmp_path, kafka_secure, sec_topic):
    sec = kafka_secure
    n = 500
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(n)))
    # bifrost -> broker, SCRAM-SHA-512 over TLS
    r = run(bifrost, "run", "-c", file_to_kafka(tmp_path, sec, sec_topic, log, security(sec)), timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    # kcat reads them back through the same listener, SCRAM-SHA-256 (again while a new topic's
    # partition has no leader known to it yet: kcat -e then ends at once with nothing)
    got = []

    def read_back():
        p = kcat_secure(sec, "SCRAM-SHA-256", "-C", "-t", sec_topic, "-o", "beginning", "-e", "-q")
        assert p.returncode == 0, p.stderr.decode()
        got[:] = p.stdout.decode().splitlines()
        return len(got) >= n

    wait_for(read_back, 60)
    assert sorted(got) == sorted(f"line {i}" for i in range(n))
    # broker -> bifrost: the kafka input, PLAIN over TLS, as a group the user may use
    out = tmp_path / "out.ndjson"
    cfg = write(tmp_path / "k2f.yaml", f"""
data_dir: {tmp_path / 'data2'}
api: {{listen: "off"}}
inputs:
  - id: kafka
    type: kafka
    brokers: {sec['address']}
    topics: [{sec_topic}]
    group_id: {sec['prefix']}{uuid.uuid4().hex[:8]}
{security(sec, mechanism="PLAIN")}
outputs:
  - {{id: out, type: file, path: "{out}"}}
""")
    d = Daemon(bifrost, cfg)
    assert wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= n, 60), d.logged()[-3000:]
    d.stop()
    got = sorted(json.loads(x)["message"] for x in out.read_text().splitlines())
    assert got == sorted(f"line {i}" for i in range(n))


def test_a_wrong_password_is_retried_named_clearly_and_a_reload_with_the_fixed_file_delivers_all(
        bifrost, tmp_path, kafka, kafka_secure, sec_topic):
    sec = kafka_secure
    n = 200
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(n)))
    secret = tmp_path / "kafka.password"
    secret.write_text("not-the-password\n")
    secret.chmod(0o600)
    cfg = file_to_kafka(tmp_path, sec, sec_topic, log,
                        security(sec, mechanism="SCRAM-SHA-256", password_file=secret), end_at_eof=False)
    d = Daemon(bifrost, cfg)
    assert wait_for(lambda: "Authentication failed" in d.logged(), 30), d.logged()[-3000:]
    assert wait_for(lambda: "retrying" in d.logged(), 30), d.logged()[-3000:]
    logged = d.logged()
    line = next(x for x in logged.splitlines() if "Authentication failed" in x)
    assert "SCRAM-SHA-256" in line and sec["address"] in line, line
    assert records(kafka, sec_topic) == []
    assert failed(tmp_path) == []  # retried, never parked as rejected
    assert "not-the-password" not in logged  # a wrong secret is a secret too
    secret.write_text(pathlib.Path(sec["password_file"]).read_text())
    d.p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: len(records(kafka, sec_topic)) >= n, 60), d.logged()[-3000:]
    d.stop()
    assert sorted(records(kafka, sec_topic)) == sorted(f"line {i}" for i in range(n))
    assert failed(tmp_path) == []


def test_a_topic_the_user_may_not_write_goes_to_the_failed_queue_with_the_brokers_reason(
        bifrost, tmp_path, kafka, kafka_secure):
    sec = kafka_secure
    topic = f"denied-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "app.log"
    log.write_text("".join(f"line {i}\n" for i in range(20)))
    r = run(bifrost, "run", "-c", file_to_kafka(tmp_path, sec, topic, log, security(sec)), timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    parked = failed(tmp_path)
    assert sorted(x["event"]["message"] for x in parked) == sorted(f"line {i}" for i in range(20))
    assert all("TOPIC_AUTHORIZATION_FAILED" in x["error"] for x in parked), parked[0]
    assert records(kafka, topic) == []


def test_a_broker_certificate_from_another_ca_is_refused_and_retried_with_a_message_that_says_so(
        bifrost, tmp_path, kafka, kafka_secure, sec_topic):
    sec = kafka_secure
    log = tmp_path / "app.log"
    log.write_text("one\ntwo\n")
    cfg = file_to_kafka(tmp_path, sec, sec_topic, log, security(sec, ca_file=sec["other_ca_file"]),
                        end_at_eof=False)
    d = Daemon(bifrost, cfg)
    assert wait_for(lambda: "certificate verify failed" in d.logged(), 30), d.logged()[-3000:]
    assert wait_for(lambda: "retrying" in d.logged(), 30), d.logged()[-3000:]
    err = d.stop()
    line = next(x for x in err.splitlines() if "certificate verify failed" in x)
    assert sec["address"] in line and "tls.ca_file" in line, line
    assert records(kafka, sec_topic) == []
    assert failed(tmp_path) == []


def test_oauthbearer_tokens_from_an_oidc_endpoint_both_ways_and_a_wrong_client_secret_is_retried(
        bifrost, tmp_path, kafka, kafka_secure, sec_topic):
    sec = kafka_secure
    # the principal is the token's sub: the user the ACLs know
    idp = TokenEndpoint(sec, sec["user"], "client-secret-of-bifrost")
    try:
        oauth = f"""    tls: {{ca_file: {sec['ca_file']}}}
    sasl: {{mechanism: OAUTHBEARER, username: {sec['user']}, password: client-secret-of-bifrost,
            token_url: "{idp.url}", scope: kafka}}"""
        log = tmp_path / "app.log"
        log.write_text("".join(f"line {i}\n" for i in range(100)))
        # (a daemon, not `run`: the broker's first token check after its start may take a while)
        d = Daemon(bifrost, file_to_kafka(tmp_path, sec, sec_topic, log, oauth, end_at_eof=False))
        assert wait_for(lambda: len(records(kafka, sec_topic)) >= 100, 60), d.logged()[-3000:]
        d.stop()
        assert sorted(records(kafka, sec_topic)) == sorted(f"line {i}" for i in range(100))
        assert idp.counts()["issued"] >= 1
        out = tmp_path / "out.ndjson"
        cfg = write(tmp_path / "k2f.yaml", f"""
data_dir: {tmp_path / 'data2'}
api: {{listen: "off"}}
inputs:
  - id: kafka
    type: kafka
    brokers: {sec['address']}
    topics: [{sec_topic}]
    group_id: {sec['prefix']}{uuid.uuid4().hex[:8]}
{oauth}
outputs:
  - {{id: out, type: file, path: "{out}"}}
""")
        d = Daemon(bifrost, cfg)
        assert wait_for(lambda: out.exists() and len(out.read_text().splitlines()) >= 100, 60), d.logged()[-3000:]
        d.stop()
        # a wrong client secret: the endpoint refuses it, the output says so and retries
        log.write_text("late\n")
        wrong = oauth.replace("client-secret-of-bifrost", "not-the-client-secret")
        (tmp_path / "wrong").mkdir()
        d = Daemon(bifrost, file_to_kafka(tmp_path / "wrong", sec, sec_topic, log, wrong, end_at_eof=False))
        assert wait_for(lambda: "HTTP 401" in d.logged(), 30), d.logged()[-3000:]
        assert wait_for(lambda: "retrying" in d.logged(), 30), d.logged()[-3000:]
        logged = d.stop()
        assert idp.url in next(x for x in logged.splitlines() if "HTTP 401" in x)
        assert "not-the-client-secret" not in logged
        assert failed(tmp_path / "wrong") == []
    finally:
        idp.stop()
