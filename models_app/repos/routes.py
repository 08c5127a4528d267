"""Routes per repo type: every URL a model has, a dataset has under the Hugging Face Hub's prefixes.

A URLconf builds its repo routes once per ``RepoKind``; each route passes
``repo_type`` to its view, which hands it to ``rules.find_visible_repo``.
Dataset routes are named ``dataset_<model route name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from models_app.models import API_SEGMENTS, URL_PREFIXES, ModelRepo


@dataclass(frozen=True)
class RepoKind:
    repo_type: str

    @property
    def api(self) -> str:
        """``api/models`` or ``api/datasets``."""
        return f"api/{API_SEGMENTS[self.repo_type]}"

    @property
    def web(self) -> str:
        """Before ``<owner>/<name>`` on the website and in resolve and LFS URLs: "" or "datasets/"."""
        prefix = URL_PREFIXES[self.repo_type].lstrip("/")
        return f"{prefix}/" if prefix else ""

    @property
    def kwargs(self) -> dict[str, str]:
        return {"repo_type": self.repo_type}

    def name(self, base: str) -> str:
        return base if self.repo_type == ModelRepo.RepoType.MODEL else f"{self.repo_type}_{base}"


MODELS = RepoKind(ModelRepo.RepoType.MODEL)
DATASETS = RepoKind(ModelRepo.RepoType.DATASET)
# Datasets first: "datasets/<owner>/<name>" must be tried before a model's "<owner>/<name>/<page>".
KINDS = (DATASETS, MODELS)
