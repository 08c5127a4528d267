"""Django never holds a large request body in memory (the ASGI handler's spool rolls over)."""

import tempfile

from django.conf import settings


def test_asgi_body_spool_rolls_over_to_disk():
    # The same object Django's ASGIHandler.read_body builds.
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b")
    spool.write(b"x" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1))
    assert spool._rolled, "a body larger than FILE_UPLOAD_MAX_MEMORY_SIZE must go to a temp file"
    spool.close()
    assert settings.FILE_UPLOAD_HANDLERS == ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
