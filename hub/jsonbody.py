"""The one check on every parsed request body: strings the database can store, and a bounded depth.

PostgreSQL text cannot hold NUL, so a ``"\\u0000"`` that reached a lookup or a
row was a 500 (``DataError``) there and passed silently on SQLite; no name,
message or path the API takes needs one. JSON can also carry an unpaired
surrogate (``"\\ud800"``), which has no UTF-8 form: every database driver
failed to encode it (``UnicodeEncodeError``, a 500). Python's JSON decoder raises
``RecursionError`` on arrays nested some thousands deep, which DRF's parser
does not catch (a 500), and deep values would make later walks over the data
recurse as far; no API body needs more than a few levels. Both are 400s.
The DRF parsers below are the project's defaults (``REST_FRAMEWORK`` in
settings); the ndjson commit, which reads its own lines, calls ``loads``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Nesting levels of arrays and objects in a request body (HF payloads use four).
MAX_JSON_DEPTH = 32


def check_body(data: Any) -> None:
    """ParseError (400) when a string (key or value) holds NUL or a lone surrogate, or nesting passes MAX_JSON_DEPTH."""
    if isinstance(data, QueryDict):
        data = dict(data.lists())
    stack = [(data, 0)]
    while stack:  # a loop, not recursion: the depth is what is being checked
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError("NUL characters (\\u0000) are not allowed in request bodies.")
            if not value.isascii() and not _utf8(value):
                raise ParseError("Unpaired surrogates (\\ud800-\\udfff) are not allowed in request bodies.")
        elif isinstance(value, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise ParseError(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads(text: str | bytes) -> Any:
    """``json.loads`` plus ``check_body``; ValueError for text that is not JSON."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ParseError(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    check_body(data)
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
        check_body(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_body(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        check_body(result.data)
        return result
