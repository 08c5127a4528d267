"""The Hugging Face write protocol (create, preupload, commit, LFS); included by models_app/urls.py."""

from django.urls import path, re_path

from models_app.hf import lfs, repo_ops
from models_app.hf import write as hf_write
from models_app.repos.routes import KINDS, RepoKind


def repo_routes(kind: RepoKind) -> list:
    api, kw, name = f"{kind.api}/<str:owner>/<str:name>", kind.kwargs, kind.name
    lfs_objects = rf"^{kind.web}(?P<owner>[^/]+)/(?P<name>[^/]+)\.git/info/lfs/objects"
    return [
        path(f"{api}/preupload/<path:rev>", hf_write.preupload, kw, name=name("hf_preupload")),
        path(f"{api}/commit/<path:rev>", hf_write.commit, kw, name=name("hf_commit")),
        path(f"{api}/duplicate", repo_ops.duplicate, kw, name=name("hf_duplicate")),
        path(f"{api}/super-squash/<path:branch>", repo_ops.super_squash, kw, name=name("hf_super_squash")),
        # xet-write-token: models_app/xet/urls.py (included first).
        re_path(rf"{lfs_objects}/batch$", lfs.lfs_batch, kw, name=name("hf_lfs_batch")),
        re_path(rf"{lfs_objects}/verify$", lfs.lfs_verify, kw, name=name("hf_lfs_verify")),
        # S3 mode: a direct multipart upload's completion URL (lfs_staged.py).
        re_path(
            rf"{lfs_objects}/complete/(?P<oid>[0-9a-f]{{64}})$", lfs.lfs_complete, kw, name=name("hf_lfs_complete")
        ),
    ]


urlpatterns = [
    path("api/repos/create", hf_write.repos_create, name="hf_repos_create"),
    path("api/repos/delete", hf_write.repos_delete, name="hf_repos_delete"),
    path("api/repos/move", repo_ops.repos_move, name="hf_repos_move"),
    path("api/validate-yaml", hf_write.validate_yaml, name="hf_validate_yaml"),
    *(route for kind in KINDS for route in repo_routes(kind)),
]
