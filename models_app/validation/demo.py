"""The demo model: a tiny BERT and its WordPiece tokenizer, built locally (no downloads).

``publish_demo`` publishes it as ``demo/tiny-bert`` so a newcomer's first page
shows a model with numbers the worker measured. The vocabulary is the most
frequent words of the shipped IMDB subset, so the model can learn the
sentiment task within the reference budget. Same builder as the test factory
``tests/factories/tiny_models.build_tiny_bert`` (tests are not importable at run
time). Run ``python -m models_app.validation.demo OUT_DIR`` to build it in a
child process, which keeps torch out of the caller.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

DEMO_OWNER = "demo"
DEMO_NAME = "tiny-bert"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-():;/&*")

CARD = """---
license: apache-2.0
library_name: transformers
pipeline_tag: feature-extraction
language:
- en
tags:
- demo
- bert
---

# demo/tiny-bert

A tiny BERT encoder (2 layers, hidden size 64, about 0.3M parameters) with a
WordPiece tokenizer whose vocabulary is the 2,000 most frequent words of the
hub's IMDB reference subset. Its weights are random (seeded): it exists to show
what TransferHub measures, and what an untrained starting point is worth. The
**Validation** tab shows it on the text suite (IMDB sentiment, fortune topics,
fortune languages): for each task a linear probe on the frozen encoder, a full
fine-tune within a fixed budget, and the same network trained from scratch,
scored on held-out data. Compare it with the pretrained models under `zoo`.

Built locally by `manage.py publish_demo` (no downloads).
"""


def build_word_vocab(n_words: int = 2000) -> list[str]:
    """Special tokens, single characters (and their ## pieces), then the most frequent train words."""
    from models_app.validation.datasets import load_imdb_file

    texts, _ = load_imdb_file()["train"]
    counts = Counter(w for t in texts for w in re.findall(r"[a-z0-9]+", t.lower()))
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if w not in CHARS]
    return SPECIAL_TOKENS + CHARS + [f"##{c}" for c in CHARS] + words[:n_words]


def build_tiny_bert(
    out: Path, *, hidden: int = 64, layers: int = 2, vocab_words: int = 2000, card: bool = True
) -> Path:
    """Write config, safetensors weights, tokenizer files (and README.md with ``card``) into ``out``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = build_word_vocab(vocab_words)
    # transformers 5 takes the vocabulary as a dict (a vocab_file argument is silently ignored).
    BertTokenizerFast(
        vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True, model_max_length=256
    ).save_pretrained(out)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=256,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(out, safe_serialization=True)
    if card:
        (out / "README.md").write_text(CARD, encoding="utf-8")
    return out


if __name__ == "__main__":
    build_tiny_bert(Path(sys.argv[1]))
