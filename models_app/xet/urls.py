"""Xet routes: token endpoints under the HF API, the CAS under /xet/ (the casUrl the token names)."""

from django.urls import path, re_path

from models_app.repos.routes import KINDS, RepoKind
from models_app.xet import views


def repo_routes(kind: RepoKind) -> list:
    api, kw, name = f"{kind.api}/<str:owner>/<str:name>", kind.kwargs, kind.name
    return [
        path(f"{api}/xet-write-token/<path:rev>", views.xet_write_token, kw, name=name("xet_write_token")),
        path(f"{api}/xet-read-token/<path:rev>", views.xet_read_token, kw, name=name("xet_read_token")),
    ]


urlpatterns = [
    *(route for kind in KINDS for route in repo_routes(kind)),
    path("xet/v1/shards", views.shard_upload, name="xet_shard_upload"),
    path("xet/v1/chunks/<str:prefix>/<str:hash>", views.chunk_query, name="xet_chunk_query"),
    re_path(r"^xet/(?P<rest>.*)$", views.not_offered, name="xet_not_offered"),
]
