"""The one sanitiser (cards and chat): markdown renders, every XSS payload comes out inert."""

from __future__ import annotations

import re

import pytest

from hub.markdown import render_markdown

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '[x](https://ok.example "title\\" onmouseover=\\"alert(1))',
    "<a href='javascript:alert(1)'>x</a>",
    "<details open ontoggle=alert(1)>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<style>*{display:none}</style>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<<script>script>alert(1)<</script>/script>",
    "[a](<javascript:alert(1)>)",
    "<object data=javascript:alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
]

DANGEROUS = re.compile(
    r"<\s*(script|iframe|svg|object|embed|style|form|input|body|details|math)\b|\son\w+\s*=|javascript:|vbscript:|data:text",
    re.I,
)


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_payload_comes_out_inert(payload):
    html = render_markdown(payload)
    # Text may mention "javascript:" once escaped; only live tags and attributes count.
    live = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", html, flags=re.S)
    tags = re.findall(r"<[^>]+>", live)
    assert not any(DANGEROUS.search(tag) for tag in tags), html


def test_markdown_renders_and_links_get_rel():
    html = render_markdown("**bold** [site](https://example.org) `code`")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://example.org" rel="nofollow noopener">site</a>' in html


def test_mentions_link_known_users_outside_code():
    html = render_markdown(
        "hi @bob, not `@bob`, and @nobody. Bye @bob.", mention_link=lambda n: "/bob" if n == "bob" else None
    )
    assert html.count('<a href="/bob" class="mention" rel="nofollow noopener">@bob</a>') == 2
    assert "<code>@bob</code>" in html and "@nobody" in html
