"""Finding models and datasets (one type a list): search, facets, sorts and keyset pages, shared by the website, the API and the HF clients.

Every list is one query over ``visible_repos`` with ``.values()`` rows (no
model instances, no per-row queries), so the website, the native API and
``GET /api/models`` cost the same whatever the page size.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from hub.api import ApiError
from models_app.bounds import MAX_FILTER_TAGS, check_count
from models_app.engagement.models import DownloadDay
from models_app.models import ModelRepo
from models_app.repos.rules import MODEL, visible_repos

TRENDING_DAYS = 7
RECENT_DAYS = 30
MAX_PAGE = 100
DEFAULT_PAGE = 30

# sort key (ours and the HF client's spellings) -> (annotation or field, label)
SORTS: dict[str, str] = {
    "downloads": "downloads",
    "likes": "likes",
    "updated": "updated",
    "lastModified": "updated",
    "last_modified": "updated",
    "created": "created",
    "createdAt": "created",
    "created_at": "created",
    "score": "score",
    "trending": "trending",
    "trendingScore": "trending",
    "trending_score": "trending",
}
SORT_LABELS = {
    "downloads": "Most downloads",
    "likes": "Most likes",
    "updated": "Recently updated",
    "created": "Newest",
    "score": "Validation score",
    "trending": "Trending",
}
FACETS = ("pipeline_tag", "library", "license", "language", "tag", "verdict")

LIST_FIELDS = (
    "pk",
    "owner__username",
    "name",
    "repo_type",
    "private",
    "downloads",
    "likes",
    "pipeline_tag",
    "library_name",
    "license",
    "created",
    "updated",
    "validation__verdict",
    "validation__score",
    "validation__suite",
    "validation__gain",
)


def recent_downloads(days: int) -> Subquery:
    since = timezone.now().date() - timedelta(days=days - 1)
    counts = (
        DownloadDay.objects.filter(repo=OuterRef("pk"), day__gte=since)
        .values("repo")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


@dataclass(frozen=True)
class Query:
    search: str = ""
    author: str = ""
    pipeline_tag: str = ""
    library: str = ""
    license: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()
    verdict: str = ""
    sort: str = "downloads"
    ascending: bool = False
    limit: int = DEFAULT_PAGE
    cursor: str = ""
    repo_type: str = MODEL

    @classmethod
    def from_params(cls, params: Mapping, *, default_limit: int = DEFAULT_PAGE, repo_type: str = MODEL) -> Query:
        """Our parameters and the HF client's (``filter`` repeated, ``direction=-1``, ``sort=lastModified``)."""
        getlist = params.getlist if hasattr(params, "getlist") else (lambda k: [params[k]] if k in params else [])
        sort = params.get("sort") or "downloads"
        if sort not in SORTS:
            raise ApiError(f"Unknown sort '{sort}'; use one of {', '.join(sorted(SORT_LABELS))}.", status_code=400)
        try:
            limit = int(params.get("limit") or default_limit)
        except ValueError:
            raise ApiError("limit must be a number.", status_code=400) from None
        tags = [t for t in getlist("filter") + getlist("tag") if t]
        check_count(len(tags), MAX_FILTER_TAGS, "tag filters", status_code=400)  # a query, not a body: 400
        return cls(
            search=(params.get("search") or "").strip()[:200],
            author=(params.get("author") or "").strip(),
            pipeline_tag=params.get("pipeline_tag") or params.get("task") or "",
            library=params.get("library") or "",
            license=params.get("license") or "",
            language=params.get("language") or "",
            tags=tuple(tags),
            verdict=params.get("verdict") or "",
            sort=SORTS[sort],
            ascending=params.get("direction") == "1",
            limit=max(1, min(limit, MAX_PAGE)),
            cursor=params.get("cursor") or "",
            repo_type=repo_type,
        )


def filtered(user, query: Query) -> QuerySet[ModelRepo]:
    repos = visible_repos(user, query.repo_type)
    if query.search:
        if "/" in query.search:
            owner, _, name = query.search.partition("/")
            repos = repos.filter(owner__username__icontains=owner, name__icontains=name)
        else:
            repos = repos.filter(Q(name__icontains=query.search) | Q(owner__username__icontains=query.search))
    if query.author:
        repos = repos.filter(owner__username__iexact=query.author)
    if query.pipeline_tag:
        repos = repos.filter(pipeline_tag=query.pipeline_tag)
    if query.library:
        repos = repos.filter(library_name=query.library)
    if query.license:
        repos = repos.filter(license=query.license)
    if query.language:
        repos = repos.filter(_json_has("languages", query.language))
    for tag in query.tags:
        # The HF client sends task, library and license through ``filter`` too.
        repos = repos.filter(
            Q(pipeline_tag=tag) | Q(library_name=tag) | Q(license=tag.removeprefix("license:")) | _json_has("tags", tag)
        )
    if query.verdict:
        repos = repos.filter(validation__verdict=query.verdict)
    return repos


def _json_contains() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def _json_has(field: str, value: str) -> Q:
    """``value`` is one of the strings in the JSON list ``field``."""
    if _json_contains():
        return Q(**{f"{field}__contains": [value]})
    # SQLite has no JSON containment: match the quoted string inside the stored array.
    return Q(**{f"{field}__icontains": orjson.dumps(value).decode()})


def sorted_page(repos: QuerySet[ModelRepo], query: Query) -> tuple[list[dict], str | None]:
    """One page of ``.values()`` rows in the requested order, and the cursor of the next page (or None)."""
    key = query.sort
    if key == "score":
        repos = repos.annotate(sort_key=Coalesce(F("validation__score"), Value(-1.0)))
    elif key == "trending":
        repos = repos.annotate(sort_key=recent_downloads(TRENDING_DAYS))
    # Plain columns are ordered by name, not through an alias, so the database walks their index to the limit.
    field = "sort_key" if key in ("score", "trending") else key
    order = (field, "pk") if query.ascending else (f"-{field}", "-pk")
    if query.cursor:
        value, pk = _decode_cursor(query.cursor, key)
        if query.ascending:
            repos = repos.filter(Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk}))
        else:
            repos = repos.filter(Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk}))
    # The JSON lists come back as their stored text and go out as orjson Fragments: no decode/encode per row.
    rows = list(
        repos.order_by(*order)
        .annotate(tags_json=Cast("tags", TextField()), languages_json=Cast("languages", TextField()))
        .values(*LIST_FIELDS, *(("sort_key",) if field == "sort_key" else ()), "tags_json", "languages_json")[
            : query.limit + 1
        ]
    )
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        next_cursor = _encode_cursor(last[field], last["pk"])
    return rows, next_cursor


def _encode_cursor(value, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(orjson.dumps([value, pk])).decode().rstrip("=")


def _decode_cursor(cursor: str, key: str):
    try:
        value, pk = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if key in ("updated", "created"):
            value = datetime.fromisoformat(value)
        return value, int(pk)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError("The cursor is not valid; start again from the first page.", status_code=400) from None


def facet_values(user, repo_type: str = MODEL) -> dict[str, list[str]]:
    """The values each facet can take among the repos ``user`` sees (a handful of small queries)."""
    from models_app.validation.models import ValidationSummary

    repos = visible_repos(user, repo_type)
    facets: dict[str, list[str]] = {}
    for label, field in (("pipeline_tag", "pipeline_tag"), ("library", "library_name"), ("license", "license")):
        facets[label] = sorted(v for v in repos.values_list(field, flat=True).distinct() if v)
    tags: set[str] = set()
    languages: set[str] = set()
    for row_tags, row_langs in repos.values_list("tags", "languages")[:2000]:
        tags.update(t for t in row_tags or [] if isinstance(t, str))
        languages.update(lang for lang in row_langs or [] if isinstance(lang, str))
    facets["tag"] = sorted(tags)[:100]
    facets["language"] = sorted(languages)
    facets["verdict"] = sorted(
        ValidationSummary.objects.filter(repo__in=repos.values("pk")).values_list("verdict", flat=True).distinct()
    )
    return facets


def row_json(row: dict) -> dict:
    """A list row in the HF ``list_models`` (``list_datasets``) shape plus our fields."""
    repo_id = f"{row['owner__username']}/{row['name']}"
    return {
        "_id": str(row["pk"]),
        "id": repo_id,
        **({"modelId": repo_id} if row["repo_type"] == MODEL else {}),
        "author": row["owner__username"],
        "private": row["private"],
        "downloads": row["downloads"],
        "likes": row["likes"],
        "tags": orjson.Fragment(row["tags_json"] or "[]"),
        "pipeline_tag": row["pipeline_tag"] or None,
        "library_name": row["library_name"] or None,
        "license": row["license"] or None,
        "languages": orjson.Fragment(row["languages_json"] or "[]"),
        "createdAt": row["created"],
        "lastModified": row["updated"],
        "validation": {
            "verdict": row["validation__verdict"],
            "score": row["validation__score"],
            "suite": row["validation__suite"],
            "gain": row["validation__gain"],
        }
        if row["validation__verdict"]
        else None,
    }
