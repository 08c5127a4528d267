"""Every route the hub serves, against one declared access matrix, on a live hub.

The routes come from the hub itself: Django's resolver and the raw-bytes
app's table. A route with no row here fails the test, so a new route cannot
ship without an access rule. Each row says which actors get past the access
check; "refused" is what a user sees: 401, 403, 404, or a redirect to the
login page. A 5xx fails the test whoever asks.

The raw-bytes routes are checked through the live server's raw-bytes app, the
rest through Django.

Actors: nobody signed in; ben, another user (write token on the API, his
session on pages); ann's read token; ann, the owner (write token on the API,
her session on pages). Every request carries only its actor's credentials.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import httpx
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from models_app.bytes_routes import BYTES_ROUTES

pytestmark = [pytest.mark.live, pytest.mark.slow]

ANON, OTHER, OWNER_READ, OWNER = "anonymous", "ben", "ann's read token", "ann"
ACTORS = (ANON, OTHER, OWNER_READ, OWNER)
EVERYONE = frozenset(ACTORS)
SIGNED_IN = frozenset({OTHER, OWNER_READ, OWNER})
WRITERS = frozenset({OTHER, OWNER})  # any account with write credentials (its own namespace)
OWNER_ANY = frozenset({OWNER_READ, OWNER})  # the owner reading her own
OWNER_ONLY = frozenset({OWNER})
SESSIONS = frozenset({OTHER, OWNER})  # pages know sessions; a token on a page counts for nothing
NOBODY = frozenset()

REPO = "/ann/tiny"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
API = "/api/models/ann/tiny"
ZEROS = "0" * 64
CONFIG_OID = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # sha256 of config.json, b"{}"


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # may hold {sha}, {task}, {token_id}, {doomed}, {oid}, {find_id}
    allowed: frozenset
    body: Callable[[str], dict] | None = None  # actor -> JSON body
    page: bool = False  # a web page: session and CSRF, not tokens
    raw: bytes | None = None
    headers: dict = field(default_factory=dict)


def _lfs(_actor):
    return {"operation": "upload", "transfers": ["basic"], "objects": [{"oid": ZEROS, "size": 1}]}


# route (Django URL name, or the bytes app's route name) -> the calls that prove its rule.
MATRIX: dict[str, list[Call]] = {
    "healthz": [Call("GET", "/healthz", EVERYONE)],
    "readyz": [Call("GET", "/readyz", EVERYONE)],
    "livez": [Call("GET", "/livez", EVERYONE)],
    # Scraped with HUB_METRICS_TOKEN only; without it (as here) the endpoint answers 404 to everyone.
    "metrics": [Call("GET", "/metrics", NOBODY)],
    "signup": [Call("GET", "/accounts/signup/", EVERYONE, page=True)],
    "login": [Call("GET", "/accounts/login/", EVERYONE, page=True)],
    "logout": [Call("POST", "/accounts/logout/", EVERYONE, page=True)],
    "tokens": [Call("GET", "/settings/tokens/", SESSIONS, page=True)],
    "token_revoke": [Call("POST", "/settings/tokens/{token_id}/revoke/", OWNER_ONLY, page=True)],
    "api_whoami": [Call("GET", "/api/whoami-v2", SIGNED_IN)],
    "api_schema": [Call("GET", "/api/schema/", EVERYONE)],
    "api_docs": [Call("GET", "/api/docs/", EVERYONE, page=True)],
    "room_messages": [Call("GET", f"{API}/messages", EVERYONE), Call("GET", f"{API}/messages?q=hi", EVERYONE)],
    "room_message_preview": [Call("POST", f"{API}/messages/preview", WRITERS, body=lambda _: {"body": "hi :tada:"})],
    "mentions_unread": [Call("GET", "/api/mentions/unread", SIGNED_IN)],
    "room_page": [Call("GET", f"{REPO}/discussion", EVERYONE, page=True)],
    "leaderboards": [Call("GET", "/leaderboards", EVERYONE, page=True)],
    "leaderboard": [Call("GET", "/leaderboards/{task}", EVERYONE, page=True)],
    "api_leaderboards": [Call("GET", "/api/leaderboards", EVERYONE)],
    # The finder: ann's public dataset ann/tiny holds no labelled data, so a search on it is refused
    # with 400 (past the access check); her search on it is readable by all, confirmable by her only.
    "find": [Call("GET", "/find", EVERYONE, page=True)],
    "find_upload": [Call("POST", "/find/upload", SESSIONS, page=True)],
    "find_start": [Call("POST", "/datasets/ann/tiny/find", SESSIONS, page=True)],
    "find_page": [Call("GET", "/finds/{find_id}", EVERYONE, page=True)],
    "find_confirm": [Call("POST", "/finds/{find_id}/confirm", frozenset({OWNER}), page=True)],
    "api_dataset_find": [Call("POST", "/api/datasets/ann/tiny/find", WRITERS)],
    "api_find": [Call("GET", "/api/finds/{find_id}", EVERYONE)],
    "api_find_confirm": [Call("POST", "/api/finds/{find_id}/confirm", OWNER_ONLY, body=lambda a: {"k": 2})],
    "api_leaderboard": [Call("GET", "/api/leaderboards/{task}", EVERYONE)],
    "api_validation": [Call("GET", f"{API}/validation", EVERYONE)],
    "validation": [Call("GET", f"{REPO}/validation", EVERYONE, page=True)],
    "validation_rerun": [Call("POST", f"{REPO}/validation/rerun", OWNER_ONLY, page=True)],
    "xet_write_token": [Call("GET", f"{API}/xet-write-token/main", OWNER_ONLY)],
    "xet_read_token": [Call("GET", f"{API}/xet-read-token/main", SIGNED_IN)],
    # CAS routes take the short-lived Xet token from xet-*-token, never a hub token or a session.
    "xet_xorb_upload": [Call("POST", f"/xet/v1/xorbs/default/{ZEROS}", NOBODY, raw=b"x")],
    "xet_shard_upload": [Call("POST", "/xet/v1/shards", NOBODY, raw=b"x")],
    "xet_chunk_query": [Call("GET", f"/xet/v1/chunks/default-merkledb/{ZEROS}", NOBODY)],
    "xet_not_offered": [Call("GET", "/xet/v1/reconstructions/" + ZEROS, NOBODY)],
    "hf_repos_create": [Call("POST", "/api/repos/create", WRITERS, body=lambda a: {"name": f"new-{_slug(a)}"})],
    "hf_repos_delete": [
        Call("DELETE", "/api/repos/delete", OWNER_ONLY, body=lambda a: {"name": "{doomed}", "organization": "ann"})
    ],
    # Open to all: huggingface_hub's RepoCard.validate sends no token.
    "hf_validate_yaml": [
        Call("POST", "/api/validate-yaml", EVERYONE, body=lambda a: {"content": "---\nlicense: mit\n---\n# x\n"})
    ],
    # ann/tiny -> ann/taken (which exists): the owner gets past the access check to a 409.
    "hf_repos_move": [
        Call("POST", "/api/repos/move", OWNER_ONLY, body=lambda a: {"fromRepo": "ann/tiny", "toRepo": "ann/taken"})
    ],
    "hf_duplicate": [
        Call("POST", f"{API}/duplicate", WRITERS, body=lambda a: {"repository": f"{_namespace(a)}/dup-{_slug(a)}"})
    ],
    "hf_super_squash": [Call("POST", f"{API}/super-squash/squash-me", OWNER_ONLY, body=lambda a: {})],
    "hf_preupload": [Call("POST", f"{API}/preupload/main", OWNER_ONLY, body=lambda a: {"files": []})],
    "hf_commit": [
        Call(
            "POST",
            f"{API}/commit/main",
            OWNER_ONLY,
            raw=b'{"key": "header", "value": {"summary": "x"}}\n',
            headers={"Content-Type": "application/x-ndjson"},
        )
    ],
    # LFS uploads naming no branch are how create_commit(create_pr=True) sends a pull request's files:
    # anyone who may propose a change uploads (the commit is checked on its own); naming main, writers.
    "hf_lfs_batch": [
        Call("POST", f"{REPO}.git/info/lfs/objects/batch", WRITERS, body=_lfs),
        Call(
            "POST",
            f"{REPO}.git/info/lfs/objects/batch",
            OWNER_ONLY,
            body=lambda a: {**_lfs(a), "ref": {"name": "main"}},
        ),
    ],
    "hf_lfs_verify": [
        Call("POST", f"{REPO}.git/info/lfs/objects/verify", WRITERS, body=lambda a: {"oid": CONFIG_OID, "size": 2})
    ],
    # The PUT takes the signed link from the batch answer, not a hub credential.
    "hf_lfs_upload": [Call("PUT", f"{REPO}.git/info/lfs/objects/{ZEROS}", NOBODY, raw=b"x")],
    # S3 mode's multipart completion: the signed link again (here none, so nobody gets through).
    "hf_lfs_complete": [Call("POST", f"{REPO}.git/info/lfs/objects/complete/{ZEROS}", NOBODY, body=lambda a: {})],
    "api_models_create": [Call("POST", "/api/models", WRITERS, body=lambda a: {"name": f"api-{_slug(a)}"})],
    "api_model_list": [Call("GET", "/api/models", EVERYONE)],
    "api_upload": [Call("POST", f"{API}/upload", OWNER_ONLY, raw=b"", headers={"Content-Type": "text/plain"})],
    "api_upload_file": [Call("PUT", f"{API}/upload/new.txt", OWNER_ONLY, raw=b"new")],
    "api_repo_settings": [Call("PATCH", f"{API}/settings", OWNER_ONLY, body=lambda a: {"tags": ["x"]})],
    "api_revision_tag": [Call("POST", f"{API}/tag/main", OWNER_ONLY, body=lambda a: {"tag": f"t-{_slug(a)}"})],
    "model_new": [Call("GET", "/new", SESSIONS, page=True)],
    "model_upload": [
        Call("GET", f"{REPO}/upload", OWNER_ONLY, page=True),
        Call("POST", f"{REPO}/upload", OWNER_ONLY, page=True, raw=b"", headers={"Content-Type": "text/plain"}),
    ],
    "model_commit": [Call("GET", f"{REPO}/commit/{{sha}}", EVERYONE, page=True)],
    "model_commits": [Call("GET", f"{REPO}/commits", EVERYONE, page=True)],
    "model_commits_rev": [Call("GET", f"{REPO}/commits/main", EVERYONE, page=True)],
    "model_settings": [Call("GET", f"{REPO}/settings", OWNER_ONLY, page=True)],
    "home": [Call("GET", "/", EVERYONE, page=True)],
    "model_list": [Call("GET", "/models", EVERYONE, page=True)],
    "api_model_detail": [Call("GET", API, EVERYONE)],
    "api_revision": [Call("GET", f"{API}/revision/main", EVERYONE)],
    "api_tree": [Call("GET", f"{API}/tree/main", EVERYONE)],
    "api_refs": [Call("GET", f"{API}/refs", EVERYONE)],
    "api_commits": [Call("GET", f"{API}/commits/main", EVERYONE)],
    "api_like": [Call("POST", f"{API}/like", WRITERS)],
    "api_likers": [Call("GET", f"{API}/likers", EVERYONE)],
    "api_user_likes": [Call("GET", "/api/users/ann/likes", EVERYONE)],
    "api_paths_info": [Call("POST", f"{API}/paths-info/main", EVERYONE, body=lambda a: {"paths": ["config.json"]})],
    "api_auth_check": [Call("GET", f"{API}/auth-check", EVERYONE)],
    "api_auth_check_write": [Call("GET", f"{API}/auth-check/write", OWNER_ANY)],
    "api_branch": [Call("POST", f"{API}/branch/b-{{spare}}", OWNER_ONLY, body=lambda a: {})],
    # Access requests: ann/tiny is not gated, so asking is a 400 past the check; ben's pending
    # request (made by the world fixture) is answered by ann only.
    "api_access_ask": [Call("POST", f"{API}/ask-access", WRITERS, body=lambda a: {})],
    "api_access_list": [Call("GET", f"{API}/user-access-request/pending", OWNER_ANY)],
    "api_access_handle": [
        Call(
            "POST",
            f"{API}/user-access-request/handle",
            OWNER_ONLY,
            body=lambda a: {"user": "ben", "status": "rejected"},
        )
    ],
    "api_access_grant": [Call("POST", f"{API}/user-access-request/grant", OWNER_ONLY, body=lambda a: {"user": "ann"})],
    # What no route takes: a JSON 404 for everyone (a one-segment repo id names no repo here).
    "api_repo_not_found": [Call("GET", "/api/models/tiny", NOBODY)],
    "resolve_repo_not_found": [Call("GET", "/tiny/resolve/main/config.json", NOBODY)],
    "api_not_found": [Call("GET", "/api/no-such-endpoint", NOBODY)],
    "user_page": [Call("GET", "/ann", EVERYONE, page=True)],
    "model_page": [Call("GET", REPO, EVERYONE, page=True)],
    "tree_page": [Call("GET", f"{REPO}/tree/main", EVERYONE, page=True)],
    "tree_page_path": [Call("GET", f"{REPO}/tree/main/sub", EVERYONE, page=True)],
    "like_toggle": [Call("POST", f"{REPO}/like", SESSIONS, page=True)],
    "resolve": [Call("GET", f"{REPO}/resolve/main/config.json", EVERYONE)],
    "dataset_list": [Call("GET", "/datasets", EVERYONE, page=True)],
    "api_dataset_list": [Call("GET", "/api/datasets", EVERYONE)],
    "api_datasets_create": [Call("POST", "/api/datasets", WRITERS, body=lambda a: {"name": f"api-{_slug(a)}"})],
    # Organizations: ann is the admin of ann-lab; its members are public, only its admin changes them.
    "api_organizations": [Call("POST", "/api/organizations", WRITERS, body=lambda a: {"name": f"lab-{_slug(a)}"})],
    "api_organization": [Call("GET", "/api/organizations/ann-lab", EVERYONE)],
    "api_organization_members": [
        Call("GET", "/api/organizations/ann-lab/members", EVERYONE),
        Call("POST", "/api/organizations/ann-lab/members", OWNER_ONLY, body=lambda a: {"user": "ben", "role": "read"}),
    ],
    "org_new": [Call("GET", "/organizations/new", SESSIONS, page=True)],
    "api_org_writes": [Call("GET", "/api/organizations/ann-lab/writes", OWNER_ANY)],
    "storage": [Call("GET", "/settings/storage/", SESSIONS, page=True)],
    # Reports: anyone signed in with write credentials (a read token writes nothing).
    "api_report": [Call("POST", f"{API}/reports", WRITERS, body=lambda a: {"kind": "model", "reason": "test"})],
    "api_dataset_report": [
        Call("POST", "/api/datasets/ann/tiny/reports", WRITERS, body=lambda a: {"kind": "model", "reason": "test"})
    ],
    "report_page": [Call("GET", f"{REPO}/report", SESSIONS, page=True)],
    # Discussions and pull requests (HF API): ann opened #1 (a discussion, her comments {comment} and
    # {hidden}) and #2; anyone who can write comments and opens threads, only the author or a writer
    # renames and closes, only a comment's author edits it, only writers merge (#1 is no PR: 400).
    "hf_discussions": [
        Call("GET", f"{API}/discussions", EVERYONE),
        Call("POST", f"{API}/discussions", WRITERS, body=lambda a: {"title": f"by {a}"}),
    ],
    "hf_discussion": [Call("GET", f"{API}/discussions/1", EVERYONE)],
    "hf_discussion_comment": [Call("POST", f"{API}/discussions/1/comment", WRITERS, body=lambda a: {"comment": "hi"})],
    "hf_discussion_comment_edit": [
        Call("POST", f"{API}/discussions/1/comment/{{comment}}/edit", OWNER_ONLY, body=lambda a: {"content": "x"})
    ],
    "hf_discussion_comment_hide": [Call("POST", f"{API}/discussions/1/comment/{{hidden}}/hide", OWNER_ONLY)],
    "hf_discussion_title": [Call("POST", f"{API}/discussions/1/title", OWNER_ONLY, body=lambda a: {"title": a})],
    "hf_discussion_status": [
        Call("POST", f"{API}/discussions/2/status", OWNER_ONLY, body=lambda a: {"status": "closed"})
    ],
    "hf_discussion_merge": [Call("POST", f"{API}/discussions/1/merge", OWNER_ONLY)],
    # Community pages: everyone who sees the repo reads; a page's forms need a session (#1 a discussion, #3 a draft PR).
    "threads_page": [
        Call("GET", f"{REPO}/discussions", EVERYONE, page=True),
        Call("POST", f"{REPO}/discussions", SESSIONS, page=True, raw=b"title=Matrix&description=hi", headers=FORM),
    ],
    "thread_page": [
        Call("GET", f"{REPO}/discussions/1", EVERYONE, page=True),
        Call("POST", f"{REPO}/discussions/1", SESSIONS, page=True, raw=b"action=comment&comment=hi", headers=FORM),
    ],
    "thread_validation_fragment": [Call("GET", f"{REPO}/discussions/3/validation", EVERYONE, page=True)],
    # Django's admin, one row for all its routes: staff only, and none of these actors is staff.
    "admin": [Call("GET", "/admin/", NOBODY, page=True), Call("GET", "/admin/hub/auditentry/", NOBODY, page=True)],
    "org_members": [
        Call("GET", "/organizations/ann-lab/members", EVERYONE, page=True),
        Call(
            "POST",
            "/organizations/ann-lab/members",
            OWNER_ONLY,
            page=True,
            raw=b"action=set&user=ben&role=read",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ],
}
# A dataset's routes are its model twin's under the HF prefixes, with the same rule: ann's public
# dataset ann/tiny, beside her model of that name, holds the same files.
DATASET_TWINS = (
    *("api_model_detail", "api_revision", "api_tree", "api_refs", "api_commits", "api_like", "api_repo_settings"),
    *("api_revision_tag", "api_upload", "api_upload_file", "hf_preupload", "hf_commit", "hf_lfs_batch"),
    *(
        "hf_lfs_verify",
        "hf_lfs_upload",
        "hf_lfs_complete",
        "xet_write_token",
        "xet_read_token",
        "resolve",
        "model_page",
        "tree_page",
    ),
    *("tree_page_path", "like_toggle", "model_upload", "model_commit", "model_commits", "model_commits_rev"),
    "model_settings",
    "hf_duplicate",
    "hf_super_squash",
    "api_likers",
    "api_paths_info",
    "api_auth_check",
    *("api_auth_check_write", "api_branch", "api_access_ask", "api_access_list", "api_access_handle"),
    "api_access_grant",
    *("hf_discussions", "hf_discussion", "hf_discussion_comment", "hf_discussion_comment_edit"),
    *("hf_discussion_comment_hide", "hf_discussion_title", "hf_discussion_status", "hf_discussion_merge"),
)


def _dataset_prefix(found: re.Match) -> str:
    return "/api/datasets/ann/tiny" if found[1] else "/datasets/ann/tiny"


MATRIX.update(
    {
        f"dataset_{name}": [
            replace(call, path=re.sub(r"^(/api/models)?/ann/tiny", _dataset_prefix, call.path)) for call in MATRIX[name]
        ]
        for name in DATASET_TWINS
    }
)


def _namespace(actor: str) -> str:
    return "ben" if actor == OTHER else "ann"


def _slug(actor: str) -> str:
    return re.sub(r"[^a-z]+", "-", actor).strip("-")


def _django_route_names() -> set[str]:
    """Every Django route, by name; an unnamed one by its pattern (so it needs a name to get a row)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver) and pattern.namespace == "admin":
                yield "admin"  # Django's admin checks is_staff on every one of its views
            elif isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield pattern.name or prefix + str(pattern.pattern)

    return set(walk(get_resolver().url_patterns))


def test_every_route_has_a_row():
    served = _django_route_names() | {route.name for route in BYTES_ROUTES}
    assert sorted(served - set(MATRIX)) == [], "routes without an access rule"
    assert sorted(set(MATRIX) - served) == [], "rules for routes the hub does not serve"


# -- the live hub and its actors ---------------------------------------------------------------


@pytest.fixture(scope="module")
def world(live_hub):
    hub = live_hub
    tokens = {
        OWNER: hub.create_token("ann", "write"),
        OWNER_READ: hub.create_token("ann", "read"),
        OTHER: hub.create_token("ben", "write"),
    }
    facts = json.loads(
        hub.manage(
            "shell",
            "-c",
            "import json\n"
            "from hub.models import User, ApiToken\n"
            "from models_app.models import ModelRepo, Blob\n"
            "from models_app.repos.revisions import revision_create\n"
            "from models_app.publish.uploads import Ingest\n"
            "from models_app.validation.report import boards\n"
            "ann, ben = User.objects.get(username='ann'), User.objects.get(username='ben')\n"
            "for user in (ann, ben): user.set_password('correct-horse-battery'); user.save()\n"
            "repo, _ = ModelRepo.objects.get_or_create(owner=ann, name='tiny')\n"
            "ingest = Ingest(repo)\n"
            "ingest.add('config.json', [b'{}'])\n"
            "ingest.add('sub/a.txt', [b'a'])\n"
            "rev = revision_create(repo, author=ann, message='x', add=ingest.files).revision\n"
            "data, _ = ModelRepo.objects.get_or_create(owner=ann, name='tiny', repo_type='dataset')\n"
            "ingest = Ingest(data)\n"
            "ingest.add('config.json', [b'{}'])\n"
            "ingest.add('sub/a.txt', [b'a'])\n"
            "data_rev = revision_create(data, author=ann, message='x', add=ingest.files).revision\n"
            "from models_app.finder.models import Find\n"
            "find = Find.objects.create(dataset=data, revision=data_rev, requested_by=ann, modality='text',"
            " dataset_sha256='0' * 64)\n"
            "for n in range(4): ModelRepo.objects.get_or_create(owner=ann, name=f'doomed-{n}')\n"
            "from hub.orgs import find_org, org_create\n"
            "if find_org('ann-lab') is None: org_create(ann, 'ann-lab')\n"
            "ModelRepo.objects.get_or_create(owner=ann, name='taken')\n"
            "from models_app.models import AccessRequest, Ref\n"
            "for r, head in ((repo, rev), (data, data_rev)):\n"
            "    AccessRequest.objects.get_or_create(repo=r, user=ben)\n"
            "    Ref.objects.get_or_create(repo=r, name='squash-me', kind='branch', defaults={'revision': head})\n"
            "from discussions.threads import thread_comment, thread_open\n"
            "from discussions.threads_api import event_id\n"
            "threads = {}\n"
            "for key, r in (('model', repo), ('dataset', data)):\n"
            "    first = thread_open(r, ann, 'First', 'Hello')\n"
            "    thread_open(r, ann, 'Second', 'Hi')\n"
            "    threads[key] = [event_id(thread_comment(first, ann, t)) for t in ('edit me', 'hide me')]\n"
            "thread_open(repo, ann, 'Matrix', 'hi', pull_request=True)\n"
            "ids = [ApiToken.objects.create(user=ann, name=f'spare-{n}', prefix='x', hashed_secret=f'{n}' * 64).pk"
            " for n in range(4)]\n"
            "print(json.dumps({'sha': rev.sha, 'task': next(iter(boards())), 'token_ids': ids, 'find': find.pk,"
            " 'threads': threads}))\n",
        )
        .strip()
        .splitlines()[-1]
    )
    return hub, tokens, facts


def _login(client: httpx.Client, username: str) -> None:
    client.get("/accounts/login/")
    answer = client.post(
        "/accounts/login/",
        data={"username": username, "password": "correct-horse-battery"},
        headers={"X-CSRFToken": client.cookies.get("csrftoken", "")},
    )
    assert answer.status_code == 302, answer.text[:300]


def _refused(response: httpx.Response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("location", "")
    return response.is_redirect and ("/accounts/login" in location or "/admin/login" in location)


CALLS = [(name, n, actor) for name, calls in MATRIX.items() for n, _ in enumerate(calls) for actor in ACTORS]
_spares = itertools.count()


@pytest.mark.parametrize(("route", "n", "actor"), CALLS, ids=[f"{r}-{n}-{a}" for r, n, a in CALLS])
def test_route_access(world, route, n, actor):
    hub, tokens, facts = world
    call = MATRIX[route][n]
    spare = next(_spares) % 4
    values = {
        "sha": facts["sha"],
        "task": facts["task"],
        "token_id": facts["token_ids"][spare],
        "find_id": facts["find"],
        "doomed": f"doomed-{spare}",
        "spare": next(_spares),
    }
    comment, hidden = facts["threads"]["dataset" if call.path.startswith("/api/datasets/") else "model"]
    values.update(comment=comment, hidden=hidden)
    path = call.path.format(**values)
    headers = dict(call.headers)
    with httpx.Client(base_url=hub.url, timeout=60, follow_redirects=False) as client:
        if call.page:
            if actor in (OTHER, OWNER):
                _login(client, "ben" if actor == OTHER else "ann")
            elif actor == OWNER_READ:
                headers["Authorization"] = f"Bearer {tokens[OWNER_READ]}"
            client.get("/accounts/login/")  # a CSRF cookie, as a browser has from any page
            headers["X-CSRFToken"] = client.cookies.get("csrftoken", "")
        elif actor != ANON:
            headers["Authorization"] = f"Bearer {tokens[actor]}"
        if call.body is not None:
            body = json.loads(json.dumps(call.body(actor)).replace("{doomed}", values["doomed"]))
            response = client.request(call.method, path, json=body, headers=headers)
        else:
            response = client.request(call.method, path, content=call.raw, headers=headers)
    assert response.status_code < 500, f"{call.method} {path} as {actor}: {response.status_code} {response.text[:300]}"
    allowed = not _refused(response)
    assert allowed is (actor in call.allowed), (
        f"{call.method} {path} as {actor}: {response.status_code} {response.text[:200]}"
    )
