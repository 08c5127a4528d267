"""Browsing and downloads; included by models_app/urls.py.

The ``/api/models/<owner>/<name>/...`` read routes serve the native API and the
Hugging Face clients alike. ``/<owner>/<name>/resolve/...`` is normally answered
by the raw-bytes app before Django; its fallback view serves it when the
hub runs without that ASGI front (the test client, a WSGI server).
"""

from django.urls import path

from models_app.repos.routes import DATASETS, MODELS, RepoKind
from models_app.reuse import api as api_views
from models_app.reuse import views


def repo_routes(kind: RepoKind) -> list:
    api, web, kw, name = (
        f"{kind.api}/<str:owner>/<str:name>",
        f"{kind.web}<str:owner>/<str:name>",
        kind.kwargs,
        kind.name,
    )
    return [
        path(f"{api}", api_views.ModelDetailApi.as_view(), kw, name=name("api_model_detail")),
        path(f"{api}/revision/<path:rest>", api_views.ModelRevisionApi.as_view(), kw, name=name("api_revision")),
        path(f"{api}/tree/<path:rest>", api_views.TreeApi.as_view(), kw, name=name("api_tree")),
        path(f"{api}/paths-info/<path:rest>", api_views.PathsInfoApi.as_view(), kw, name=name("api_paths_info")),
        path(f"{api}/refs", api_views.RefsApi.as_view(), kw, name=name("api_refs")),
        path(f"{api}/commits/<path:rest>", api_views.CommitsApi.as_view(), kw, name=name("api_commits")),
        path(f"{api}/auth-check", api_views.AuthCheckApi.as_view(), kw, name=name("api_auth_check")),
        path(
            f"{api}/auth-check/write",
            api_views.AuthCheckWriteApi.as_view(),
            kw,
            name=name("api_auth_check_write"),
        ),
        path(f"{api}/likers", api_views.LikersApi.as_view(), kw, name=name("api_likers")),
        path(f"{api}/like", api_views.LikeApi.as_view(), kw, name=name("api_like")),
        path(f"{web}", views.model_page, kw, name=name("model_page")),
        path(f"{web}/tree/<str:rev>", views.tree_page, kw, name=name("tree_page")),
        path(f"{web}/tree/<str:rev>/<path:path>", views.tree_page, kw, name=name("tree_page_path")),
        path(f"{web}/like", views.like_toggle, kw, name=name("like_toggle")),
    ]


urlpatterns = [
    path("", views.home, name="home"),
    path("models", views.model_list, name="model_list"),
    path("datasets", views.model_list, DATASETS.kwargs, name="dataset_list"),
    path("api/models", api_views.ModelListApi.as_view(), name="api_model_list"),
    path("api/datasets", api_views.ModelListApi.as_view(), DATASETS.kwargs, name="api_dataset_list"),
    path("api/users/<str:username>/likes", api_views.UserLikesApi.as_view(), name="api_user_likes"),
    path("<str:username>", views.user_page, name="user_page"),
    *repo_routes(MODELS),
]
# Served from models_app/dataset_urls.py, ahead of every app's "<owner>/<name>/..." routes.
dataset_urlpatterns = repo_routes(DATASETS)
