"""The operator's admin: takedown and restore, accounts, runs, rooms and the report queue; each action audited."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from rest_framework.test import APIClient

from discussions.models import Message, Report
from discussions.rooms import message_post, room_for
from hub.models import AuditEntry, User
from hub.orgs import org_create
from hub.tokens import token_create
from models_app.publish.uploads import Ingest
from models_app.repos.revisions import revision_create
from models_app.repos.rules import repo_create
from models_app.validation.models import ValidationRun
from models_app.validation.runs import run_create


@pytest.fixture(autouse=True)
def _in_memory_layer(settings, tmp_path):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.BLOB_DIR = tmp_path / "blobs"
    settings.UPLOAD_TMP_DIR = tmp_path / "tmp"
    settings.UPLOAD_TMP_DIR.mkdir()


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("sam", "sam@example.org", "pw-correct-horse", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def model(owner):
    repo = repo_create(owner, "m")
    ingest = Ingest(repo)
    ingest.add("config.json", [b"{}"])
    revision_create(repo, author=owner, message="x", add=ingest.files)
    return repo


def act(client, url: str, action: str, pks, reason: str = "because"):
    """Run an admin action through its confirmation page, as staff would."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks]}
    confirm = client.post(url, data)
    assert confirm.status_code == 200 and b"reason-form" in confirm.content
    return client.post(url, {**data, "apply": "Confirm", "reason": reason})


REPOS = "/admin/models_app/modelrepo/"
HIDE = "hide"
RESTORE = "restore"


def test_a_takedown_answers_451_everywhere_and_restore_brings_it_back(staff_client, owner, model):
    visitor = APIClient()
    assert act(staff_client, REPOS, HIDE, [model.pk], "Copyright claim #42").status_code == 302
    page = visitor.get("/alice/m")
    assert page.status_code == 451 and b"Copyright claim #42" in page.content and b"taken down" in page.content
    api = visitor.get("/api/models/alice/m")
    assert api.status_code == 451 and "Copyright claim #42" in api.json()["error"]
    assert api.json()["detail"]["reason"] == "Copyright claim #42"
    download = visitor.get("/alice/m/resolve/main/config.json")
    assert download.status_code == 451 and download["X-Error-Code"] == "RepoTakenDown"
    assert visitor.get("/api/models").json() == []
    # The owner is refused too; only staff still see it.
    _, raw = token_create(owner, "w", "write")
    assert visitor.get("/api/models/alice/m", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 451
    assert staff_client.get("/alice/m").status_code == 200
    entry = AuditEntry.objects.get(action="repo.hide")
    assert (entry.actor.username, entry.target, entry.reason) == ("sam", "model alice/m", "Copyright claim #42")

    assert act(staff_client, REPOS, RESTORE, [model.pk], "claim withdrawn").status_code == 302
    assert visitor.get("/alice/m").status_code == 200
    assert b"".join(visitor.get("/alice/m/resolve/main/config.json").streaming_content) == b"{}"
    assert AuditEntry.objects.filter(action="repo.restore", reason="claim withdrawn").exists()


def test_a_takedown_needs_a_reason(staff_client, model):
    data = {"action": HIDE, ACTION_CHECKBOX_NAME: [str(model.pk)], "apply": "Confirm", "reason": ""}
    again = staff_client.post(REPOS, data)
    assert again.status_code == 200 and b"This field is required" in again.content
    assert not AuditEntry.objects.filter(action="repo.hide").exists()


def test_hiding_an_org_hides_its_repos(staff_client, owner):
    org = org_create(owner, "acme")
    repo_create(org.account, "m", creator=owner)
    act(staff_client, "/admin/hub/organization/", "hide", [org.pk], "spam")
    assert APIClient().get("/api/models/acme/m").status_code == 451
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {"org.hide", "repo.hide", "org.create"}


def test_disable_and_token_reset(staff_client, owner, other_user):
    _, raw = token_create(other_user, "w", "write")
    bob = APIClient()
    bob.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bob.get("/api/whoami-v2").status_code == 200
    act(staff_client, "/admin/hub/user/", "reset_tokens", [other_user.pk])
    assert bob.get("/api/whoami-v2").status_code == 401
    act(staff_client, "/admin/hub/user/", "disable", [owner.pk], "abuse")
    owner.refresh_from_db()
    assert owner.is_active is False
    actions = dict(AuditEntry.objects.values_list("action", "target"))
    assert actions["user.tokens_reset"] == "user bob" and actions["user.disable"] == "user alice"


def test_runs_cancel_and_rerun(staff_client, model):
    run = ValidationRun.objects.filter(revision__repo=model).first() or run_create(model.revisions.latest("created"))
    assert run.status == "queued"
    act(staff_client, "/admin/validation/validationrun/", "cancel", [run.pk], "stuck")
    run.refresh_from_db()
    assert run.status == "error" and run.reason == "cancelled"
    act(staff_client, "/admin/validation/validationrun/", "rerun", [run.pk])
    assert ValidationRun.objects.filter(revision__repo=model, status="queued").exists()
    assert {"run.cancel", "run.rerun"} <= set(AuditEntry.objects.values_list("action", flat=True))


def test_reports_land_in_the_queue_and_staff_handle_them(staff_client, owner, other_user, model):
    message = message_post(room_for(model), owner, "buy cheap pills")
    bob = APIClient()
    bob.force_authenticate(other_user)
    url = "/api/models/alice/m/reports"
    received = bob.post(url, {"kind": "message", "message": message.seq, "reason": "spam"}, format="json")
    assert received.status_code == 201 and set(received.json()) == {"id", "status"}
    assert bob.post(url, {"kind": "file", "path": "config.json", "reason": "malware"}, format="json").status_code == 201
    assert bob.post(url, {"kind": "file", "path": "nope.bin", "reason": "x"}, format="json").status_code == 404
    assert bob.post(url, {"kind": "message", "message": 999, "reason": "x"}, format="json").status_code == 404
    assert bob.post(url, {"kind": "model", "reason": " "}, format="json").status_code == 400
    assert bob.post(url, {"kind": "space", "reason": "x"}, format="json").status_code == 400
    assert APIClient().post(url, {"kind": "model", "reason": "x"}, format="json").status_code in (401, 403)
    assert bob.post("/api/models/alice/missing/reports", {"reason": "x"}, format="json").status_code == 404

    queue = staff_client.get("/admin/discussions/report/")
    assert queue.status_code == 200 and b"spam" in queue.content and b"file alice/m/config.json" in queue.content
    report = Report.objects.get(kind="message")
    act(staff_client, "/admin/discussions/report/", "resolve", [report.pk], "deleted it")
    report.refresh_from_db()
    assert report.status == "resolved" and report.handled_by.username == "sam"
    act(staff_client, "/admin/discussions/message/", "delete_messages", [message.pk])
    assert Message.objects.get(pk=message.pk).deleted is not None
    assert {"report.resolved", "message.delete"} <= set(AuditEntry.objects.values_list("action", flat=True))


def test_the_report_page(client, owner, other_user, model):
    message_post(room_for(model), owner, "hello")
    assert client.get("/alice/m/report").status_code == 302  # sign in first
    client.force_login(other_user)
    form = client.get("/alice/m/report?message=1")
    assert form.status_code == 200 and b'value="1"' in form.content
    sent = client.post("/alice/m/report", {"kind": "message", "message": "1", "reason": "rude"}, follow=True)
    assert b"your report was received" in sent.content
    assert Report.objects.get().target == "message alice/m#1"
    bad = client.post("/alice/m/report", {"kind": "message", "message": "7", "reason": "rude"})
    assert bad.status_code == 404 and b"has no message 7" in bad.content


def test_the_admin_is_for_staff_and_the_audit_log_is_read_only(staff_client, owner):
    member = Client()
    member.force_login(owner)
    assert member.get("/admin/").status_code == 302
    AuditEntry.objects.create(actor=owner, action="x.test", target="t")
    log = staff_client.get("/admin/hub/auditentry/?action=x.test")
    assert log.status_code == 200 and b"x.test" in log.content
    assert staff_client.get("/admin/hub/auditentry/add/").status_code == 403


def test_editing_through_the_admin_forms_is_audited(staff_client, owner):
    response = staff_client.post(
        f"/admin/hub/user/{owner.pk}/change/",
        {
            "username": "alice",
            "email": "alice@example.org",
            "is_active": "on",
            "storage_quota": "1024",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    owner.refresh_from_db()
    assert owner.storage_quota == 1024
    assert AuditEntry.objects.filter(action="user.change", target="user alice").exists()
