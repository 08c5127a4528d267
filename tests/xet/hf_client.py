"""Run one huggingface_hub / transformers call as a user would, in a fresh process.

Usage: python -m tests.xet.hf_client <action> '<json args>'; prints one JSON line.
The environment carries HF_ENDPOINT and HF_TOKEN, and nothing turns Xet off:
with hf_xet installed the client uploads every LFS-sized file through Xet
(the benchmark also runs it with HF_HUB_DISABLE_XET=1, for the LFS path).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def environment(endpoint: str, token: str, home: Path, *, xet: bool = True) -> dict[str, str]:
    """This process's environment as a user's shell would have it for the hub: no HF_* setting but these.

    ``xet=False`` adds ``HF_HUB_DISABLE_XET=1``: huggingface_hub's LFS path.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        HF_ENDPOINT=endpoint,
        HF_TOKEN=token,
        HF_HOME=str(home / "hf-home"),
        HF_XET_CACHE=str(home / "xet-cache"),
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    return env


def main(action: str, args: dict) -> dict:
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.utils import _runtime

    api = HfApi()
    out: dict = {"xet": _runtime.is_xet_available()}
    if action == "create_repo":
        out["url"] = str(api.create_repo(args["repo_id"], exist_ok=True))
    elif action == "upload_folder":
        info = api.upload_folder(repo_id=args["repo_id"], folder_path=args["folder"], commit_message="folder")
        out["oid"] = info.oid
    elif action == "upload_file":
        start = time.perf_counter()
        info = api.upload_file(repo_id=args["repo_id"], path_or_fileobj=args["path"], path_in_repo=args["path_in_repo"])
        out["seconds"] = time.perf_counter() - start  # the call alone, for bench/bench_xet_upload.py
        out["oid"] = info.oid
    elif action == "push_model":
        from transformers import BertConfig, BertModel

        config = BertConfig(
            vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        )
        BertModel(config).push_to_hub(args["repo_id"])
    elif action == "snapshot_download":
        out["path"] = snapshot_download(args["repo_id"], cache_dir=args["cache_dir"])
    else:
        raise SystemExit(f"unknown action {action}")
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2]))))
