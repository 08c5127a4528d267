"""Website pages: home, the model list with facets, the model page, files tab and likes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from models_app.validation.models import ValidationRun, ValidationSummary
from tests.models_app.reuse_helpers import publish


@pytest.fixture
def alice_browser(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def validated(repo, revision, verdict="passed", score=0.9):
    run = ValidationRun.objects.create(revision=revision, status=verdict, suite="text")
    ValidationSummary.objects.create(repo=repo, run=run, verdict=verdict, score=score, suite="text")


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_home_shows_the_sections(client, owner):
    repo, revision = publish(owner, "tiny", {"config.json": b"{}"}, downloads=3)
    validated(repo, revision)
    page = client.get("/").content.decode()
    for heading in ("Most downloaded", "Trending this week", "Recently validated", "Newest"):
        assert heading in page
    assert "alice/tiny" in page


@pytest.mark.parametrize("url", ["/", "/models", "/models?sort=score", "/alice"])
def test_lists_do_not_grow_queries_with_rows(client, owner, url):
    repo, revision = publish(owner, "m0", {"config.json": b"{}"}, tags=["a"])
    validated(repo, revision)
    few = queries(client, url)
    for i in range(1, 8):
        repo, revision = publish(owner, f"m{i}", {"config.json": b"{}"}, tags=[f"t{i}"], languages=["en"])
        validated(repo, revision, score=i / 10)
    assert queries(client, url) == few


def test_model_list_search_facets_and_score_sort(client, owner):
    a, ra = publish(owner, "alpha", {"config.json": b"{}"}, pipeline_tag="text-classification", license="mit")
    b, rb = publish(owner, "beta", {"config.json": b"{}"}, pipeline_tag="fill-mask", license="mit")
    validated(a, ra, score=0.7)
    validated(b, rb, verdict="failed", score=0.9)
    page = client.get("/models?search=alp").content.decode()
    assert "alice/alpha" in page and "alice/beta" not in page
    assert "text-classification" in client.get("/models").content.decode()  # offered as a facet
    page = client.get("/models?verdict=passed").content.decode()
    assert "alice/alpha" in page and "alice/beta" not in page
    page = client.get("/models?sort=score").content.decode()
    assert page.index("alice/beta") < page.index("alice/alpha")
    assert client.get("/models?sort=nonsense").status_code == 400


def test_model_list_pages(client, owner):
    for i in range(3):
        publish(owner, f"m{i}", {"config.json": b"{}"}, downloads=i)
    page = client.get("/models?limit=2").content.decode()
    assert "alice/m2" in page and "alice/m0" not in page and 'rel="next"' in page
    next_href = page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "alice/m0" in client.get(next_href).content.decode()


def test_model_page_renders_the_readme_and_counts(client, owner):
    publish(owner, "tiny", {"README.md": b"---\nlicense: mit\n---\n# Tiny <b>model</b>\n", "config.json": b"{}"})
    client.get("/alice/tiny/resolve/main/config.json")
    page = client.get("/alice/tiny").content.decode()
    assert "Tiny" in page and "<b>model</b>" not in page  # escaped or sanitized, never raw HTML
    assert 'id="downloads-30d">1<' in page and 'id="downloads-all">1<' in page


def test_private_model_page_is_404_to_others(client, owner):
    publish(owner, "secret", {"config.json": b"{}"}, private=True)
    assert client.get("/alice/secret").status_code == 404


def test_files_tab_lists_sizes_hashes_and_download_links(client, owner):
    _, revision = publish(owner, "tiny", {"config.json": b"{}", "sub/w.bin": b"x" * 2048}, tag="v1")
    page = client.get("/alice/tiny/tree/v1").content.decode()
    assert "config.json" in page and f"/alice/tiny/resolve/{revision.sha}/config.json" in page
    assert "/alice/tiny/tree/v1/sub" in page
    sub = client.get("/alice/tiny/tree/v1/sub").content.decode()
    assert "2.0 KiB" in sub and "sub/w.bin" in sub
    assert client.get("/alice/tiny/tree/v9").status_code == 404


def test_like_toggle(alice_browser, owner):
    publish(owner, "tiny", {"config.json": b"{}"})
    assert alice_browser.post("/alice/tiny/like").status_code == 302
    assert "data-like-count>1<" in alice_browser.get("/alice/tiny").content.decode()
    alice_browser.post("/alice/tiny/like")
    assert "data-like-count>0<" in alice_browser.get("/alice/tiny").content.decode()


def test_user_page_lists_liked_models(client, owner, other_user):
    from models_app.engagement.likes import like_set

    repo, _ = publish(other_user, "liked-one", {"config.json": b"{}"})
    like_set(owner, repo, True)
    page = client.get("/alice").content.decode()
    assert "bob/liked-one" in page.split('id="liked"')[1]


@pytest.mark.parametrize("url", ["/alice/tiny", "/alice/tiny/tree/main", "/alice/tiny/tree/main/sub"])
def test_model_pages_do_not_grow_queries_with_files(client, owner, url):
    publish(owner, "tiny", {"README.md": b"# tiny\n", "sub/a.txt": b"a"})
    few = queries(client, url)
    publish(owner, "tiny", {f"sub/f{i}.txt": bytes([i]) for i in range(20)} | {f"top{i}.bin": b"x" for i in range(5)})
    assert queries(client, url) == few
