"""The Community pages: the list of discussions and pull requests, a thread's page and its buttons."""

from __future__ import annotations

import copy

import pytest
from django.test import Client

from discussions.models import Thread
from models_app.models import Ref
from models_app.repos.rules import repo_create
from tests.discussions.test_threads import commit, download
from tests.validation.jobs_fixtures import SAMPLE_METRICS, finished_run

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/alice/tiny/discussions"


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def repo(owner, write_client, no_auto_queue):
    repo = repo_create(owner, "tiny")
    assert commit(write_client, {"config.json": b"{}", "README.md": b"# tiny\n"}).status_code == 200
    return repo


@pytest.fixture
def pr(repo, other_client):
    """bob's PR #1 changing the card, main validated."""
    finished_run(Ref.objects.get(repo=repo, kind=Ref.Kind.BRANCH, name="main").revision)
    opened = commit(other_client, {"README.md": b"# tiny, better\n"}, query="?create_pr=1", summary="Better card")
    assert opened.status_code == 200
    return Ref.objects.get(repo=repo, kind=Ref.Kind.PR, name="1").revision


def text(answer) -> str:
    return answer.content.decode()


def test_list_filters_and_the_community_tab(repo, pr, owner, other_user):
    alice = browser(owner)
    opened = alice.post(PAGE, {"title": "How was it trained?", "description": "Which **data**?"})
    assert opened.status_code == 302 and opened["Location"] == f"{PAGE}/2"
    page = text(browser().get(PAGE))
    assert "How was it trained?" in page and "Better card" in page and "pull request" in page
    assert 'id="community-tab"' in page and 'Community <span class="pill tab-count">2' in page
    assert "Log in</a> to open a discussion" in page
    only_prs = text(browser().get(PAGE + "?status=open&type=pull_request"))
    assert "Better card" in only_prs and "How was it trained?" not in only_prs
    Thread.objects.filter(num=2).update(status="closed")
    assert "How was it trained?" not in text(browser().get(PAGE))  # open is the default
    assert "How was it trained?" in text(browser().get(PAGE + "?status=closed"))
    assert "Better card" in text(browser().get(PAGE + "?status=all&type=nonsense"))
    # the model page links here with the open count
    assert 'Community <span class="pill tab-count">1' in text(browser().get("/alice/tiny"))


def test_bad_new_discussion_is_a_readable_error(repo, owner):
    answer = browser(owner).post(PAGE, {"title": "  ", "description": "x"})
    assert answer.status_code == 400 and "non-empty title" in text(answer)
    assert browser().post(PAGE, {"title": "t"}).status_code in (302, 403)


def test_pr_page_shows_changes_validation_and_merges(repo, pr, owner, other_user, anon_client):
    page = text(browser().get(f"{PAGE}/1"))
    assert "Better card" in page and 'data-status="open"' in page
    assert 'data-path="README.md"' in page and "# tiny, better" in page  # the file change and its diff
    assert 'data-state="pending"' in page  # the head is not validated yet
    assert "merge-button" not in page and "Log in</a> to comment" in page
    assert "merge-button" not in text(browser(other_user).get(f"{PAGE}/1"))  # bob may close, not merge
    finished_run(pr)
    fragment = browser().get(f"{PAGE}/1/validation")
    assert fragment.status_code == 200 and 'data-state="passed"' in text(fragment)
    page = text(browser(owner).get(f"{PAGE}/1"))
    assert "merge-button" in page and "Merge pull request" in page
    assert "no regression" in page  # the verdict, in the thread's events
    merged = browser(owner).post(f"{PAGE}/1", {"action": "merge"}, follow=True)
    assert merged.status_code == 200 and "Pull request #1 merged into main." in text(merged)
    assert 'data-status="merged"' in text(merged)
    assert download(anon_client, "README.md") == b"# tiny, better\n"


def test_a_flagged_pr_needs_merge_anyway(repo, pr, owner, anon_client, settings):
    settings.HUB_PR_MAX_MEAN_DROP = 0.01
    worse = copy.deepcopy(SAMPLE_METRICS)
    worse["suite"]["finetuned"] -= 0.2
    finished_run(pr, metrics=worse)
    alice = browser(owner)
    page = text(alice.get(f"{PAGE}/1"))
    assert "Validation flagged this pull request" in page and 'name="merge_anyway"' in page
    refused = alice.post(f"{PAGE}/1", {"action": "merge"})
    assert refused.status_code == 400 and "merge anyway" in text(refused)
    assert download(anon_client, "README.md") == b"# tiny\n"
    merged = alice.post(f"{PAGE}/1", {"action": "merge", "merge_anyway": "1"})
    assert merged.status_code == 302
    assert download(anon_client, "README.md") == b"# tiny, better\n"


def test_conflict_and_permission_errors_show_on_the_page(repo, pr, owner, other_user, carol, write_client):
    commit(write_client, {"README.md": b"# tiny, main's own\n"})  # main changes the same file
    page = text(browser(owner).get(f"{PAGE}/1"))
    assert 'id="merge-conflicts"' in page and "README.md" in page
    conflict = browser(owner).post(f"{PAGE}/1", {"action": "merge"})
    assert conflict.status_code == 409 and "conflicts with the target branch" in text(conflict)
    refused = browser(carol).post(f"{PAGE}/1", {"action": "close"})
    assert refused.status_code == 403 and "Only the author" in text(refused)
    assert browser(other_user).post(f"{PAGE}/1", {"action": "merge"}).status_code == 403
    assert browser(owner).post(f"{PAGE}/1", {"action": "explode"}).status_code == 400


def test_author_closes_reopens_and_comments(repo, pr, other_user):
    bob = browser(other_user)
    closed = bob.post(f"{PAGE}/1", {"action": "close"}, follow=True)
    assert "#1 is closed." in text(closed) and 'data-status="closed"' in text(closed)
    reopened = bob.post(f"{PAGE}/1", {"action": "reopen"}, follow=True)
    assert 'data-status="open"' in text(reopened)
    bob.post(f"{PAGE}/1", {"action": "comment", "comment": "Ready for **review**"})
    page = text(browser().get(f"{PAGE}/1"))
    events = [e.split('"')[0] for e in page.split('data-event="')[1:]]
    assert events == ["comment", "commit", "status-change", "status-change", "comment"]
    assert "<strong>review</strong>" in page


def test_private_repo_pages_are_not_found_for_others(owner, other_user):
    repo_create(owner, "hidden", private=True)
    for path in ("/alice/hidden/discussions", "/alice/hidden/discussions/1", "/alice/hidden/discussions/1/validation"):
        assert browser(other_user).get(path).status_code == 404
        assert browser().get(path).status_code == 404
    assert browser(owner).get("/alice/hidden/discussions").status_code == 200
    assert browser(owner).get("/alice/hidden/discussions/9").status_code == 404
