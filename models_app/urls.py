"""The model routes. Order matters: specific prefixes first, ``/<owner>/<name>/...`` last.

Each part keeps its routes in its own module: validation pages and
leaderboards, Xet CAS, the Hugging Face write protocol (create, preupload,
commit, LFS), publishing pages and API (new, upload, settings), and browsing
and downloads (home, lists, model pages, the HF read protocol, resolve).
"""

from django.urls import include, path

urlpatterns = [
    path("", include("models_app.bytes_routes")),  # uploads, downloads, xorbs: one table, served before Django
    path("", include("models_app.validation.urls")),
    path("", include("models_app.xet.urls")),
    path("", include("models_app.urls_hf")),
    path("", include("models_app.urls_publish")),
    path("", include("models_app.urls_reuse")),
]
