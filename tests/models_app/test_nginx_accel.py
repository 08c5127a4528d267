"""Production downloads: the app answers with X-Accel-Redirect and nginx sends the bytes (skips without nginx)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time

import httpx
import pytest

from tests.live import LiveHub, free_port
from tests.models_app.test_hf_clients import run_client

pytestmark = [pytest.mark.live]

CONF = """
worker_processes 1;
{user}
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  sendfile on;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    # The same two locations as deploy/nginx.conf.
    location /_blobs/ {{
      internal; alias {blobs}/; etag off; expires off;
      add_header ETag $upstream_http_etag always;
      add_header X-Linked-Etag $upstream_http_x_linked_etag always;
      add_header X-Linked-Size $upstream_http_x_linked_size always;
      add_header X-Repo-Commit $upstream_http_x_repo_commit always;
    }}
    location / {{
      proxy_pass http://127.0.0.1:{app_port};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_buffering off;
    }}
  }}
}}
"""


@pytest.fixture(scope="module")
def nginx_hub(tmp_path_factory):
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("needs nginx (apt-get install nginx)")
    tmp = tmp_path_factory.mktemp("nginx")
    for sub in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir()
    with LiveHub(tmp / "hub", extra_env={"HUB_ACCEL_REDIRECT_PREFIX": "/_blobs/"}) as hub:
        port = free_port()
        conf = tmp / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(CONF.format(user=user, tmp=tmp, port=port, app_port=hub.port, blobs=hub.data_dir / "blobs"))
        proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.PIPE)
        try:
            for _ in range(100):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield hub, f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)


def test_nginx_sends_the_bytes_with_the_apps_headers(nginx_hub, tmp_path):
    hub, front = nginx_hub
    folder = tmp_path / "model"
    folder.mkdir()
    data = os.urandom(2 * 1024 * 1024 + 7)
    (folder / "model.safetensors").write_bytes(data)
    sha = hub.manage("publish_folder", "alice/accel", str(folder)).strip()
    url = f"{front}/alice/accel/resolve/main/model.safetensors"
    etag = f'"{hashlib.sha256(data).hexdigest()}"'

    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["etag"] == etag and whole.headers["x-repo-commit"] == sha
    assert "x-accel-redirect" not in whole.headers and whole.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    head = httpx.head(url)
    assert head.headers["x-linked-size"] == str(len(data)) and head.headers["etag"] == etag
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    # A client cannot reach the blob store directly.
    assert httpx.get(f"{front}/_blobs/").status_code == 404

    got = run_client(front, tmp_path / "cache", "download", "alice/accel", "model.safetensors")
    assert got["sha256"] == hashlib.sha256(data).hexdigest()
