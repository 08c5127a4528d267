import pytest


@pytest.fixture(autouse=True)
def isolated_store(settings, tmp_path):
    """Every test gets its own blob store and temp folder."""
    settings.BLOB_DIR = tmp_path / "blobs"
    settings.UPLOAD_TMP_DIR = tmp_path / "tmp"
    settings.UPLOAD_TMP_DIR.mkdir()
    return settings
