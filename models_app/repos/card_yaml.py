"""Reading a model card's YAML front matter with limits, so a small card cannot cost much.

Plain ``yaml.safe_load`` expands aliases: a 350-byte "billion laughs" card
becomes billions of nodes, and the hub spent minutes and gigabytes on one
(issue #15). Here the document is first read as a stream of parser events,
which needs memory in proportion to the text, not to its expansion, and it is
refused before anything is built when it uses an alias or passes a size,
depth or node limit. Only then is it loaded, and the result is checked to be
plain JSON (no NUL, no infinities), since the metadata is stored in a JSON
column and shown on pages.
"""

from __future__ import annotations

import math

import yaml

# The front matter is metadata (license, tags, a model-index table): the largest
# Hugging Face cards we know of have a few thousand nodes in a few dozen KiB.
MAX_FRONT_MATTER_BYTES = 256 * 1024
MAX_NODES = 20_000
MAX_DEPTH = 32

# libyaml when the wheel has it (much faster); the pure-Python loader otherwise.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class CardYamlError(ValueError):
    """The front matter breaks a rule; the message names it, in one line, for the uploader."""


def load_front_matter(raw: str):
    """The parsed front matter (any YAML value), or CardYamlError naming the rule it breaks."""
    size = len(raw.encode("utf-8", errors="replace"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise CardYamlError(
            f"The YAML front matter is {size // 1024} KiB; a card's metadata may be at most "
            f"{MAX_FRONT_MATTER_BYTES // 1024} KiB (put long text in the card's body)."
        )
    try:
        _check_events(raw)
        value = yaml.load(raw, Loader=_LOADER)  # noqa: S506 - a safe loader (CSafeLoader or SafeLoader)
    except yaml.YAMLError as exc:
        raise CardYamlError(f"Invalid YAML in the front matter{_where(exc)}: {_problem(exc)}.") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise CardYamlError(f"A value in the front matter cannot be read: {_one_line(str(exc))}.") from None
    return _plain(value)


def _check_events(raw: str) -> None:
    depth = nodes = 0
    for event in yaml.parse(raw, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise CardYamlError(
                "YAML aliases (*name) are not allowed in a model card's front matter: write the value out."
            )
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise CardYamlError(f"The YAML front matter has more than {MAX_NODES:,} values; that is the limit.")
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise CardYamlError(f"The YAML front matter nests deeper than {MAX_DEPTH} levels; that is the limit.")
        elif isinstance(event, _CLOSE):
            depth -= 1


def _plain(value):
    """JSON-ready copy: mapping keys as text, dates and other scalars as text; NUL and inf/nan refused."""
    if isinstance(value, dict):
        return {_text(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise CardYamlError(f"The front matter holds {value}, which is not a finite number.")
    if value is None or isinstance(value, bool | int | float):
        return value
    return _text(value)


def _text(value) -> str:
    text = str(value)
    if "\x00" in text:
        raise CardYamlError("The front matter holds a NUL character (\\0), which a card may not contain.")
    return text


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    # Line numbers count from the card's first line: the opening '---' is line 1.
    return f" (line {mark.line + 2}, column {mark.column + 1})" if mark is not None else ""


def _problem(exc: yaml.YAMLError) -> str:
    return _one_line(getattr(exc, "problem", None) or str(exc))


def _one_line(text: str) -> str:
    """Messages end up in an X-Error-Message header and in one line of a page."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:300]
