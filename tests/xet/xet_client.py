"""Upload files through the real hf_xet client exactly as huggingface_hub does, in a subprocess.

Usage: python -m tests.xet.xet_client <token-url> <hub-token> <file>...
Prints one JSON line per file: {"sha256", "size"}. A subprocess keeps the
client's cache (HF_XET_CACHE) and its Rust runtime out of the test process.
"""

from __future__ import annotations

import json
import sys


def main(url: str, token: str, paths: list[str]) -> None:
    import hf_xet

    session = hf_xet.XetSession()
    handles = []
    with session.new_upload_commit(
        token_refresh_url=url,
        token_refresh_headers={"Authorization": f"Bearer {token}"},
        custom_headers={"user-agent": "transferhub-tests"},
        progress_callback=None,
    ) as commit:
        for path in paths:
            handles.append(commit.start_upload_file(path, sha256=hf_xet.COMPUTE_SHA256))
    for handle in handles:
        info = handle.result().xet_info
        print(json.dumps({"sha256": info.sha256, "size": info.file_size}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
