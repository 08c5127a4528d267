"""The raw-bytes routes, in one table: every route whose body or answer is bulk bytes.

``streaming.BytesApp`` (mounted in ``hub/asgi.py``) serves them straight from
the socket. ``urlpatterns`` gives the same table to Django's URLconf, for
``reverse()`` and for each route's fallback view (Django's test client, a
WSGI deployment), which calls the same services. A route is defined here and
nowhere else.
"""

from __future__ import annotations

from django.urls import re_path

from models_app.hf import lfs, lfs_stream
from models_app.publish import api as api_publish
from models_app.publish import stream as upload_stream
from models_app.repos.routes import KINDS, RepoKind
from models_app.reuse import downloads, views
from models_app.streaming import BytesRoute, streamed
from models_app.xet import streaming as xet_streaming
from models_app.xet import views as xet_views

REPO = r"(?P<owner>[^/]+)/(?P<name>[^/]+)"


def repo_routes(kind: RepoKind) -> tuple[BytesRoute, ...]:
    """The repo routes of one type: a dataset's live under the HF prefixes (``datasets/``, ``api/datasets/``)."""
    web, api, kw, name = f"{kind.web}{REPO}", f"{kind.api}/{REPO}", kind.kwargs, kind.name
    return (
        BytesRoute(
            name("resolve"),
            frozenset({"GET", "HEAD"}),
            rf"{web}/resolve/(?P<rev>[^/]+)/(?P<path>.+)",
            downloads.serve,
            fallback=views.resolve,
            raw=True,
            kwargs=kw,
        ),
        BytesRoute(
            name("api_upload"),
            frozenset({"POST"}),
            rf"{api}/upload/?",
            streamed(upload_stream.native_upload),
            fallback=api_publish.UploadView.as_view(),
            kwargs=kw,
        ),
        BytesRoute(
            name("api_upload_file"),
            frozenset({"PUT"}),
            rf"{api}/upload/(?P<path>.+)",
            streamed(upload_stream.native_put),
            kwargs=kw,
        ),
        BytesRoute(
            name("hf_lfs_upload"),
            frozenset({"PUT"}),
            rf"{web}\.git/info/lfs/objects/(?P<oid>[0-9a-f]{{64}})",
            streamed(lfs_stream.lfs_upload_streamed),
            fallback=lfs.lfs_upload,
            kwargs=kw,
        ),
    )


BYTES_ROUTES: tuple[BytesRoute, ...] = (
    *(route for kind in KINDS for route in repo_routes(kind)),
    BytesRoute(
        "xet_xorb_upload",
        frozenset({"POST"}),
        r"xet/v1/xorbs/(?P<prefix>[^/]+)/(?P<hash>[^/]+)",
        streamed(xet_streaming.xorb_upload_streamed),
        fallback=xet_views.xorb_upload,
    ),
)

urlpatterns = [
    re_path(f"^{route.pattern}$", route.fallback, route.kwargs, name=route.name)
    for route in BYTES_ROUTES
    if route.fallback
]
