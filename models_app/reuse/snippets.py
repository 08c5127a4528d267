"""The "Use this model" snippets on a model or dataset page: transformers, huggingface_hub, the hf CLI.

Each snippet is a shell script that runs as shown in a fresh shell: it names the hub
(``HF_ENDPOINT``, or the clients would ask huggingface.co) and installs what it imports with
``python -m pip`` into the very ``python`` it then runs, which is what a bare
``python -c "from transformers import ..."`` got wrong (ModuleNotFoundError in any shell whose
python lacked the package). tests/e2e/test_snippets.py runs them against a live hub.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class Snippet:
    key: str
    title: str
    code: str


def hub_endpoint(request: HttpRequest) -> str:
    """The base URL clients should use: HUB_SITE_URL when set, else where this request came in."""
    return (settings.SITE_URL or f"{request.scheme}://{request.get_host()}").rstrip("/")


def usage_snippets(repo, endpoint: str) -> list[Snippet]:
    repo_id = f"{repo.owner.username}/{repo.name}"
    header = f"export HF_ENDPOINT={endpoint}\n"
    kind = "dataset" if repo.is_dataset else "model"
    type_arg = ', repo_type="dataset"' if repo.is_dataset else ""
    snippets = []
    if not repo.is_dataset:
        snippets.append(
            Snippet(
                "transformers",
                "transformers",
                "python -m pip install --quiet transformers torch\n" + header + "python - <<'EOF'\n"
                "from transformers import AutoModel\n\n"
                f'model = AutoModel.from_pretrained("{repo_id}")\n'
                'print(type(model).__name__, model.num_parameters(), "parameters")\n'
                "EOF\n",
            )
        )
    snippets.append(
        Snippet(
            "huggingface_hub",
            "huggingface_hub",
            "python -m pip install --quiet huggingface_hub\n" + header + "python - <<'EOF'\n"
            "from huggingface_hub import snapshot_download\n\n"
            f'folder = snapshot_download("{repo_id}"{type_arg})\n'
            f'print("{kind} files in", folder)\n'
            "EOF\n",
        )
    )
    cli_type = " --repo-type dataset" if repo.is_dataset else ""
    snippets.append(
        Snippet(
            "hf",
            "hf CLI",
            "python -m pip install --quiet huggingface_hub\n" + header + f"hf download {repo_id}{cli_type}\n",
        )
    )
    return snippets
