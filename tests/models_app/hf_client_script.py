"""What a user runs against the hub with the stock Hugging Face libraries (driven by test_hf_clients.py).

Run as ``python hf_client_script.py SCENARIO ARGS...`` in a process whose
environment carries ``HF_ENDPOINT``, ``HF_HUB_CACHE`` and
``HF_HUB_DISABLE_TELEMETRY``: the libraries read them at import, exactly as in
a user's shell. Prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

TEXT = "the tiny model reads a short sentence"
WORDS = "the tiny model reads a short sentence about hub files and weights".split()


def build(out: str) -> dict:
    """A tiny BERT classifier with a local WordPiece vocab; also records its logits on TEXT."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=2,
    )
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with torch.no_grad():
        logits = model(**tokenizer(TEXT, return_tensors="pt")).logits
    return {"logits": logits.tolist(), "files": sorted(p.name for p in folder.iterdir())}


def load(repo_id: str, revision: str, token: str | None = None, original: str | None = None) -> dict:
    """Logits of the model loaded from the hub and, when ``original`` is a folder, of the same files loaded locally."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    def logits_of(source: str, **kwargs) -> list:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForSequenceClassification.from_pretrained(source, **kwargs).eval()
        with torch.no_grad():
            return model(**tokenizer(TEXT, return_tensors="pt")).logits.tolist()

    result = {"logits": logits_of(repo_id, revision=revision, token=token or False)}
    if original:
        result["original_logits"] = logits_of(original)
    return result


def snapshot(repo_id: str, revision: str) -> dict:
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download(repo_id, revision=revision))
    return {"files": {p.relative_to(folder).as_posix(): p.read_bytes().hex() for p in folder.rglob("*") if p.is_file()}}


def download(repo_id: str, filename: str, revision: str = "main", token: str | None = None) -> dict:
    """hf_hub_download; an error comes back as its class names, so the test can assert the client's own type."""
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(repo_id, filename, revision=revision, token=token or False)
    except Exception as exc:  # noqa: BLE001 - reported to the test
        return {"error": [cls.__name__ for cls in type(exc).__mro__]}
    data = Path(path).read_bytes()
    return {"bytes": data.hex()} if len(data) < 1 << 20 else {"sha256": hashlib.sha256(data).hexdigest()}


def private(repo_id: str, token: str, original: str) -> dict:
    from huggingface_hub import model_info

    with_token = load(repo_id, "main", token, original)
    try:
        import tempfile

        from transformers import AutoModelForSequenceClassification

        # A fresh cache: a machine that never had the token (the files above are cached).
        AutoModelForSequenceClassification.from_pretrained(repo_id, token=False, cache_dir=tempfile.mkdtemp())
        without = None
    except OSError as exc:  # transformers wraps the client's error; its cause is what the client raised
        cause = exc.__cause__ or exc
        without = [cls.__name__ for cls in type(cause).__mro__]
    try:
        model_info(repo_id, token=False)
        info_error = None
    except Exception as exc:  # noqa: BLE001
        info_error = [cls.__name__ for cls in type(exc).__mro__]
    return {"with_token": with_token, "without_token": without, "info_without_token": info_error}


def api(repo_id: str, tag: str, write_token: str) -> dict:
    """The HfApi read calls, parsed by the client's own classes."""
    from huggingface_hub import HfApi

    hub = HfApi()
    info = hub.model_info(repo_id)
    at_tag = hub.model_info(repo_id, revision=tag)
    tree = list(hub.list_repo_tree(repo_id, recursive=True, expand=True))
    refs = hub.list_repo_refs(repo_id)
    commits = hub.list_repo_commits(repo_id)
    found = [m.id for m in hub.list_models(search=repo_id.split("/")[1], sort="downloads", limit=5)]
    by_author = [m.id for m in hub.list_models(author=repo_id.split("/")[0])]
    # huggingface_hub 2.x dropped HfApi.like (the HF hub likes from the website); unlike remains.
    from huggingface_hub.utils import get_session, hf_raise_for_status

    liked = get_session().post(
        f"{hub.endpoint}/api/models/{repo_id}/like", headers=hub._build_hf_headers(token=write_token)
    )
    hf_raise_for_status(liked)
    likes_after = hub.model_info(repo_id).likes
    hub.unlike(repo_id, token=write_token)
    return {
        "sha": info.sha,
        "tag_sha": at_tag.sha,
        "siblings": sorted(s.rfilename for s in info.siblings),
        "created_at": info.created_at.isoformat(),
        "card_license": info.card_data.license if info.card_data else None,
        "tree": sorted((type(e).__name__, e.path, getattr(e, "last_commit", None) is not None) for e in tree),
        "branches": [(b.name, b.target_commit) for b in refs.branches],
        "tags": [(t.name, t.target_commit) for t in refs.tags],
        "commits": [c.commit_id for c in commits],
        "found": found,
        "by_author": by_author,
        "likes_after": likes_after,
        "likes_end": hub.model_info(repo_id).likes,
    }


if __name__ == "__main__":
    scenario, *args = sys.argv[1:]
    scenarios = {
        "build": build,
        "load": load,
        "snapshot": snapshot,
        "download": download,
        "private": private,
        "api": api,
    }
    result = scenarios[scenario](*args)
    print(json.dumps(result))
