"""Reference tasks: which one a model gets, its fixed data and budget, and the verdict rule.

Pure Python (no Django, no torch at import) so the parent process stays light;
the child process (``child.py``) runs the task this module describes.

Each task is fixed so anyone can reproduce a number: seed, train/test split,
budget (steps, batch size, sequence length or image size, learning rate) and the
dataset's name and sha256. ``budget_scale`` shrinks steps and data for tests; a
published result always uses scale 1.0.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
IMDB_PATH = DATA_DIR / "imdb_subset.csv.gz"
SEED = 1234

TEXT_CLASSIFICATION = "text-classification"
IMAGE_CLASSIFICATION = "image-classification"
CAUSAL_LM = "causal-lm"

TEXT_PIPELINES = {
    "text-classification",
    "fill-mask",
    "feature-extraction",
    "sentence-similarity",
    "token-classification",
    "zero-shot-classification",
    "question-answering",
}
VISION_PIPELINES = {"image-classification", "image-feature-extraction"}
CAUSAL_PIPELINES = {"text-generation"}
# Libraries whose weights transformers loads; anything else (timm, diffusers,
# keras, gguf, ...) has no reference task here yet.
SUPPORTED_LIBRARIES = {"", "transformers", "sentence-transformers"}

# A run passes only if the fine-tuned score beats chance by this much and the
# training loss fell by at least this fraction (mean of the first vs the last
# tenth of the steps).
CHANCE_MARGIN = 0.10
MIN_LOSS_DROP = 0.03


@dataclass(frozen=True)
class TaskSpec:
    name: str  # "imdb-sentiment", "digits", "imdb-next-token"
    kind: str  # one of TEXT_CLASSIFICATION, IMAGE_CLASSIFICATION, CAUSAL_LM
    dataset: str
    dataset_sha256: str
    seed: int
    num_labels: int
    budget: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class Unsupported(Exception):
    """The model fits no reference task; the message says why, for the owner."""


# ---------------------------------------------------------------- datasets


@lru_cache(maxsize=1)
def imdb_csv_bytes() -> bytes:
    return gzip.decompress(IMDB_PATH.read_bytes())


def imdb_sha256() -> str:
    # The hash of the decompressed CSV, so it does not depend on zlib's version.
    return hashlib.sha256(imdb_csv_bytes()).hexdigest()


def load_imdb() -> dict[str, tuple[list[str], list[int]]]:
    """{"train": (texts, labels), "test": (texts, labels)}; labels 0 negative, 1 positive."""
    out: dict[str, tuple[list[str], list[int]]] = {"train": ([], []), "test": ([], [])}
    reader = csv.reader(io.StringIO(imdb_csv_bytes().decode("utf-8")))
    next(reader)
    for split, label, text in reader:
        out[split][0].append(text)
        out[split][1].append(int(label))
    return out


def load_digits_split():
    """scikit-learn's 8x8 digits (1,797 images) with a fixed split: (x_train, y_train, x_test, y_test).

    Images are float32 in [0, 1], shape (n, 8, 8); resizing to the model's input
    happens in the child.
    """
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(SEED).permutation(len(y))
    test, train = order[:397], order[397:]
    return x[train], y[train], x[test], y[test]


def digits_sha256() -> str:
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    digest = hashlib.sha256(digits.images.astype(np.float64).tobytes())
    digest.update(digits.target.astype(np.int64).tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------- tasks


def _scaled(n: int, scale: float, floor: int) -> int:
    return max(floor, int(round(n * scale)))


def text_classification_task(scale: float = 1.0) -> TaskSpec:
    return TaskSpec(
        name="imdb-sentiment",
        kind=TEXT_CLASSIFICATION,
        dataset="IMDB 50k reviews, fixed balanced subset (2,000 train / 500 test)",
        dataset_sha256=imdb_sha256(),
        seed=SEED,
        num_labels=2,
        budget={
            "steps": _scaled(150, scale, 4),
            "batch_size": 32,
            "seq_len": 128,
            "lr_at_width_64": 1e-3,
            "warmup_fraction": 0.1,
            "train_examples": _scaled(2000, scale, 64),
            "test_examples": _scaled(500, scale, 64),
            "eval_batch_size": 64,
        },
    )


def image_classification_task(scale: float = 1.0) -> TaskSpec:
    return TaskSpec(
        name="digits",
        kind=IMAGE_CLASSIFICATION,
        dataset="scikit-learn digits (8x8, 1,797 images; 1,400 train / 397 test)",
        dataset_sha256=digits_sha256(),
        seed=SEED,
        num_labels=10,
        budget={
            "steps": _scaled(150, scale, 4),
            "batch_size": 32,
            "lr_at_width_64": 1e-3,
            "warmup_fraction": 0.1,
            "train_examples": _scaled(1400, scale, 64),
            "test_examples": _scaled(397, scale, 64),
            "eval_batch_size": 64,
        },
    )


def causal_lm_task(scale: float = 1.0) -> TaskSpec:
    return TaskSpec(
        name="imdb-next-token",
        kind=CAUSAL_LM,
        dataset="IMDB 50k reviews, fixed subset: train reviews to tune, held-out test reviews for perplexity",
        dataset_sha256=imdb_sha256(),
        seed=SEED,
        num_labels=0,
        budget={
            "steps": _scaled(150, scale, 4),
            "batch_size": 16,
            "seq_len": 128,
            "lr_at_width_64": 1e-3,
            "warmup_fraction": 0.1,
            "train_examples": _scaled(2000, scale, 64),
            "test_examples": _scaled(200, scale, 16),
            "eval_batch_size": 32,
        },
    )


def model_width(config: dict) -> int:
    """The model's hidden width from its config (768 when the config does not say)."""
    for key in ("hidden_size", "d_model", "n_embd", "dim", "embed_dim"):
        if isinstance(config.get(key), int):
            return config[key]
    sizes = config.get("hidden_sizes")  # CNNs list one width per stage
    return max(sizes) if isinstance(sizes, list) and sizes else 768


def learning_rate(budget: dict, config: dict) -> float:
    """Peak AdamW learning rate: ``lr_at_width_64 * 64 / width``, within [2e-5, 1e-3].

    One fixed number cannot serve a random 64-wide demo model and a pretrained
    768-wide BERT; scaling Adam's step by 1/width (as muP does for hidden
    layers) gives 1e-3 for the first, 8.3e-5 for the second and 6.3e-5 at 1024,
    all usual fine-tuning rates, and stays a fixed rule anyone can recompute.
    """
    return min(1e-3, max(2e-5, budget["lr_at_width_64"] * 64 / model_width(config)))


def _auto_mappings() -> tuple[dict, dict, dict, dict]:
    # Name tables only (model_type -> class name); importing them does not build a model.
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES,
        MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES,
    )

    return (
        CONFIG_MAPPING_NAMES,
        MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES,
        MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES,
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    )


def choose_kind(card_meta: dict, config: dict) -> str:
    """The reference task kind for a model, or raise ``Unsupported``.

    The card's ``pipeline_tag`` (the author's word) wins when the architecture
    can serve it; then the config's ``architectures``; then what transformers
    can build for the ``model_type``.
    """
    library = str(card_meta.get("library_name") or "").lower()
    if library not in SUPPORTED_LIBRARIES:
        raise Unsupported(f"library_name {library!r}: only transformers models have a reference task")
    model_type = config.get("model_type")
    configs, seq_cls, img_cls, clm = _auto_mappings()
    if not model_type or model_type not in configs:
        raise Unsupported(f"model_type {model_type!r} is not an architecture transformers knows")
    can = {TEXT_CLASSIFICATION: model_type in seq_cls, IMAGE_CLASSIFICATION: model_type in img_cls}
    can[CAUSAL_LM] = model_type in clm
    tag = card_meta.get("pipeline_tag") or ""
    for pipelines, kind in ((CAUSAL_PIPELINES, CAUSAL_LM), (TEXT_PIPELINES, TEXT_CLASSIFICATION)):
        if tag in pipelines and can[kind]:
            return kind
    if tag in VISION_PIPELINES and can[IMAGE_CLASSIFICATION]:
        return IMAGE_CLASSIFICATION
    architectures = " ".join(config.get("architectures") or [])
    if ("ForCausalLM" in architectures or "LMHeadModel" in architectures) and can[CAUSAL_LM]:
        return CAUSAL_LM
    if "ForImageClassification" in architectures and can[IMAGE_CLASSIFICATION]:
        return IMAGE_CLASSIFICATION
    for kind in (IMAGE_CLASSIFICATION, TEXT_CLASSIFICATION, CAUSAL_LM):
        if can[kind]:
            return kind
    raise Unsupported(f"{model_type} fits none of the reference tasks (text or image classification, next token)")


def choose_task(card_meta: dict, config: dict, scale: float = 1.0) -> TaskSpec:
    kind = choose_kind(card_meta, config)
    builder = {
        TEXT_CLASSIFICATION: text_classification_task,
        IMAGE_CLASSIFICATION: image_classification_task,
        CAUSAL_LM: causal_lm_task,
    }[kind]
    task = builder(scale)
    task.budget["lr"] = learning_rate(task.budget, config)
    return task


# ---------------------------------------------------------------- verdict


def loss_drop(losses: list[float]) -> float:
    """Relative fall from the mean of the first tenth of the steps to the mean of the last tenth."""
    if len(losses) < 2:
        return 0.0
    k = max(1, len(losses) // 10)
    first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
    return (first - last) / first if first > 0 else 0.0


def judge(task: TaskSpec, metrics: dict) -> tuple[str, str | None, str]:
    """(verdict, reason, message) for a run that trained without error or NaN."""
    drop = loss_drop(metrics.get("loss_curve", {}).get("loss", []))
    if drop < MIN_LOSS_DROP:
        return "failed", "no_learning", f"The training loss did not fall (changed by {-drop:+.1%})."
    if task.kind == CAUSAL_LM:
        before, after = metrics["baseline"]["perplexity"], metrics["finetuned"]["perplexity"]
        uniform = metrics["vocab_size"]
        if not after < uniform * (1 - CHANCE_MARGIN):
            return "failed", "no_learning", f"Perplexity {after:.1f} is no better than guessing among {uniform} tokens."
        return "passed", None, f"Perplexity on held-out text went from {before:.1f} to {after:.1f}."
    chance = metrics["chance_accuracy"]
    acc = metrics["finetuned"]["accuracy"]
    if acc < chance + CHANCE_MARGIN:
        return (
            "failed",
            "no_learning",
            f"Fine-tuned accuracy {acc:.1%} does not beat chance ({chance:.1%}) by {CHANCE_MARGIN:.0%}.",
        )
    probe = metrics["baseline"]["accuracy"]
    return "passed", None, f"Fine-tuned accuracy {acc:.1%} (linear probe {probe:.1%}, chance {chance:.1%})."
