"""The Xet endpoints as the client meets them: tokens, xorb and shard uploads, the dedup query."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from models_app.models import Blob
from models_app.repos.rules import repo_create
from models_app.storage import get_store
from models_app.xet import hashing, shard
from models_app.xet.models import XetChunk, XetFile, Xorb
from tests.initial_commit import uploaded_blobs
from tests.xet.conftest import XORB_URL, post_bytes, token_for
from tests.xet.vectors import FILE_HASHES, XORB_HEX, vector_files

pytestmark = pytest.mark.django_db


def stored_xorb_files(tmp_path) -> list:
    root = tmp_path / "xet" / "xorbs"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- tokens -----------------------------------------------------------------------------------


def test_write_token_names_this_hub_and_expires(write_client, repo):
    answer = token_for(write_client, repo)
    assert answer["casUrl"] == "http://testserver/xet"
    assert answer["exp"] > 0 and answer["accessToken"]
    response = write_client.get(f"/api/models/{repo.repo_id}/xet-write-token/main")
    assert response["X-Xet-Cas-Url"] == "http://testserver/xet"
    assert response["X-Xet-Access-Token"] == response.json()["accessToken"]


def test_read_token_cannot_get_a_write_token(read_client, repo):
    response = read_client.get(f"/api/models/{repo.repo_id}/xet-write-token/main")
    assert response.status_code == 403
    assert "read-only" in response.json()["error"]


def test_anonymous_gets_401_and_strangers_403(anon_client, other_client, repo):
    assert anon_client.get(f"/api/models/{repo.repo_id}/xet-write-token/main").status_code == 401
    assert other_client.get(f"/api/models/{repo.repo_id}/xet-write-token/main").status_code == 403


def test_a_stranger_proposing_a_pull_request_gets_a_propose_grant(other_client, repo):
    from models_app.xet.tokens import PROPOSE, cas_token_check

    answer = other_client.get(f"/api/models/{repo.repo_id}/xet-write-token/main?create_pr=1")
    assert answer.status_code == 200
    grant = cas_token_check(f"Bearer {answer.json()['accessToken']}")
    assert grant.scope == PROPOSE and grant.can_write


def test_private_repo_of_someone_else_is_404(other_client, owner, isolated_xet):
    private = repo_create(owner, "secret", private=True)
    assert other_client.get(f"/api/models/{private.repo_id}/xet-write-token/main").status_code == 404


def test_cas_routes_need_a_valid_token(xorb_bytes, repo):
    assert post_bytes(Client(), XORB_URL, xorb_bytes).status_code == 401
    forged = Client(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert post_bytes(forged, XORB_URL, xorb_bytes).status_code == 401


def test_a_read_cas_token_cannot_upload(write_client, repo, xorb_bytes):
    answer = write_client.get(f"/api/models/{repo.repo_id}/xet-read-token/main").json()
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {answer['accessToken']}")
    assert post_bytes(reader, XORB_URL, xorb_bytes).status_code == 403
    assert not Xorb.objects.exists()


# --- xorbs ------------------------------------------------------------------------------------


def test_xorb_upload_stores_it_once(cas, xorb_bytes, isolated_xet):
    first = post_bytes(cas, XORB_URL, xorb_bytes)
    assert first.status_code == 200 and first.json() == {"was_inserted": True}
    again = post_bytes(cas, XORB_URL, xorb_bytes)
    assert again.json() == {"was_inserted": False}
    assert Xorb.objects.get().num_chunks == 9
    assert stored_xorb_files(isolated_xet) == [f"{XORB_HEX}.idx", f"{XORB_HEX}.xorb"]


@pytest.mark.parametrize("position", [0, 4, 20_000, 200_000, -1])
def test_tampered_xorb_is_refused_and_nothing_kept(cas, xorb_bytes, isolated_xet, position):
    tampered = bytearray(xorb_bytes)
    tampered[position] ^= 0x40
    response = post_bytes(cas, XORB_URL, bytes(tampered))
    assert response.status_code == 400
    assert "Xorb refused" in response.json()["error"]
    assert not Xorb.objects.exists()
    assert stored_xorb_files(isolated_xet) == []
    assert list((isolated_xet / "xet").rglob("*.part")) == []


def test_xorb_under_the_wrong_hash_is_refused(cas, xorb_bytes, isolated_xet):
    response = post_bytes(cas, "/xet/v1/xorbs/default/" + "ab" * 32, xorb_bytes)
    assert response.status_code == 400
    assert stored_xorb_files(isolated_xet) == []


def test_unoffered_routes_answer_404_so_the_client_falls_back(cas):
    assert cas.post(f"/xet/v1/xorb-grants/default/{XORB_HEX}").status_code == 404
    assert post_bytes(cas, "/xet/v2/shards", b"x").status_code == 404


# --- shards -----------------------------------------------------------------------------------


def test_shard_rebuilds_every_file_into_a_blob(cas, xorb_bytes, shard_bytes):
    post_bytes(cas, XORB_URL, xorb_bytes)
    response = post_bytes(cas, "/xet/v1/shards", shard_bytes)
    assert response.status_code == 200, response.content
    assert response.json() == {"result": 1}
    files = vector_files()
    for name, (xet_hash, sha256) in FILE_HASHES.items():
        blob = Blob.objects.get(sha256=sha256)
        with get_store().open(blob.storage_key) as handle:
            assert handle.read() == files[name]
        assert XetFile.objects.get(hash=xet_hash).blob == blob
    assert Xorb.objects.get().referenced is not None


def test_shard_naming_a_missing_xorb_is_refused(cas, shard_bytes):
    response = post_bytes(cas, "/xet/v1/shards", shard_bytes)
    assert response.status_code == 400
    assert "never uploaded" in response.json()["error"] or "does not hold" in response.json()["error"]
    assert not uploaded_blobs().exists()


def _flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize(
    ("offset", "what"),
    [
        (48 + 5, "file hash"),  # first file's hash
        (48 + 48 + 36, "term size"),  # first term's unpacked byte count
        (48 + 96 + 3, "verification hash"),  # first verification entry
        (48 + 144 + 3, "sha256 record"),  # first file's sha256
        (10, "header tag"),
    ],
)
def test_tampered_shard_is_refused_and_nothing_kept(cas, xorb_bytes, shard_bytes, offset, what):
    post_bytes(cas, XORB_URL, xorb_bytes)
    response = post_bytes(cas, "/xet/v1/shards", _flip(shard_bytes, offset))
    assert response.status_code in (400, 422), what
    assert not XetFile.objects.exists()
    assert not XetChunk.objects.exists()
    assert not uploaded_blobs().exists(), what


def test_shard_quota_is_enforced_while_rebuilding(cas, xorb_bytes, shard_bytes, settings):
    settings.HUB_MAX_FILE_SIZE = 155_000  # the vector files are 97,890, 150,000 and 160,000 bytes
    post_bytes(cas, XORB_URL, xorb_bytes)
    response = post_bytes(cas, "/xet/v1/shards", shard_bytes)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    assert not uploaded_blobs().exists()  # the files rebuilt before the refusal are dropped too
    assert not XetFile.objects.exists()


# --- dedup query ------------------------------------------------------------------------------


def test_dedup_query_knows_chunks_of_registered_files_only(cas, xorb_bytes, shard_bytes, real_chunks):
    first_chunk = hashing.hash_hex(real_chunks["random"][0][0])
    post_bytes(cas, XORB_URL, xorb_bytes)
    assert cas.get(f"/xet/v1/chunks/default/{first_chunk}").status_code == 404
    post_bytes(cas, "/xet/v1/shards", shard_bytes)
    response = cas.get(f"/xet/v1/chunks/default/{first_chunk}")
    assert response.status_code == 200
    answer = shard.parse_shard(response.content)
    assert [hashing.hash_hex(x.xorb) for x in answer.xorbs] == [XORB_HEX]
    assert cas.get("/xet/v1/chunks/default/" + "0" * 64).status_code == 404


def test_sha256_of_blob_is_what_the_client_commits(cas, xorb_bytes, shard_bytes):
    post_bytes(cas, XORB_URL, xorb_bytes)
    post_bytes(cas, "/xet/v1/shards", shard_bytes)
    for data in vector_files().values():
        assert Blob.objects.filter(sha256=hashlib.sha256(data).hexdigest(), size=len(data)).exists()


def test_a_shard_cannot_claim_someone_elses_blob(cas, xorb_bytes, shard_bytes, owner):
    """Own chunks + the sha256 of a blob already stored: refused, not linked to that blob."""
    from models_app.publish.uploads import Ingest

    secret = b"private weights " * 5000
    secret_sha = hashlib.sha256(secret).hexdigest()
    Ingest(repo_create(owner, "private-model", private=True)).add("w.bin", [secret])
    post_bytes(cas, XORB_URL, xorb_bytes)
    parsed = shard.parse_shard(shard_bytes)
    # Rewrite the first file's sha256 record (stored in the hash string order) to the secret's.
    claimed = hashing.hash_from_hex(secret_sha)
    forged = shard_bytes.replace(parsed.files[0].sha256, claimed, 1)
    response = post_bytes(cas, "/xet/v1/shards", forged)
    assert response.status_code == 422
    assert "sha256 mismatch" in response.json()["error"]
    assert not XetFile.objects.exists()
    assert list(uploaded_blobs().values_list("sha256", flat=True)) == [secret_sha]  # the others were dropped


def test_an_expired_cas_token_gets_401(write_client, repo, xorb_bytes, settings, monkeypatch):
    import time as time_module

    answer = token_for(write_client, repo)
    later = time_module.time() + settings.XET_TOKEN_TTL + 1
    monkeypatch.setattr("models_app.xet.tokens.time.time", lambda: later)
    expired = Client(HTTP_AUTHORIZATION=f"Bearer {answer['accessToken']}")
    response = post_bytes(expired, XORB_URL, xorb_bytes)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]


def test_a_token_stops_working_when_write_access_ends(write_client, repo, xorb_bytes, owner):
    answer = token_for(write_client, repo)
    owner.is_active = False
    owner.save()
    response = post_bytes(Client(HTTP_AUTHORIZATION=f"Bearer {answer['accessToken']}"), XORB_URL, xorb_bytes)
    assert response.status_code == 403
    assert not Xorb.objects.exists()
