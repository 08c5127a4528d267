"""Browsing and downloads; included by models_app/urls.py.

The ``/api/models/<owner>/<name>/...`` read routes serve the native API and the
Hugging Face clients alike. ``/<owner>/<name>/resolve/...`` is normally answered
by the raw-bytes app before Django; its fallback view serves it when the
hub runs without that ASGI front (the test client, a WSGI server).
"""

from django.urls import path

from models_app.reuse import api as api_views
from models_app.reuse import views

urlpatterns = [
    path("", views.home, name="home"),
    path("models", views.model_list, name="model_list"),
    path("api/models", api_views.ModelListApi.as_view(), name="api_model_list"),
    path("api/models/<str:owner>/<str:name>", api_views.ModelDetailApi.as_view(), name="api_model_detail"),
    path(
        "api/models/<str:owner>/<str:name>/revision/<path:rest>",
        api_views.ModelRevisionApi.as_view(),
        name="api_revision",
    ),
    path("api/models/<str:owner>/<str:name>/tree/<path:rest>", api_views.TreeApi.as_view(), name="api_tree"),
    path("api/models/<str:owner>/<str:name>/refs", api_views.RefsApi.as_view(), name="api_refs"),
    path("api/models/<str:owner>/<str:name>/commits/<path:rest>", api_views.CommitsApi.as_view(), name="api_commits"),
    path("api/models/<str:owner>/<str:name>/like", api_views.LikeApi.as_view(), name="api_like"),
    path("<str:username>", views.user_page, name="user_page"),
    path("<str:owner>/<str:name>", views.model_page, name="model_page"),
    path("<str:owner>/<str:name>/tree/<str:rev>", views.tree_page, name="tree_page"),
    path("<str:owner>/<str:name>/tree/<str:rev>/<path:path>", views.tree_page, name="tree_page_path"),
    path("<str:owner>/<str:name>/like", views.like_toggle, name="like_toggle"),
]
