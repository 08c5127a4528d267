"""The validation tests' tiny model fixtures serve the finder too (one session-scoped build)."""

from tests.validation.conftest import tiny_bert_dir  # noqa: F401
