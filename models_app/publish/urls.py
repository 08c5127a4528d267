"""Publishing: the native API (create, upload, settings, tags) and the website pages (new, upload, revisions, settings).

``POST /api/models/<owner>/<name>/upload`` is a raw-bytes route (``bytes_routes.py``)
in front of Django; the route here serves other callers and the schema.
``POST /api/models`` (create) is routed in ``models_app/urls.py``: the URL is shared with reuse's listing.
"""

from django.urls import path

from models_app.publish import api as api_publish
from models_app.publish import views as views_publish
from models_app.repos.routes import DATASETS, MODELS, RepoKind


def repo_routes(kind: RepoKind) -> list:
    api, web, kw, name = (
        f"{kind.api}/<str:owner>/<str:name>",
        f"{kind.web}<str:owner>/<str:name>",
        kind.kwargs,
        kind.name,
    )
    return [
        path(f"{api}/settings", api_publish.repo_settings, kw, name=name("api_repo_settings")),
        path(
            f"{api}/user-access-request/handle", api_publish.access_request_handle, kw, name=name("api_access_handle")
        ),
        path(f"{api}/user-access-request/grant", api_publish.access_grant, kw, name=name("api_access_grant")),
        path(
            f"{api}/user-access-request/<str:status>", api_publish.access_request_list, kw, name=name("api_access_list")
        ),
        path(f"{api}/ask-access", api_publish.access_ask, kw, name=name("api_access_ask")),
        path(f"{api}/branch/<path:branch>", api_publish.branch, kw, name=name("api_branch")),
        path(f"{api}/tag/<path:revision>", api_publish.revision_tag, kw, name=name("api_revision_tag")),
        path(f"{web}/upload", views_publish.upload_page, kw, name=name("model_upload")),
        path(f"{web}/commit/<str:sha>", views_publish.commit_page, kw, name=name("model_commit")),
        path(f"{web}/commits", views_publish.commits_page, kw, name=name("model_commits")),
        path(f"{web}/commits/<path:rev>", views_publish.commits_page, kw, name=name("model_commits_rev")),
        path(f"{web}/settings", views_publish.settings_page, kw, name=name("model_settings")),
    ]


urlpatterns = [
    path("new", views_publish.new_model, name="model_new"),
    path("settings/storage/", views_publish.storage_page, name="storage"),
    path("api/organizations/<str:org>/writes", api_publish.org_writes, name="api_org_writes"),
    *repo_routes(MODELS),
]
# Served from models_app/dataset_urls.py, ahead of every app's "<owner>/<name>/..." routes.
dataset_urlpatterns = repo_routes(DATASETS)
