"""Quotas per account: an org's default (HUB_ORG_QUOTA), a per-account override, enforced on upload and shown."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from hub.models import User
from hub.orgs import member_set, org_create
from models_app.publish.uploads import Ingest, UploadError
from models_app.repos.quota import QuotaExceeded
from models_app.repos.revisions import revision_create
from models_app.repos.rules import repo_create
from tests.models_app.multipart_body import CONTENT_TYPE, multipart


@pytest.fixture
def acme(owner, other_user):
    org = org_create(owner, "acme")
    member_set(owner, org, other_user.username, "write")
    return org


def test_an_orgs_quota_is_its_own(owner, acme, isolated_store):
    isolated_store.HUB_ORG_QUOTA = 10
    isolated_store.HUB_USER_QUOTA = 1000
    with pytest.raises(UploadError) as refused:
        Ingest(repo_create(acme.account, "m", creator=owner)).add("a.bin", [b"x" * 11])
    assert refused.value.status_code == 413
    assert "the organization acme's storage quota" in refused.value.message
    Ingest(repo_create(owner, "mine")).add("a.bin", [b"x" * 11])  # alice's own quota is another


def test_a_per_account_quota_wins_over_the_default(owner, acme, isolated_store):
    owner.storage_quota = 5
    owner.save()
    with pytest.raises(UploadError) as refused:
        Ingest(repo_create(owner, "m")).add("a.bin", [b"x" * 6])
    assert "your storage quota" in refused.value.message
    acme.account.storage_quota = 3
    acme.account.save()
    repo = repo_create(acme.account, "m", creator=owner)
    ingest = Ingest(repo)
    isolated_store.HUB_ORG_QUOTA = 10**9
    with pytest.raises(UploadError):
        ingest.add("b.bin", [b"y" * 4])
    # The commit checks again under the owner's lock, with the account's own quota.
    acme.account.storage_quota = 10**6
    acme.account.save()
    ingest = Ingest(repo)
    ingest.add("b.bin", [b"y" * 4])
    acme.account.storage_quota = 2
    acme.account.save()
    with pytest.raises(QuotaExceeded):
        revision_create(repo, author=owner, message="x", add=ingest.files)


def test_an_upload_over_the_orgs_quota_is_a_clear_413_over_http(owner, other_user, acme, isolated_store):
    isolated_store.HUB_ORG_QUOTA = 10
    repo_create(acme.account, "m", creator=owner)
    carol = APIClient()
    carol.force_authenticate(other_user)
    body = multipart({"w.bin": b"z" * 64})
    response = carol.post("/api/models/acme/m/upload", data=body, content_type=CONTENT_TYPE)
    assert response.status_code == 413, response.content
    assert "the organization acme's storage quota" in response.json()["error"]


def test_the_storage_page_shows_usage_and_quota_of_the_user_and_their_orgs(client, owner, acme, isolated_store):
    isolated_store.HUB_ORG_QUOTA = 2048
    Ingest(repo_create(owner, "m")).add("a.bin", [b"x" * 10])
    client.force_login(owner)
    page = client.get("/settings/storage/").content.decode()
    assert "alice (you)" in page and 'href="/acme"' in page and "2.0\xa0KB" in page
    assert client.get("/settings/tokens/").status_code == 200
    assert User.objects.get(username="acme").is_organization
