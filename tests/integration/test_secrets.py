"""No secret bifrost is given ever shows: one config uses every kind (the
API token, basic auth passwords, bearer tokens, API keys, Kafka SASL
passwords first-class and through the librdkafka passthrough, inline and in
files, the http input's basic auth, and the s3 output's secret access key and session token), its outputs fail against real servers that quote the credentials
they got back (nginx, tests/services/nginx_tls.sh) and a real broker that
refuses them (librdkafka's debug log on); then its log at debug level,
`validate`, `validate --explain`, `describe`, /metrics, the failed queue
and an error message quoting a config value are searched for each."""
import base64
import pathlib
import re
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from e2e import ROOT, Daemon, free_port, run, wait_for, write
from oidc_endpoint import TokenEndpoint

SINK = ROOT / "tests" / "services" / "http_sink.py"


def test_no_secret_of_any_kind_appears_anywhere_bifrost_writes(bifrost, tmp_path, kafka_secure, nginx_tls, es, s3):
    sec, pki = kafka_secure, nginx_tls
    s = {k: f"{k}-{secrets.token_hex(8)}" for k in
         ["api_token", "bearer", "es_password", "influx_key", "http_key", "kafka_password", "passthrough_password",
          "oauth_client_secret", "http_in_password", "s3_secret", "s3_session_token", "s3_secret_file"]}
    real_kafka_password = pathlib.Path(sec["password_file"]).read_text().strip()
    es_basic = base64.b64encode(f"elastic:{s['es_password']}".encode()).decode()
    push_basic = base64.b64encode(f"pusher:{s['http_in_password']}".encode()).decode()
    push_port = free_port()

    # The real servers behind proxies that want other credentials and quote what they got.
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, str(SINK), str(sink_port), str(tmp_path / "received")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert sink.stdout.readline().strip() == b"ready"
    idp = TokenEndpoint(sec, sec["user"], s["oauth_client_secret"])
    try:
        bearer_port = pki["proxy"]("secrets-bearer", f"127.0.0.1:{sink_port}", "--authorization", "Bearer right")
        key_port = pki["proxy"]("secrets-key", f"127.0.0.1:{sink_port}", "--authorization", "ApiKey right")
        es_port = pki["proxy"]("secrets-es", es.removeprefix("http://"), "--authorization", "Basic cmlnaHQ=")
        influx_port = pki["proxy"]("secrets-influx", f"127.0.0.1:{sink_port}", "--authorization", "Token right")

        secret_dir = tmp_path / "secrets"
        secret_dir.mkdir(mode=0o700)
        files = {}
        for name, value in [("es", s["es_password"]), ("http_key", s["http_key"]), ("kafka", real_kafka_password),
                            ("s3", s["s3_secret_file"])]:
            files[name] = secret_dir / name
            files[name].write_text(value + "\n")
            files[name].chmod(0o600)
        log = tmp_path / "app.log"
        log.write_text("".join(f"event {i}\n" for i in range(5)))
        ca = pki["ca_file"]
        kafka_tls = f"tls: {{ca_file: {sec['ca_file']}}}"
        body = f"""
data_dir: {tmp_path / 'data'}
log: {{level: debug}}
shutdown_timeout: 1s
api: {{listen: "127.0.0.1:0", token: {s['api_token']}}}
pipelines:
  out:
    inputs: [{{id: in, type: file, paths: ["{log}"]}}]
    outputs:
      - {{id: bearer, type: http, url: "https://127.0.0.1:{bearer_port}/in", tls: {{ca_file: {ca}}},
          auth: {{bearer: {s['bearer']}}}}}
      - {{id: key, type: http, url: "https://127.0.0.1:{key_port}/in", tls: {{ca_file: {ca}}},
          auth: {{api_key_file: {files['http_key']}}}}}
      - {{id: es, type: elasticsearch, hosts: ["https://127.0.0.1:{es_port}"], index: secrets,
          tls: {{ca_file: {ca}}}, auth: {{user: elastic, password_file: {files['es']}}}}}
      - {{id: influx, type: influxdb, url: "https://127.0.0.1:{influx_port}", database: d, measurement: m,
          fields: {{message: message}}, tls: {{ca_file: {ca}}}, auth: {{api_key: {s['influx_key']}}}}}
      # moto checks no signature: the objects go to a bucket that is not there (NoSuchBucket, parked).
      - {{id: s3, type: s3, endpoint: "{s3}", bucket: no-such-bucket-secrets, path_style: true, max_object_age: 1s,
          auth: {{access_key_id: AKIDSECRETS, secret_access_key: {s['s3_secret']},
                  session_token: {s['s3_session_token']}}}}}
      - {{id: s3_file, type: s3, endpoint: "{s3}", bucket: no-such-bucket-secrets, path_style: true,
          max_object_age: 1s, auth: {{access_key_id: AKIDSECRETS, secret_access_key_file: {files['s3']}}}}}
      - id: kafka_first_class
        type: kafka
        brokers: [{sec['address']}]
        topic: {sec['prefix']}secrets
        message_timeout: 1s
        {kafka_tls}
        sasl: {{mechanism: SCRAM-SHA-512, username: {sec['user']}, password: {s['kafka_password']}}}
        librdkafka: {{debug: "security,broker,protocol,msg"}}
      - id: kafka_oauth
        type: kafka
        brokers: [{sec['address']}]
        topic: {sec['prefix']}secrets
        {kafka_tls}
        sasl: {{mechanism: OAUTHBEARER, username: {sec['user']}, password: {s['oauth_client_secret']},
                token_url: "{idp.url}"}}
        librdkafka: {{debug: "security,broker"}}
      - id: kafka_passthrough
        type: kafka
        brokers: [{sec['address']}]
        topic: {sec['prefix']}secrets
        message_timeout: 1s
        librdkafka: {{security.protocol: SASL_SSL, ssl.ca.location: {sec['ca_file']}, sasl.mechanisms: PLAIN,
                     sasl.username: {sec['user']}, sasl.password: {s['passthrough_password']}, debug: all}}
  back:
    inputs:
      - id: consume
        type: kafka
        brokers: [{sec['address']}]
        topics: [{sec['prefix']}secrets]
        group_id: {sec['prefix']}secrets
        {kafka_tls}
        sasl: {{mechanism: SCRAM-SHA-256, username: {sec['user']}, password_file: {files['kafka']}}}
        librdkafka: {{debug: "security,broker,cgrp"}}
    outputs: [{{id: drop_all, type: file, path: "{tmp_path / 'back.log'}"}}]
  push:
    inputs:
      - {{id: push, type: http, listen: "127.0.0.1:{push_port}", auth: {{user: pusher, password: {s['http_in_password']}}}}}
    outputs: [{{id: pushed, type: file, path: "{tmp_path / 'pushed.log'}"}}]
"""
        cfg = write(tmp_path / "c.yaml", body)
        everything = list(s.values()) + [real_kafka_password, es_basic, push_basic]

        def leaks(text, where):
            found = [x for x in everything if x in text]
            assert found == [], f"{where} shows {found}"

        d = Daemon(bifrost, cfg)
        assert wait_for(lambda: "api: listening on" in d.logged(), 20), d.logged()
        addr = re.search(r"listening on http://([\d.:]+)", d.logged()).group(1)
        failed_dir = tmp_path / "data" / "failed" / "out"
        # Every HTTP output parks its events (401, the proxy quoting the credentials),
        # the Kafka outputs retry (authentication failed), librdkafka's debug log runs.
        assert wait_for(lambda: all(len(list((failed_dir / o).glob("*.ndjson"))) > 0
                                    for o in ["bearer", "key", "es", "influx", "s3", "s3_file"]), 60), d.logged()[-3000:]
        assert wait_for(lambda: d.logged().count("SASL authentication error") >= 2, 60), d.logged()[-3000:]
        assert wait_for(lambda: idp.counts()["issued"] >= 1, 30), d.logged()[-3000:]
        # The http input: a push with its credentials is taken, one with others is refused.
        push = f"http://127.0.0.1:{push_port}/"
        ok = urllib.request.Request(push, data=b'{"message": "pushed"}\n', method="POST",
                                    headers={"Authorization": f"Basic {push_basic}"})
        assert urllib.request.urlopen(ok, timeout=30).status == 200
        wrong = urllib.request.Request(push, data=b"x\n", method="POST", headers={"Authorization": "Basic d3Jvbmc="})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(wrong, timeout=30)
        assert refused.value.code == 401
        req = urllib.request.Request(f"http://{addr}/metrics", headers={"Authorization": f"Bearer {s['api_token']}"})
        metrics = urllib.request.urlopen(req, timeout=10).read().decode()
        assert "bifrost_events_in_total" in metrics
        leaks(metrics, "/metrics")
        d.p.send_signal(signal.SIGHUP)  # a reload logs the config's warnings and errors again
        assert wait_for(lambda: "reloaded" in d.logged(), 30), d.logged()[-3000:]
        logged = d.stop()
        assert "librdkafka" in logged and "DEBUG" in logged  # the debug lines were there to search
        leaks(logged, "the log")

        parked = "".join(p.read_text() for p in failed_dir.rglob("*.ndjson"))
        assert "got: Bearer ***" in parked and "got: Basic ***" in parked and "got: Token ***" in parked, parked[:2000]
        leaks(parked, "the failed queue")

        for args in [["validate", "-c", cfg], ["validate", "--explain", "-c", cfg]] + \
                [["describe", t] for t in ["http", "elasticsearch", "influxdb", "kafka", "s3"]] + [["describe"]]:
            r = run(bifrost, *args)
            assert r.returncode == 0, r.stderr.decode()
            leaks(r.stdout.decode() + r.stderr.decode(), " ".join(args))
        explained = run(bifrost, "validate", "--explain", "-c", cfg).stdout.decode()
        assert "kafka_first_class" in explained

        # An error that quotes a config value (a secret pasted where it does not belong).
        pasted = f"message_timeout: 1s\n        acks: {s['kafka_password']}\n"
        broken = write(tmp_path / "broken.yaml", body.replace("message_timeout: 1s\n", pasted, 1))
        r = run(bifrost, "validate", "-c", broken)
        assert r.returncode == 2
        err = r.stderr.decode()
        assert '"***" is not one of all | 1 | 0' in err, err
        leaks(err, "a config error")
    finally:
        idp.stop()
        sink.kill()
        sink.wait()
