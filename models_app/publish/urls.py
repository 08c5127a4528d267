"""Publishing: the native API (create, upload, settings, tags) and the website pages (new, upload, revisions, settings).

``POST /api/models/<owner>/<name>/upload`` is a raw-bytes route (``bytes_routes.py``)
in front of Django; the route here serves other callers and the schema.
``POST /api/models`` (create) is routed in ``models_app/urls.py``: the URL is shared with reuse's listing.
"""

from django.urls import path

from models_app.publish import api as api_publish
from models_app.publish import views as views_publish

urlpatterns = [
    path("api/models/<str:owner>/<str:name>/settings", api_publish.repo_settings, name="api_repo_settings"),
    path("api/models/<str:owner>/<str:name>/tag/<path:revision>", api_publish.revision_tag, name="api_revision_tag"),
    path("new", views_publish.new_model, name="model_new"),
    path("<str:owner>/<str:name>/upload", views_publish.upload_page, name="model_upload"),
    path("<str:owner>/<str:name>/commit/<str:sha>", views_publish.commit_page, name="model_commit"),
    path("<str:owner>/<str:name>/commits", views_publish.commits_page, name="model_commits"),
    path("<str:owner>/<str:name>/commits/<path:rev>", views_publish.commits_page, name="model_commits_rev"),
    path("<str:owner>/<str:name>/settings", views_publish.settings_page, name="model_settings"),
]
