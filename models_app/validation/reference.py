"""The reference suites: which one a model gets, each task's fixed data and budget, and the verdict rule.

Pure Python (no Django, no torch at import) so the parent process stays light;
the child process (``child.py``) runs the suite this module describes.

A model is validated on the *suite* of its modality, in the spirit of VTAB-1k:
every text-classification task, every image-classification task, or the
next-token task. Each task is fixed so anyone can reproduce a number: seed,
dataset (its registry name and sha256, see ``datasets.py``), train/test split
and budget (steps, batch size, sequence length or image size, learning rate).
For each task the child measures a linear probe on frozen features, a
fine-tune, and the same architecture trained from random initialisation with
the same budget (the scratch baseline), so every score reads as transfer gain.
``budget_scale`` shrinks steps and data for tests; a published result always
uses scale 1.0.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from models_app.validation.datasets import NEXT_TOKEN_TASK as NEXT_TOKEN

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

# A run passes only if the suite's mean fine-tuned score beats the mean chance
# accuracy by this much and the training loss fell by at least this fraction on
# average (mean of the first vs the last tenth of the steps).
CHANCE_MARGIN = 0.10
MIN_LOSS_DROP = 0.03


@dataclass(frozen=True)
class TaskSpec:
    name: str  # "imdb", "sklearn-digits", "imdb-next-token", ...
    kind: str  # one of TEXT_CLASSIFICATION, IMAGE_CLASSIFICATION, CAUSAL_LM
    title: str
    data: str  # the dataset's name in datasets.DATASETS
    dataset: str  # what a person reads: title, sizes
    dataset_sha256: str
    seed: int
    num_labels: int
    budget: dict = field(default_factory=dict)

    @property
    def metric(self) -> str:
        return "perplexity" if self.kind == CAUSAL_LM else "accuracy"

    def to_dict(self) -> dict:
        return asdict(self) | {"metric": self.metric}

    def fingerprint(self) -> str:
        """A hash of everything that decides a scratch result: data, seed and budget."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class SuiteSpec:
    name: str  # "text", "image", "causal-lm"
    title: str
    kind: str
    tasks: list[TaskSpec]

    @property
    def metric(self) -> str:
        return self.tasks[0].metric

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "metric": self.metric,
            "tasks": [task.to_dict() for task in self.tasks],
        }


class Unsupported(Exception):
    """The model fits no reference suite; the message says why, for the owner."""


# ---------------------------------------------------------------- tasks and suites

# The budgets at scale 1.0. Chosen so a small model's suite takes a few minutes
# on 2 CPUs (see docs/validation.md): at most 1,000 training examples a task,
# about 1.6 passes over them for text, 3.2 for images.
TEXT_BUDGET = {
    "steps": 100,
    "batch_size": 16,
    "seq_len": 64,
    "lr_at_width_64": 1e-3,
    "warmup_fraction": 0.1,
    "train_examples": 1000,
    "test_examples": 500,
    "eval_batch_size": 64,
}
IMAGE_BUDGET = {
    "steps": 100,
    "batch_size": 32,
    "image_size": 28,  # used when the model's config names no image_size
    "lr_at_width_64": 1e-3,
    "warmup_fraction": 0.1,
    "train_examples": 1000,
    "test_examples": 500,
    "eval_batch_size": 128,
}
CAUSAL_BUDGET = {
    "steps": 150,
    "batch_size": 16,
    "seq_len": 128,
    "lr_at_width_64": 1e-3,
    "warmup_fraction": 0.1,
    "train_examples": 1000,
    "test_examples": 200,
    "eval_batch_size": 32,
}

SUITE_TITLES = {
    TEXT_CLASSIFICATION: ("text", "Text classification suite"),
    IMAGE_CLASSIFICATION: ("image", "Image classification suite"),
    CAUSAL_LM: ("causal-lm", "Next-token suite"),
}


def _scaled(n: int, scale: float, floor: int) -> int:
    return max(floor, int(round(n * scale)))


def _budget(base: dict, scale: float) -> dict:
    budget = dict(base)
    budget["steps"] = _scaled(base["steps"], scale, 4)
    budget["train_examples"] = _scaled(base["train_examples"], scale, 64)
    budget["test_examples"] = _scaled(base["test_examples"], scale, 16 if base is CAUSAL_BUDGET else 64)
    return budget


def classification_task(name: str, scale: float = 1.0) -> TaskSpec:
    from models_app.validation import datasets

    info = datasets.DATASETS[name]
    kind = TEXT_CLASSIFICATION if info.modality == "text" else IMAGE_CLASSIFICATION
    budget = _budget(TEXT_BUDGET if kind == TEXT_CLASSIFICATION else IMAGE_BUDGET, scale)
    budget["train_examples"] = min(budget["train_examples"], info.train_size)
    budget["test_examples"] = min(budget["test_examples"], info.test_size)
    return TaskSpec(
        name=name,
        kind=kind,
        title=info.title,
        data=name,
        dataset=f"{info.title}: {info.description} ({info.train_size:,} train / {info.test_size:,} test)",
        dataset_sha256=datasets.sha256(name),
        seed=SEED,
        num_labels=len(info.labels),
        budget=budget,
    )


def causal_lm_task(scale: float = 1.0) -> TaskSpec:
    from models_app.validation import datasets

    return TaskSpec(
        name=NEXT_TOKEN,
        kind=CAUSAL_LM,
        title="IMDB next token",
        data="imdb",
        dataset="IMDB movie reviews: train reviews to tune, held-out test reviews for perplexity",
        dataset_sha256=datasets.sha256("imdb"),
        seed=SEED,
        num_labels=0,
        budget=_budget(CAUSAL_BUDGET, scale),
    )


def suite_for(kind: str, scale: float = 1.0) -> SuiteSpec:
    """Every reference task of one kind, in the registry's order."""
    from models_app.validation import datasets

    name, title = SUITE_TITLES[kind]
    if kind == CAUSAL_LM:
        tasks = [causal_lm_task(scale)]
    else:
        modality = "text" if kind == TEXT_CLASSIFICATION else "image"
        tasks = [classification_task(n, scale) for n, i in datasets.DATASETS.items() if i.modality == modality]
    return SuiteSpec(name=name, title=title, kind=kind, tasks=tasks)


def all_suites(scale: float = 1.0) -> list[SuiteSpec]:
    return [suite_for(kind, scale) for kind in (TEXT_CLASSIFICATION, IMAGE_CLASSIFICATION, CAUSAL_LM)]


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


def choose_suite(card_meta: dict, config: dict, scale: float = 1.0) -> SuiteSpec:
    """The suite a model is validated on, each task's learning rate set for the model's width."""
    suite = suite_for(choose_kind(card_meta, config), scale)
    for task in suite.tasks:
        task.budget["lr"] = learning_rate(task.budget, config)
    return suite


# ---------------------------------------------------------------- verdict


def loss_drop(losses: list[float]) -> float:
    """Relative fall from the mean of the first tenth of the steps to the mean of the last tenth."""
    if len(losses) < 2:
        return 0.0
    k = max(1, len(losses) // 10)
    first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
    return (first - last) / first if first > 0 else 0.0


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if isinstance(v, int | float)]
    return round(sum(values) / len(values), 4) if values else None


def suite_summary(suite: SuiteSpec, tasks: list[dict]) -> dict:
    """The suite's means over its tasks: probe, fine-tuned, scratch, gain over scratch, chance.

    Gain is fine-tuned minus scratch in the metric's units, signed so that a
    positive gain is always better (for perplexity: scratch minus fine-tuned).
    """
    metric = suite.metric
    out = {"metric": metric, "tasks": len(tasks)}
    for part in ("probe", "finetuned", "scratch"):
        out[part] = _mean([(t.get(part) or {}).get(metric) for t in tasks])
    out["gain"] = _mean([t.get("gain") for t in tasks])
    out["chance"] = _mean([t.get("chance_accuracy") for t in tasks])
    out["loss_drop"] = _mean([loss_drop((t.get("loss_curve") or {}).get("loss", [])) for t in tasks])
    return out


def task_gain(task: dict, metric: str) -> float | None:
    tuned, scratch = (task.get("finetuned") or {}).get(metric), (task.get("scratch") or {}).get(metric)
    if not isinstance(tuned, int | float) or not isinstance(scratch, int | float):
        return None
    return round(scratch - tuned if metric == "perplexity" else tuned - scratch, 4)


def judge(suite: SuiteSpec, metrics: dict) -> tuple[str, str | None, str]:
    """(verdict, reason, message) for a suite that ran without error or NaN, from ``metrics["suite"]``."""
    summary = metrics["suite"]
    drop = summary.get("loss_drop") or 0.0
    if drop < MIN_LOSS_DROP:
        return "failed", "no_learning", f"The training loss did not fall (changed by {-drop:+.1%} on average)."
    if suite.kind == CAUSAL_LM:
        task = metrics["tasks"][0]
        after, scratch = task["finetuned"]["perplexity"], (task.get("scratch") or {}).get("perplexity")
        uniform = task["vocab_size"]
        if not after < uniform * (1 - CHANCE_MARGIN):
            return "failed", "no_learning", f"Perplexity {after:.1f} is no better than guessing among {uniform} tokens."
        versus = f" ({scratch:.1f} from scratch)" if isinstance(scratch, int | float) else ""
        before = task["probe"]["perplexity"]
        return "passed", None, f"Perplexity on held-out text went from {before:.1f} to {after:.1f}{versus}."
    chance, tuned = summary["chance"], summary["finetuned"]
    n = summary["tasks"]
    if tuned is None or chance is None or tuned < chance + CHANCE_MARGIN:
        return (
            "failed",
            "no_learning",
            f"Mean fine-tuned accuracy {tuned or 0:.1%} over {n} tasks does not beat chance "
            f"({chance or 0:.1%}) by {CHANCE_MARGIN:.0%}.",
        )
    gain = summary.get("gain")
    tail = f"; {gain * 100:+.1f} points over the same network trained from scratch" if gain is not None else ""
    return (
        "passed",
        None,
        f"Mean accuracy over {n} tasks: {tuned:.1%} fine-tuned, {summary['probe'] or 0:.1%} linear probe{tail}.",
    )
