"""Discussions and pull requests through the HF client's API: threads of the model's room."""

from __future__ import annotations

import base64
import json

import pytest

from discussions.models import Message, Thread
from hub.models import User
from hub.tokens import token_create
from models_app.models import Ref
from models_app.repos.rules import repo_create
from tests.discussions.conftest import receive_type, socket

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/models/alice/tiny/discussions"


def commit(client, files: dict[str, bytes], *, rev: str = "main", query: str = "", summary: str = "Upload"):
    lines = [{"key": "header", "value": {"summary": summary, "description": "why it helps"}}]
    lines += [
        {"key": "file", "value": {"path": p, "content": base64.b64encode(d).decode(), "encoding": "base64"}}
        for p, d in files.items()
    ]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    return client.post(f"/api/models/alice/tiny/commit/{rev}{query}", data=body, content_type="application/x-ndjson")


@pytest.fixture
def repo(owner):
    return repo_create(owner, "tiny")


def download(client, path: str) -> bytes:
    return b"".join(client.get(f"/alice/tiny/resolve/main/{path}").streaming_content)


def open_thread(client, title="Question", pull_request=False, description="Hello"):
    return client.post(API, {"title": title, "description": description, "pullRequest": pull_request}, format="json")


def details(client, num):
    return client.get(f"{API}/{num}").json()


def test_discussions_and_prs_share_numbers_newest_first(repo, write_client, other_client, anon_client):
    assert open_thread(other_client, "A question").json()["num"] == 1
    pr = open_thread(other_client, "A change", pull_request=True).json()
    assert pr["num"] == 2 and pr["pullRequest"] == {"ref": "refs/pr/2"}
    assert Ref.objects.get(repo=repo, kind=Ref.Kind.PR).name == "2"
    listing = anon_client.get(API).json()
    assert listing["count"] == 2 and listing["start"] == 0
    assert [(d["num"], d["isPullRequest"], d["status"]) for d in listing["discussions"]] == [
        (2, True, "draft"),
        (1, False, "open"),
    ]
    assert [d["num"] for d in anon_client.get(API + "?type=discussion").json()["discussions"]] == [1]
    assert anon_client.get(API + "?author=nobody").json()["discussions"] == []
    page = anon_client.get("/alice/tiny/discussions/2")
    assert page.status_code == 200 and "A change" in page.content.decode()
    assert anon_client.get("/alice/tiny/discussions/9").status_code == 404
    first = details(anon_client, 1)["events"][0]
    assert first["type"] == "comment" and first["data"]["latest"]["raw"] == "Hello"
    assert first["author"]["name"] == "bob"


def test_permission_matrix(repo, owner, write_client, other_client, anon_client, carol):
    open_thread(other_client, "Bob's question")  # #1, bob's
    carol_client = other_client.__class__()
    carol_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(carol, 't', 'write')[1]}")
    # anonymous: reads, never writes
    assert anon_client.get(f"{API}/1").status_code == 200
    assert open_thread(anon_client).status_code == 401
    assert anon_client.post(f"{API}/1/comment", {"comment": "hi"}, format="json").status_code == 401
    # another user: comments, but may not rename or close bob's thread
    assert carol_client.post(f"{API}/1/comment", {"comment": "me too"}, format="json").status_code == 200
    refused = carol_client.post(f"{API}/1/status", {"status": "closed"}, format="json")
    assert refused.status_code == 403 and "author" in refused.json()["error"]
    assert carol_client.post(f"{API}/1/title", {"title": "Mine"}, format="json").status_code == 403
    # the author renames and closes their own; the writer reopens it
    assert other_client.post(f"{API}/1/title", {"title": "Better"}, format="json").json()["newTitle"]["data"] == {
        "from": "Bob's question",
        "to": "Better",
    }
    assert other_client.post(f"{API}/1/status", {"status": "closed"}, format="json").status_code == 200
    assert write_client.post(f"{API}/1/status", {"status": "open"}, format="json").status_code == 200
    # comments: only one's own are edited; the writer hides anyone's, others hide only their own
    carol_comment = details(anon_client, 1)["events"][1]["id"]
    assert (
        other_client.post(f"{API}/1/comment/{carol_comment}/edit", {"content": "x"}, format="json").status_code == 403
    )
    assert other_client.post(f"{API}/1/comment/{carol_comment}/hide").status_code == 403
    hidden = write_client.post(f"{API}/1/comment/{carol_comment}/hide").json()["updatedComment"]
    assert hidden["data"]["hidden"] is True and hidden["data"]["latest"]["raw"] == ""
    # a read token may not write
    read = other_client.__class__()
    read.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(carol, 'r', 'read')[1]}")
    assert read.post(f"{API}/1/comment", {"comment": "hi"}, format="json").status_code == 403
    # only writers merge
    open_thread(other_client, "Bob's PR", pull_request=True)
    other_client.post(f"{API}/2/status", {"status": "open"}, format="json")
    assert other_client.post(f"{API}/2/merge").status_code == 403
    # bad input: JSON errors, never a 500
    assert open_thread(other_client, "x" * 201).status_code == 400
    assert other_client.post(f"{API}/1/comment", {"comment": ""}, format="json").status_code == 400
    assert other_client.post(f"{API}/1/comment/zz/edit", {"content": "x"}, format="json").status_code == 404
    assert anon_client.get(f"{API}/99").status_code == 404
    assert anon_client.get(f"{API}/99999999999999999999").status_code == 404
    assert other_client.post(f"{API}/1/comment/{'f' * 30}/hide").status_code == 404
    assert anon_client.get(API + "?p=abc").status_code == 400


def test_private_repo_threads_are_not_found_for_outsiders(owner, write_client, other_client, anon_client):
    repo_create(owner, "hidden", private=True)
    url = "/api/models/alice/hidden/discussions"
    assert write_client.post(url, {"title": "Mine"}, format="json").status_code == 200
    assert other_client.get(url).status_code == 404
    assert other_client.get(f"{url}/1").status_code == 404
    assert other_client.post(url, {"title": "x"}, format="json").headers["X-Error-Code"] == "RepoNotFound"
    assert anon_client.get(f"{url}/1").status_code == 401


def test_rate_limit_is_the_rooms(repo, other_client, settings):
    settings.HUB_CHAT_RATE_MESSAGES = 2
    open_thread(other_client)
    assert other_client.post(f"{API}/1/comment", {"comment": "one"}, format="json").status_code == 200
    refused = other_client.post(f"{API}/1/comment", {"comment": "two"}, format="json")
    assert refused.status_code == 429 and "Slow down" in refused.json()["error"]


def test_commit_to_pr_adds_a_commit_event_and_merge_writes_main(repo, write_client, other_client, anon_client):
    opened = commit(other_client, {"config.json": b'{"a": 1}'}, query="?create_pr=1", summary="Add config")
    assert opened.status_code == 200 and opened.json()["pullRequestUrl"].endswith("/discussions/1")
    thread = details(anon_client, 1)
    assert (thread["title"], thread["status"], thread["isPullRequest"]) == ("Add config", "open", True)
    assert [e["type"] for e in thread["events"]] == ["comment", "commit"]
    assert thread["events"][0]["data"]["latest"]["raw"] == "why it helps"
    # the PR's author commits again to refs/pr/1; a stranger may not
    assert commit(other_client, {"extra.txt": b"more"}, rev="refs/pr/1", summary="More").status_code == 200
    events = details(anon_client, 1)["events"]
    assert events[-1]["type"] == "commit" and events[-1]["data"]["subject"] == "More"
    # the room hears of PR commits once, as the thread's commit events, not also as "New revision"
    plain = Message.objects.filter(room__repo=repo, thread__isnull=True).values_list("body", flat=True)
    assert not [body for body in plain if "Add config" in body or "More" in body]
    carol = User.objects.create_user("carol2", "c2@example.org", "pw-pw-pw-pw")
    stranger = other_client.__class__()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(carol, 't', 'write')[1]}")
    assert commit(stranger, {"x.txt": b"x"}, rev="refs/pr/1").status_code == 403
    # the writer merges: main has the files, the thread says merged
    merged = write_client.post(f"{API}/1/merge")
    assert merged.status_code == 200, merged.json()
    assert download(anon_client, "config.json") == b'{"a": 1}'
    assert download(anon_client, "extra.txt") == b"more"
    thread = details(anon_client, 1)
    assert thread["status"] == "merged" and thread["changes"]["mergeCommitId"]
    assert thread["events"][-1]["data"] == {"status": "merged"}


def test_merge_after_main_moved_and_conflicts(repo, write_client, anon_client):
    commit(write_client, {"a.txt": b"base"})
    commit(write_client, {"a.txt": b"pr side", "b.txt": b"new"}, query="?create_pr=1")  # PR #1
    commit(write_client, {"b.txt": b"new", "c.txt": b"main moved"})  # main moves; b.txt the same
    assert write_client.post(f"{API}/1/merge").status_code == 200
    main = {p: download(anon_client, p) for p in ("a.txt", "b.txt", "c.txt")}
    assert main == {"a.txt": b"pr side", "b.txt": b"new", "c.txt": b"main moved"}
    commit(write_client, {"a.txt": b"pr two"}, query="?create_pr=1")  # PR #2
    commit(write_client, {"a.txt": b"main two"})
    assert details(anon_client, 2)["filesWithConflicts"] == ["a.txt"]
    conflict = write_client.post(f"{API}/2/merge")
    assert conflict.status_code == 409 and conflict.json()["detail"] == {"conflictingFiles": ["a.txt"]}
    assert download(anon_client, "a.txt") == b"main two"
    assert details(anon_client, 2)["status"] == "open"


async def test_api_comment_appears_live_and_room_reply_appears_in_api(repo, other_client, tokens):
    from asgiref.sync import sync_to_async

    await sync_to_async(open_thread)(other_client, "Live one")
    comm = socket(repo, tokens["carol"])
    connected, _ = await comm.connect()
    assert connected
    await receive_type(comm, "hello")
    await sync_to_async(other_client.post)(f"{API}/1/comment", {"comment": "from the API"}, format="json")
    frame = await receive_type(comm, "message")
    assert frame["body"] == "from the API" and frame["thread"] == {"num": 1, "title": "Live one", "pull_request": False}
    await comm.send_to(text_data=json.dumps({"type": "message", "body": "typed in the room", "thread": 1}))
    echoed = await receive_type(comm, "message")
    assert echoed["thread"]["num"] == 1
    await comm.disconnect()
    events = (await sync_to_async(details)(other_client, 1))["events"]
    assert [(e["type"], e["data"]["latest"]["raw"], e["author"]["name"]) for e in events[-2:]] == [
        ("comment", "from the API", "bob"),
        ("comment", "typed in the room", "carol"),
    ]
    assert await sync_to_async(Message.objects.filter(thread__num=1).count)() == 3
    assert await sync_to_async(Thread.objects.count)() == 1
