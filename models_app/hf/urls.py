"""The Hugging Face write protocol (create, preupload, commit, LFS); included by models_app/urls.py."""

from django.urls import path, re_path

from models_app.hf import lfs
from models_app.hf import write as hf_write

REPO = "api/models/<str:owner>/<str:name>"

urlpatterns = [
    path("api/repos/create", hf_write.repos_create, name="hf_repos_create"),
    path("api/repos/delete", hf_write.repos_delete, name="hf_repos_delete"),
    path("api/validate-yaml", hf_write.validate_yaml, name="hf_validate_yaml"),
    path(f"{REPO}/preupload/<path:rev>", hf_write.preupload, name="hf_preupload"),
    path(f"{REPO}/commit/<path:rev>", hf_write.commit, name="hf_commit"),
    # xet-write-token: models_app/xet/urls.py (included first).
    re_path(r"^(?P<owner>[^/]+)/(?P<name>[^/]+)\.git/info/lfs/objects/batch$", lfs.lfs_batch, name="hf_lfs_batch"),
    re_path(r"^(?P<owner>[^/]+)/(?P<name>[^/]+)\.git/info/lfs/objects/verify$", lfs.lfs_verify, name="hf_lfs_verify"),
]
