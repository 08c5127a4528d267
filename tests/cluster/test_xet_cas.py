"""Xet uploads on the cluster: the xorbs reach the CAS processes (nginx's /xet/), never the web processes.

nginx logs each request's upstream and its received bytes (``rx=$request_length``), so the
test reads from nginx's own access log which process carried the upload's bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter

import boto3
import pytest

from tests.cluster.test_cluster import unique

pytestmark = [pytest.mark.cluster, pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(900)]

SIZE = 96 * 2**20  # two xorbs (at most 64 MiB each)
LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" \d+ \d+ \S+ upstream=(?P<up>\S+) .* rx=(?P<rx>\d+)$')


def carried(log_lines: list[str]) -> tuple[Counter, Counter]:
    """Bytes received per upstream, for /xet/ requests and for everything else."""
    xet, other = Counter(), Counter()
    for line in log_lines:
        match = LINE.search(line)
        if match is None or match["up"] == "-":
            continue
        upstream = match["up"].split(",")[-1].strip()  # after a retry, the one that answered
        (xet if match["path"].startswith("/xet/") else other)[upstream] += int(match["rx"])
    return xet, other


def test_xet_uploads_go_to_the_cas_processes_and_the_bucket(cluster, tmp_path):
    owner = unique("xena")
    token = cluster.create_token(owner)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(os.urandom(SIZE))
    sha256 = hashlib.sha256(weights.read_bytes()).hexdigest()

    access_log = cluster.dir / "logs" / "nginx-access.log"
    start = access_log.stat().st_size
    # The client as users run it: Xet on (its default), its caches in a folder of this test's own.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update({"HF_ENDPOINT": cluster.url, "HF_TOKEN": token, "HF_HOME": str(tmp_path / "hf")})
    script = textwrap.dedent(f"""
        from huggingface_hub import HfApi, hf_hub_download
        HfApi().create_repo("{owner}/xet-weights")
        HfApi().upload_file(path_or_fileobj={str(weights)!r}, path_in_repo="model.safetensors",
                            repo_id="{owner}/xet-weights")
        print(hf_hub_download("{owner}/xet-weights", "model.safetensors", local_dir={str(tmp_path / "down")!r}))
    """)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    downloaded = done.stdout.strip().splitlines()[-1]
    assert hashlib.sha256(open(downloaded, "rb").read()).hexdigest() == sha256

    with open(access_log, errors="replace") as handle:
        handle.seek(start)
        xet, other = carried(handle.read().splitlines())
    env_of = cluster.env()
    cas = {url.removeprefix("http://") for url in cluster.cas_urls}
    web = {url.removeprefix("http://") for url in cluster.web_urls}
    report = f"/xet/ bytes by upstream: {dict(xet)}; other bytes by upstream: {dict(other)}"
    print(report)
    assert set(xet) <= cas, report  # no CAS call reached a web process
    assert sum(xet.values()) >= SIZE, report  # random bytes do not compress: the xorbs carry them all
    assert max(xet.values()) >= SIZE, report  # one upload session, one CAS process (nginx hashes its token)
    assert sum(other[u] for u in web) < SIZE // 100, report  # the web processes saw metadata only

    s3 = boto3.client(
        "s3",
        endpoint_url=env_of["AWS_S3_ENDPOINT_URL"],
        region_name=env_of["AWS_S3_REGION_NAME"],
        aws_access_key_id=env_of["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env_of["AWS_SECRET_ACCESS_KEY"],
    )
    listed = s3.list_objects_v2(Bucket=env_of["AWS_STORAGE_BUCKET_NAME"], Prefix="xet/xorbs/").get("Contents", [])
    assert sum(obj["Size"] for obj in listed if obj["Key"].endswith(".xorb")) >= SIZE
