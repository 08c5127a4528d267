"""The one markdown renderer and sanitiser: model cards and chat messages both use it.

markdown-it-py renders CommonMark with raw HTML disabled, then nh3 (ammonia)
keeps only an allow-list of tags and attributes. The second step is the real
guard: whatever the parser lets through (a ``javascript:`` link, an event
attribute), nh3 drops it. Links open with ``rel="nofollow noopener"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import emoji
import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_.-]{0,95})")


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


_MD = _parser()


def _mention_rule(link_for: Callable[[str], str | None]):
    """A core rule that turns ``@name`` in plain text (not code, not links) into a link."""

    def rule(state) -> None:
        for block in state.tokens:
            if block.type != "inline" or not block.children:
                continue
            children: list[Token] = []
            in_link = 0
            for tok in block.children:
                if tok.type == "link_open":
                    in_link += 1
                elif tok.type == "link_close":
                    in_link -= 1
                if tok.type != "text" or in_link or "@" not in tok.content:
                    children.append(tok)
                    continue
                pos = 0
                for match in MENTION_RE.finditer(tok.content):
                    # "@bob." ends a sentence: the dot is not part of the name.
                    name = match.group(1).rstrip(".-")
                    href = link_for(name)
                    if href is None:
                        continue
                    end = match.start(1) + len(name)
                    if match.start() > pos:
                        children.append(_text(tok.content[pos : match.start()]))
                    opener = Token("link_open", "a", 1)
                    opener.attrs = {"href": href, "class": "mention"}
                    children += [opener, _text("@" + name), Token("link_close", "a", -1)]
                    pos = end
                if pos < len(tok.content):
                    children.append(_text(tok.content[pos:]))
            block.children = children

    return rule


def _text(content: str) -> Token:
    tok = Token("text", "", 0)
    tok.content = content
    return tok


def _emoji_rule(state) -> None:
    """``:tada:`` in plain text becomes 🎉 (the ``emoji`` package's names and GitHub/Slack aliases).

    Only text tokens change: code spans and fenced blocks keep their colons.
    """
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        for tok in block.children:
            if tok.type == "text" and ":" in tok.content:
                tok.content = emoji.emojize(tok.content, language="alias")


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    )


def render_markdown(
    text: str, *, mention_link: Callable[[str], str | None] | None = None, emoji_shortcodes: bool = False
) -> str:
    """Safe HTML for ``text``. ``mention_link(name)`` returns the URL for ``@name`` or None;
    ``emoji_shortcodes`` turns ``:name:`` into its emoji (chat messages)."""
    if mention_link is None and not emoji_shortcodes:
        html = _MD.render(text)
    else:
        md = _parser()
        if mention_link is not None:
            md.core.ruler.push("mentions", _mention_rule(mention_link))
        if emoji_shortcodes:
            md.core.ruler.push("emoji", _emoji_rule)
        html = md.render(text)
    return sanitize_html(html)


def mentioned_names(text: str) -> set[str]:
    """Lower-cased ``@names`` anywhere in ``text`` (the caller checks which users exist)."""
    return {m.group(1).rstrip(".-").lower() for m in MENTION_RE.finditer(text)}
