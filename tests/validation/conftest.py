"""Tiny model snapshots, built once per session (building imports torch and transformers)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.factories import tiny_models


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return tiny_models.build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture
def tiny_bert_copy(tiny_bert_dir, tmp_path) -> Path:
    """A private copy a test may damage."""
    return Path(shutil.copytree(tiny_bert_dir, tmp_path / "snapshot"))
