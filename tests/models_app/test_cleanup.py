import os
import time

from django.core.management import call_command


def test_cleanup_removes_stale_temp_files_only(isolated_store):
    tmp = isolated_store.UPLOAD_TMP_DIR
    old, fresh = tmp / "upload-old.part", tmp / "upload-new.part"
    old.write_bytes(b"half an upload")
    fresh.write_bytes(b"in flight")
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    call_command("cleanup_uploads", max_age_minutes=60)
    assert not old.exists() and fresh.exists()
    call_command("cleanup_uploads", max_age_minutes=0)
    assert not fresh.exists()
