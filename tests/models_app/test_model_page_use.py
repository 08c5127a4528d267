"""The model page as a visitor uses it: the chart against the baseline, the snippets, tag links, file
previews, upload links, binary sizes and the hub's own error pages with debug off."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from models_app.models import ModelRepo
from tests.validation.jobs_fixtures import finished_run, publish_bytes


@pytest.fixture
def alice_browser(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def passed_repo(tiny_repo):  # tests/models_app/conftest.py gives each test its own store
    tiny_repo.tags = ["sentiment"]
    tiny_repo.license = "mit"
    tiny_repo.save()
    revision = publish_bytes(
        tiny_repo,
        {"README.md": b"# Tiny\n", "config.json": b'{"model_type": "bert"}\n', "weights.bin": b"\x00\x01" * 700},
    )
    finished_run(revision, log="\x1b[32mok\x1b[0m step 5")
    return tiny_repo


def test_chart_of_each_task_against_scratch_with_the_verdict_in_its_header(passed_repo, anon_client):
    html = anon_client.get("/alice/tiny").content.decode()
    panel = html[html.index('id="transfer"') : html.index("</section>", html.index('id="transfer"'))]
    assert re.search(r'<div class="panel-head"><h2[^>]*>Transfer, measured by the hub</h2><span class="pill', panel)
    assert "passed · 74.0%" in panel
    svg = panel[panel.index("<svg") : panel.index("</svg>")]
    assert svg.count('class="bar-tuned"') == 2 and svg.count('class="bar-scratch"') == 2
    assert "IMDB movie reviews, fine-tuned: 78.0%" in svg and "IMDB movie reviews, from scratch: 55.0%" in svg
    assert "style=" not in svg  # the CSP allows no inline styles


def test_snippets_name_the_hub_and_install_what_they_import(passed_repo, anon_client):
    html = anon_client.get("/alice/tiny").content.decode()
    for key in ("transformers", "huggingface_hub", "hf"):
        code = re.search(rf'<pre id="snippet-{key}"[^>]*><code>(.*?)</code>', html, re.S)[1]
        assert code.startswith("python -m pip install") and "export HF_ENDPOINT=http://testserver\n" in code
        assert f'data-copy="snippet-{key}"' in html
    assert "from_pretrained(&quot;alice/tiny&quot;)" in html and "hf download alice/tiny\n" in html


def test_task_library_license_and_tags_link_to_the_filtered_list(passed_repo, anon_client):
    html = anon_client.get("/alice/tiny").content.decode()
    assert 'href="/models?pipeline_tag=feature-extraction"' in html
    assert 'href="/models?library=transformers"' in html
    assert 'href="/models?license=mit"' in html and 'href="/models?tag=sentiment"' in html


def test_text_files_preview_and_binary_files_say_why_not(passed_repo, anon_client):
    tree = anon_client.get("/alice/tiny/tree/main").content.decode()
    assert 'href="/alice/tiny/tree/main/config.json"' in tree
    assert "1.4 KiB" in tree  # weights.bin, 1400 bytes: binary units, named as such
    config = anon_client.get("/alice/tiny/tree/main/config.json")
    assert config.status_code == 200 and "{&quot;model_type&quot;: &quot;bert&quot;}" in config.content.decode()
    binary = anon_client.get("/alice/tiny/tree/main/weights.bin").content.decode()
    assert "This is a binary file." in binary and "/resolve/" in binary
    assert anon_client.get("/alice/tiny/tree/main/nope.txt").status_code == 404


def test_upload_links_for_writers_only_and_on_an_empty_model(passed_repo, alice_browser, anon_client, owner):
    assert 'id="upload-link" href="/alice/tiny/upload"' in alice_browser.get("/alice/tiny").content.decode()
    assert "upload-link" not in anon_client.get("/alice/tiny").content.decode()
    ModelRepo.objects.create(owner=owner, name="empty")
    empty = alice_browser.get("/alice/empty").content.decode()
    assert "Upload the first files" in empty and 'href="/alice/empty/upload"' in empty


def test_validation_log_shows_no_terminal_escapes(passed_repo, anon_client):
    html = anon_client.get("/alice/tiny/validation").content.decode()
    assert "ok step 5" in html and "\x1b" not in html


def test_errors_show_the_hubs_pages_not_debug_pages(anon_client, db, settings):
    settings.DEBUG = False  # what make run serves now (DJANGO_DEBUG defaults to 0)
    page = anon_client.get("/nobody/nothing/here/at/all")
    assert page.status_code == 404
    html = page.content.decode()
    assert "URLconf" not in html and "Using the URLconf" not in html
    assert '<a class="skip-link" href="#main">' in html


def test_api_docs_load_swagger_ui_from_the_hub_itself(anon_client, db):
    html = anon_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html and "<script>" not in html and "<style" not in html
    script = anon_client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_a_failed_model_carries_its_badge_on_the_home_page_list_and_profile(owner, anon_client):
    broken = ModelRepo.objects.create(owner=owner, name="broken")
    finished_run(publish_bytes(broken, {"config.json": b"{}"}), status="failed", metrics={})
    for url in ("/", "/models", "/alice", "/alice/broken"):
        html = anon_client.get(url).content.decode()
        assert re.search(r'<span class="pill verdict-badge pill-bad"[^>]*>failed</span>', html), url
