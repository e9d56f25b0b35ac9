"""An outside S3 client for the tests: boto3, run by the python of the
virtual environment tests/services/s3.sh makes (`s3.sh python`). Prints
JSON on stdout. zstd objects are decompressed by the zstd command (Debian).

  s3_client.py URL mkbucket BUCKET
  s3_client.py URL dump BUCKET [PREFIX]   [{key, size, etag, lines}], each object decompressed by its extension
  s3_client.py URL iam-user               {id, secret}: a new IAM user allowed everything
  s3_client.py URL auth on|off            moto checks signatures and permissions (on) or not (off)

Credentials: S3_KEY and S3_SECRET from the environment (any will do while auth is off).
"""
import gzip
import json
import os
import subprocess
import sys
import urllib.request

import boto3


def client(url, service="s3"):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=os.environ.get("S3_KEY", "test"),
                        aws_secret_access_key=os.environ.get("S3_SECRET", "test"))


def decompress(key, body):
    if key.endswith(".gz"):
        return gzip.decompress(body)
    if key.endswith(".zst"):
        return subprocess.run(["zstd", "-dc"], input=body, capture_output=True, check=True).stdout
    return body


def dump(url, bucket, prefix=""):
    s3 = client(url)
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            text = decompress(o["Key"], body).decode()
            out.append({"key": o["Key"], "size": o["Size"], "etag": o["ETag"], "lines": text.splitlines()})
    return out


def iam_user(url):
    iam = client(url, "iam")
    name = "bifrost-" + os.urandom(4).hex()
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def auth(url, on):
    # moto's switch: after N more unauthenticated requests it checks every one.
    req = urllib.request.Request(url + "/moto-api/reset-auth", data=(b"0" if on else b"inf"), method="POST",
                                 headers={"Content-Type": "text/plain"})  # a form body would be read as a form
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


def main():
    url, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "mkbucket":
        client(url).create_bucket(Bucket=args[0])
        result = {"bucket": args[0]}
    elif cmd == "dump":
        result = dump(url, args[0], args[1] if len(args) > 1 else "")
    elif cmd == "iam-user":
        result = iam_user(url)
    elif cmd == "auth":
        result = auth(url, args[0] == "on")
    else:
        sys.exit(f"unknown command {cmd}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
