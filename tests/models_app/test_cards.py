"""Model cards: front matter parsed into the repo on upload, errors refuse the commit, HTML is inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from models_app.models import ModelRepo
from models_app.publish.uploads import Ingest
from models_app.repos.cards import card_generate, parse_card, render_card, validate_card
from models_app.repos.revisions import RevisionError, revision_create
from models_app.repos.rules import repo_create
from tests.initial_commit import uploaded_revisions

GOOD_CARD = """---
license: apache-2.0
language:
- en
- fr
tags:
- bert
- tiny
datasets:
- imdb
metrics:
- accuracy
base_model: google-bert/bert-base-uncased
library_name: transformers
pipeline_tag: text-classification
model-index:
- name: tiny-bert-imdb
  results:
  - task: {type: text-classification}
    dataset: {type: imdb, name: IMDB}
    metrics:
    - {type: accuracy, value: 0.87}
---

# Tiny BERT

A very small BERT fine-tuned on IMDB reviews, for tests.
"""


def commit(repo, author, files: dict[str, bytes]):
    ingest = Ingest(repo)
    blobs = {path: ingest.add(path, [data]) for path, data in files.items()}
    return revision_create(repo, author=author, message="upload", add=blobs)


def test_card_metadata_lands_on_the_repo_with_the_revision(owner):
    repo = repo_create(owner, "tiny-bert")
    result = commit(repo, owner, {"README.md": GOOD_CARD.encode(), "config.json": b"{}"})
    assert result.created and result.card_warnings == ()
    repo = ModelRepo.objects.get(pk=repo.pk)
    assert repo.license == "apache-2.0" and repo.pipeline_tag == "text-classification"
    assert repo.library_name == "transformers" and repo.tags == ["bert", "tiny"] and repo.languages == ["en", "fr"]
    assert repo.card_meta["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.87
    assert repo.card_meta["base_model"] == "google-bert/bert-base-uncased"


@pytest.mark.parametrize(
    "front, message",
    [
        ("license: [unclosed", "Invalid YAML"),
        ("license: free-as-in-beer", "not a known license id"),
        ("pipeline_tag: mind-reading", "not a known task"),
        ("- just\n- a list", "must be a YAML mapping"),
        ("model-index: 3", "'model-index' must be a list"),
    ],
)
def test_card_errors_refuse_the_commit(owner, front, message):
    repo = repo_create(owner, "m")
    with pytest.raises(RevisionError) as excinfo:
        commit(repo, owner, {"README.md": f"---\n{front}\n---\n# M\n".encode()})
    assert excinfo.value.status_code == 422 and message in excinfo.value.message
    assert any(message in error for error in excinfo.value.extra["errors"])
    assert uploaded_revisions().count() == 0 and ModelRepo.objects.get().card_meta == {}


def test_warnings_are_reported_not_fatal(owner):
    repo = repo_create(owner, "m")
    result = commit(repo, owner, {"README.md": b"---\nlanguage: English\nfoo: 1\n---\nshort\n"})
    warnings = " ".join(result.card_warnings)
    assert result.created
    assert "No license" in warnings and "No pipeline_tag" in warnings
    assert "ISO 639" in warnings and "Unknown front matter keys" in warnings and "almost no text" in warnings


def test_validate_card_signature():
    assert validate_card(GOOD_CARD) == ([], [])
    errors, warnings = validate_card("no front matter at all, but some text to read here")
    assert errors == [] and any("no YAML front matter" in w for w in warnings)
    errors, _ = validate_card("---\nlicense: mit\n")
    assert errors and "not closed" in errors[0]


def test_removing_the_readme_clears_the_card(owner):
    repo = repo_create(owner, "m")
    commit(repo, owner, {"README.md": GOOD_CARD.encode()})
    revision_create(repo, author=owner, message="drop card", delete=["README.md"])
    assert ModelRepo.objects.get().card_meta == {}


def test_repo_without_a_card_gets_a_generated_one(owner):
    repo = repo_create(owner, "plain", license="mit", pipeline_tag="fill-mask", tags=["bert"])
    revision = commit(repo, owner, {"config.json": b"{}"}).revision
    text = card_generate(repo)
    assert parse_card(text).errors == [] and "license: mit" in text
    rendered = render_card(repo, revision)
    assert rendered.generated and "<h1>plain</h1>" in rendered.html and "fill mask" in rendered.html


XSS_CORPUS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '![x](javascript:alert(1) "t")',
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<details open ontoggle=alert(1)>",
    '<form action="https://evil.example"><input type=submit></form>',
    '<object data="x.swf"></object>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "[a](vbscript:msgbox(1))",
    "<a href='&#106;avascript:alert(1)'>x</a>",
    "[x](&#106;avascript:alert(1))",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "```html\n<script>alert(1)</script>\n```",
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML (escaped text is not one)."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


SAFE_TAGS = {"h1", "p", "a", "img", "code", "pre", "em", "strong"}


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_payloads_render_inert(owner, payload):
    repo = repo_create(owner, "m")
    card = f"---\nlicense: mit\npipeline_tag: fill-mask\n---\n# Card\n\n{payload}\n"
    revision = commit(repo, owner, {"README.md": card.encode()}).revision
    parser = _Elements()
    parser.feed(render_card(repo, revision).html)
    for tag, attrs in parser.elements:
        assert tag in SAFE_TAGS, (tag, payload)
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (name, payload)
            if name in ("href", "src"):
                value = (value or "").strip().lower()
                scheme = value.split(":", 1)[0] if ":" in value.split("/", 1)[0] else ""
                assert scheme in ("", "http", "https", "mailto"), (value, payload)


def test_an_oversized_card_is_stored_but_not_parsed(owner, settings):
    from models_app.repos import cards

    repo = repo_create(owner, "m")
    commit(repo, owner, {"README.md": GOOD_CARD.encode()})
    huge = GOOD_CARD.replace("license: apache-2.0", "license: mit") + "x" * cards.MAX_CARD_BYTES
    result = commit(repo, owner, {"README.md": huge.encode()})
    assert result.created and "not read" in result.card_warnings[0]
    assert ModelRepo.objects.get().license == "apache-2.0"  # the last card that was read still stands
