"""The model routes. Order matters: specific prefixes first, ``/<owner>/<name>/...`` last.

Each part keeps its routes in its own module: validation pages and
leaderboards, Xet CAS, the Hugging Face write protocol (create, preupload,
commit, LFS), publishing pages and API (new, upload, settings), and browsing
and downloads (home, lists, model pages, the HF read protocol, resolve).

``/api/models`` (and ``/api/datasets``) belongs to two capabilities: POST creates a repo (publish),
GET lists repos (reuse). The one view that answers it is put together here,
where both are known, so neither package imports the other.
"""

from django.urls import include, path

from models_app.publish.api import ModelsCollection
from models_app.repos.routes import DATASETS
from models_app.reuse.api import ModelListApi

urlpatterns = [
    path("", include("models_app.bytes_routes")),  # uploads, downloads, xorbs: one table, served before Django
    path("", include("models_app.validation.urls")),
    path("", include("models_app.finder.urls")),
    path("", include("models_app.xet.urls")),
    path("", include("models_app.hf.urls")),
    path("api/models", ModelsCollection.as_view(listing=ModelListApi.as_view()), name="api_models_create"),
    path(
        "api/datasets",
        ModelsCollection.as_view(listing=ModelListApi.as_view()),
        DATASETS.kwargs,
        name="api_datasets_create",
    ),
    path("", include("models_app.publish.urls")),
    path("", include("models_app.reuse.urls")),
]
