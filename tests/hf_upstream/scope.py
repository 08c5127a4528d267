"""Which upstream tests are in scope for a model hub, and why the others are not.

The issue's rule: the model-hub parts of ``test_hf_api.py`` plus the download,
snapshot, file-system, commit and repocard files. Deselected here, each with
its reason: features TransferHub does not have on purpose, and tests that
need huggingface.co itself (``production`` marks are skipped by the conftest).
"""

from __future__ import annotations

import re
from pathlib import Path

FILES = [
    "test_hf_api.py",
    "test_file_download.py",
    "test_snapshot_download.py",
    "test_hf_file_system.py",
    "test_commit_api.py",
    "test_repocard.py",
]

# Class-name patterns of test_hf_api.py that are out of scope, with the reason.
OUT_OF_SCOPE_CLASSES = {
    r"Space": "Spaces (hosted apps) are not part of TransferHub",
    r"Inference": "Inference endpoints and providers are not part of TransferHub",
    r"Collection": "Collections are not part of TransferHub",
    r"Webhook": "Webhooks are not part of TransferHub",
    r"Job": "Jobs are not part of TransferHub",
    r"Billing": "Billing is huggingface.co's own",
    r"Paper": "Papers are huggingface.co's own",
    r"Bucket": "Storage buckets are not part of TransferHub",
}


# Single tests (``Class::test`` patterns) out of scope, with the reason.
OUT_OF_SCOPE_TESTS = {
    r"private_by_default": "needs an Enterprise organization that makes repos private by default",
    # The hub refuses backslashes and '..' in paths on purpose (models_app/repos/paths.py): a file named
    # 'folder/..\\..\\file' could lead a client outside its folder. These tests upload one in their fixture.
    r"^TestHfHubDownloadRelativePaths::": "the hub refuses backslashes and '..' in file paths on purpose",
    # huggingface_hub's sdist ships tests/ without tests/fixtures/, which these read.
    r"^Test(Repo|Model|Dataset)Card::test_(load_repocard_from_file|change_repocard_data|"
    r"repo_card_from_custom_template_path|repo_card_data_must_be_dict|repo_card_without_metadata|validate_repocard|"
    r"preserve_windows_linebreaks|preserve_linebreaks_when_saving|updating_text_updates_content|"
    r"model_card_with_invalid_model_index_and_ignore_error|model_card_with_model_index|load_model_card_from_file|"
    r"model_card_from_custom_template|model_card_from_template_eval_results|load_datasetcard_from_file|"
    r"dataset_card_from_custom_template)$": "reads tests/fixtures/, which the sdist does not ship",
}


def _tests(path: Path) -> list[tuple[str, str]]:
    """``(class, test)`` pairs of a test file, ``("", test)`` for module-level tests."""
    found, cls = [], ""
    for line in path.read_text().splitlines():
        if match := re.match(r"^class (\w+)", line):
            cls = match[1]
        elif match := re.match(r"^def (test_\w+)", line):
            found.append(("", match[1]))
            cls = ""
        elif match := re.match(r"^    (?:async )?def (test_\w+)", line):
            found.append((cls, match[1]))
    return found


def deselected(tests: Path, files: list[str]) -> list[str]:
    nodes = []
    for name in files:
        for cls, test in _tests(tests / name):
            node = f"{cls}::{test}" if cls else test
            if cls and any(re.search(pattern, cls) for pattern in OUT_OF_SCOPE_CLASSES):
                nodes.append(f"tests/{name}::{node}")
            elif any(re.search(pattern, node) for pattern in OUT_OF_SCOPE_TESTS):
                nodes.append(f"tests/{name}::{node}")
    return nodes
