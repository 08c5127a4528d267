"""The validation child process: ``python -m models_app.validation.child JOB_JSON EVENT_FD``.

``runner.run_validation`` starts it with resource limits, a private temp dir and
an environment without secrets. It loads the model from the local snapshot
(safetensors only, no remote code, offline), runs each task of the reference
suite (linear probe, fine-tune, and the same architecture trained from scratch
unless the job brings that result from the cache), and writes JSON lines to
EVENT_FD: progress events ``{"stage", "step", "total", "loss", "task",
"task_index", "tasks"}`` and one final ``{"result": {...}}``. Its stdout and
stderr are the run's log.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import sys
import time
import traceback
from pathlib import Path

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "tokenizer.model",
    "sentencepiece.bpe.model",
)


class Failure(Exception):
    """A typed outcome: ``reason`` is one of the verdict reasons in runner.REASONS."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Events:
    def __init__(self, fd: int) -> None:
        self.stream = os.fdopen(fd, "w", buffering=1)
        self.context: dict = {}  # which task of the suite the events belong to

    def __call__(self, stage: str, step: int = 0, total: int = 0, loss: float | None = None) -> None:
        self.send({"stage": stage, "step": step, "total": total, "loss": loss, **self.context})

    def send(self, event: dict) -> None:
        self.stream.write(json.dumps(event) + "\n")
        self.stream.flush()


LOAD_KWARGS = {"use_safetensors": True, "trust_remote_code": False, "local_files_only": True}


def load_tokenizer(snapshot: Path):
    from transformers import AutoTokenizer

    if not any((snapshot / name).exists() for name in TOKENIZER_FILES):
        raise Failure("tokenizer_missing", "The revision has no tokenizer files (tokenizer.json, vocab.txt, ...).")
    try:
        tok = AutoTokenizer.from_pretrained(snapshot, trust_remote_code=False, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here is the model's tokenizer
        raise Failure("tokenizer_missing", f"The tokenizer did not load: {type(exc).__name__}: {exc}")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token or tok.unk_token
    return tok


def load_model(auto_class, snapshot: Path, **kwargs):
    """Load from safetensors only; a new task head is expected, a re-initialised backbone is a load_error."""
    try:
        model, info = auto_class.from_pretrained(snapshot, output_loading_info=True, **LOAD_KWARGS, **kwargs)
    except (MemoryError, Failure):
        raise
    except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad checkpoint
        if is_oom(exc):
            raise
        raise Failure("load_error", f"The model did not load: {type(exc).__name__}: {exc}")
    # ignore_mismatched_sizes lets a checkpoint with another label count load, but it
    # would also silently re-initialise a backbone that does not match its config.
    prefix = f"{model.base_model_prefix}."
    mismatched = [key for key, *_ in info.get("mismatched_keys", []) if key.startswith(prefix)]
    if mismatched:
        raise Failure("load_error", f"Weights do not match the config's shapes: {', '.join(mismatched[:5])}")
    backbone = [name for name, _ in model.named_parameters() if name.startswith(prefix)]
    missing = [key for key in info.get("missing_keys", []) if key.startswith(prefix)]
    if backbone and len(missing) > 0.1 * len(backbone):
        raise Failure(
            "load_error", f"{len(missing)} of {len(backbone)} backbone weights are missing from the checkpoint."
        )
    return model


def is_oom(exc: BaseException) -> bool:
    # RLIMIT_AS shows up as MemoryError, torch's "can't allocate memory", or, while
    # importing, a shared library that cannot be mapped ("Cannot allocate memory").
    text = str(exc).lower()
    needles = ("out of memory", "can't allocate memory", "cannot allocate memory", "failed to map segment")
    return isinstance(exc, MemoryError) or any(n in text for n in needles)


class Prepared:
    """One task's data, ready for a model: batches by index, the labels, and the loss-free test set."""

    def __init__(self, maker, train_y, test_y):
        self.maker, self.train_y, self.test_y = maker, train_y, test_y


def task_text(task: dict) -> dict:
    """{"train": (texts, labels), "test": (...)}: a registered dataset, or a user's (the finder's ``data_file``)."""
    if task.get("data_file"):
        data = json.loads(Path(task["data_file"]).read_text(encoding="utf-8"))
        return {split: (data[split]["texts"], data[split]["labels"]) for split in ("train", "test")}
    from models_app.validation.datasets import load_text

    return load_text(task["data"])


def task_images(task: dict):
    """(x_train, y_train, x_test, y_test) float32 images and int64 labels, registered or the user's."""
    if task.get("data_file"):
        import numpy as np

        with np.load(task["data_file"], allow_pickle=False) as data:
            return data["x_train"], data["y_train"], data["x_test"], data["y_test"]
    from models_app.validation.datasets import load_images

    return load_images(task["data"])


def encode_texts(tok, texts, labels, seq_len: int):
    import torch

    enc = tok(list(texts), truncation=True, max_length=seq_len, padding="max_length", return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"], torch.tensor(list(labels), dtype=torch.long)


def text_seq_len(model, wanted: int) -> int:
    return min(wanted, getattr(model.config, "max_position_embeddings", None) or wanted)


def prepare_text(snapshot: Path, task: dict, model, device) -> Prepared:
    budget = task["budget"]
    tok = load_tokenizer(snapshot)
    model.config.pad_token_id = tok.pad_token_id
    seq_len = text_seq_len(model, budget["seq_len"])
    data = task_text(task)
    encoded = {}
    for split, n in (("train", budget["train_examples"]), ("test", budget["test_examples"])):
        texts, labels = data[split]
        encoded[split] = encode_texts(tok, texts[:n], labels[:n], seq_len)

    def maker(split: str):
        ids, mask, labels = encoded[split]

        def make_batch(idx):
            return {
                "input_ids": ids[idx].to(device),
                "attention_mask": mask[idx].to(device),
                "labels": labels[idx].to(device),
            }

        return make_batch

    return Prepared(maker, encoded["train"][2], encoded["test"][2])


def image_batcher(snapshot: Path, model, default_size: int, device):
    """``pixels(images)``: a batch of (n, H, W) images in [0, 1] as the model's normalised input."""
    import torch
    import torch.nn.functional as F

    processor = {}
    if (snapshot / "preprocessor_config.json").exists():
        processor = json.loads((snapshot / "preprocessor_config.json").read_text())
    # A model that fixes its input size (a ViT's patch grid) gets it; a CNN takes the task's.
    size = getattr(model.config, "image_size", None) or default_size
    size = size["height"] if isinstance(size, dict) else (size[0] if isinstance(size, list | tuple) else size)
    channels = getattr(model.config, "num_channels", 3)

    def norm(key: str) -> torch.Tensor:
        values = list(processor.get(key) or [0.5])
        values = (values * channels)[:channels] if len(values) < channels else values[:channels]
        return torch.tensor(values, dtype=torch.float32).view(1, -1, 1, 1)

    mean, std = norm("image_mean"), norm("image_std")

    def pixels(batch):
        # Resized per batch: a 224x224 copy of every image would need a gigabyte.
        resized = F.interpolate(batch.unsqueeze(1), size=(size, size), mode="bilinear")
        return ((resized.expand(-1, channels, -1, -1) - mean) / std).to(device)

    return pixels


def prepare_images(snapshot: Path, task: dict, model, device) -> Prepared:
    import torch

    budget = task["budget"]
    pixels = image_batcher(snapshot, model, budget["image_size"], device)
    x_train, y_train, x_test, y_test = task_images(task)
    images = {
        "train": torch.from_numpy(x_train[: budget["train_examples"]]),
        "test": torch.from_numpy(x_test[: budget["test_examples"]]),
    }
    labels = {
        "train": torch.from_numpy(y_train[: budget["train_examples"]]),
        "test": torch.from_numpy(y_test[: budget["test_examples"]]),
    }

    def maker(split: str):
        def make_batch(idx):
            return {"pixel_values": pixels(images[split][idx]), "labels": labels[split][idx].to(device)}

        return make_batch

    return Prepared(maker, labels["train"], labels["test"])


def classification(snapshot: Path, task: dict, device, emit: Events, scratch: dict | None) -> dict:
    """Linear probe and fine-tune of the uploaded weights, then the scratch baseline (unless cached)."""
    import torch
    from transformers import AutoModelForImageClassification, AutoModelForSequenceClassification

    from models_app.validation import training

    text = task["kind"] == "text-classification"
    auto_class = AutoModelForSequenceClassification if text else AutoModelForImageClassification
    prepare = prepare_text if text else prepare_images
    budget, seed, timings = task["budget"], task["seed"], {}
    torch.manual_seed(seed)  # the new head's initial weights
    model = load_model(auto_class, snapshot, num_labels=task["num_labels"], ignore_mismatched_sizes=True)
    data = prepare(snapshot, task, model, device)
    model.to(device)
    train_n, test_n = len(data.train_y), len(data.test_y)

    started = time.perf_counter()
    emit("baseline", 0, 2)
    train_x = training.features(model.base_model, data.maker("train"), train_n, budget["eval_batch_size"], device)
    emit("baseline", 1, 2)
    test_x = training.features(model.base_model, data.maker("test"), test_n, budget["eval_batch_size"], device)
    if not (train_x.isfinite().all() and test_x.isfinite().all()):
        raise training.NanLoss("the model's outputs are NaN or infinite before any training")
    probe = training.linear_probe(train_x, data.train_y.numpy(), test_x, data.test_y.numpy(), seed)
    emit("baseline", 2, 2)
    timings["probe"] = time.perf_counter() - started
    # What the finder's estimators predict from the same frozen training features: across the
    # hub's models, the leaderboards compare their order with the fine-tuned order (Kendall's tau).
    estimates = transfer_estimates(train_x.numpy(), data.train_y.numpy(), model.base_model)

    started = time.perf_counter()
    emit("finetune", 0, budget["steps"])
    train = training.train_loop(model, data.maker("train"), train_n, budget, seed, device, emit)
    timings["finetune"] = time.perf_counter() - started
    started = time.perf_counter()
    emit("evaluate", 0, 1)
    predictions = training.predict(model, data.maker("test"), test_n, budget["eval_batch_size"], device)
    timings["evaluate"] = time.perf_counter() - started
    emit("evaluate", 1, 1)
    config = model.config
    del model

    if scratch is None and task.get("scratch", True):
        started = time.perf_counter()
        torch.manual_seed(seed)
        fresh = auto_class.from_config(config).to(device)
        emit("scratch", 0, budget["steps"])
        trained = training.train_loop(fresh, data.maker("train"), train_n, budget, seed, device, emit, stage="scratch")
        scratch_predictions = training.predict(fresh, data.maker("test"), test_n, budget["eval_batch_size"], device)
        del fresh
        scratch = {
            "scratch": training.scores(data.test_y.numpy(), scratch_predictions),
            "scratch_loss_curve": trained["loss_curve"],
            "scratch_seconds": round(time.perf_counter() - started, 3),
        }
        timings["scratch"] = scratch["scratch_seconds"]
    counts = data.test_y.bincount(minlength=task["num_labels"])
    return (
        train
        | (scratch or {})
        | {
            "probe": probe,
            "estimates": estimates,
            "finetuned": training.scores(data.test_y.numpy(), predictions),
            "chance_accuracy": round(float(counts.max()) / test_n, 4),
            "test_examples": test_n,
            "train_examples": train_n,
            "stage_seconds": timings,
        }
    )


def transfer_estimates(features, labels, backbone) -> dict:
    """k-NN, LogME, cross-validated probe and the parameter-count baseline; None where one cannot run."""
    from models_app.validation.estimators import param_count_baseline, score_all

    try:
        estimates = score_all(features, labels)
    except ValueError:
        estimates = {}
    params = sum(p.numel() for p in backbone.parameters())
    return estimates | {"num_parameters": int(params), "param_baseline": param_count_baseline(params)}


def causal_lm(snapshot: Path, task: dict, device, emit: Events, scratch: dict | None) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    from models_app.validation import training
    from models_app.validation.datasets import load_text

    budget, seed, timings = task["budget"], task["seed"], {}
    tok = load_tokenizer(snapshot)
    model = load_model(AutoModelForCausalLM, snapshot)
    model.to(device)
    limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
    seq_len = min(budget["seq_len"], limit or budget["seq_len"])
    data = load_text(task["data"])

    def blocks(texts: list[str]) -> torch.Tensor:
        # Reviews joined with the end-of-text token and cut into equal blocks (no padding).
        sep = [tok.eos_token_id] if tok.eos_token_id is not None else []
        stream = [i for ids in tok(list(texts), add_special_tokens=False)["input_ids"] for i in ids + sep]
        n = len(stream) // seq_len
        return torch.tensor(stream[: n * seq_len]).view(n, seq_len)

    train_blocks = blocks(data["train"][0][: budget["train_examples"]])
    test_blocks = blocks(data["test"][0][: budget["test_examples"]])
    started = time.perf_counter()
    emit("baseline", 0, 1)
    before = training.perplexity(model, test_blocks, budget["eval_batch_size"], device)
    emit("baseline", 1, 1)
    timings["probe"] = time.perf_counter() - started

    def make_batch(idx):
        ids = train_blocks[idx].to(device)
        return {"input_ids": ids, "labels": ids}

    started = time.perf_counter()
    emit("finetune", 0, budget["steps"])
    train = training.train_loop(model, make_batch, len(train_blocks), budget, seed, device, emit)
    timings["finetune"] = time.perf_counter() - started
    started = time.perf_counter()
    emit("evaluate", 0, 1)
    after = training.perplexity(model, test_blocks, budget["eval_batch_size"], device)
    timings["evaluate"] = time.perf_counter() - started
    emit("evaluate", 1, 1)
    config = model.config
    del model
    if scratch is None:
        started = time.perf_counter()
        torch.manual_seed(seed)
        fresh = AutoModelForCausalLM.from_config(config).to(device)
        emit("scratch", 0, budget["steps"])
        trained = training.train_loop(fresh, make_batch, len(train_blocks), budget, seed, device, emit, stage="scratch")
        scratch = {
            "scratch": {"perplexity": training.perplexity(fresh, test_blocks, budget["eval_batch_size"], device)},
            "scratch_loss_curve": trained["loss_curve"],
            "scratch_seconds": round(time.perf_counter() - started, 3),
        }
        timings["scratch"] = scratch["scratch_seconds"]
    return (
        train
        | scratch
        | {
            "probe": {"perplexity": before, "method": "the model as uploaded"},
            "finetuned": {"perplexity": after},
            "vocab_size": len(tok),
            "eval_tokens": int(test_blocks.numel()),
            "train_blocks": len(train_blocks),
            "stage_seconds": timings,
        }
    )


def extract_features(job: dict, emit: Events) -> dict:
    """Frozen features of a user's examples (the finder): mean-pooled, as the linear probe uses them.

    ``job["data_file"]`` is the finder's JSON (texts) or npz (images) of every
    example; the features go to ``job["out"]`` as a float32 ``.npy`` (no pickle).
    """
    import numpy as np
    import torch
    from transformers import AutoModelForImageClassification, AutoModelForSequenceClassification

    from models_app.validation import training

    snapshot, kind, budget = Path(job["snapshot_dir"]), job["kind"], job["budget"]
    torch.set_num_threads(job.get("threads") or torch.get_num_threads())
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    emit("load", 0, 1)
    text = kind == "text-classification"
    auto_class = AutoModelForSequenceClassification if text else AutoModelForImageClassification
    model = load_model(auto_class, snapshot, num_labels=2, ignore_mismatched_sizes=True)
    model.to(device)
    if text:
        tok = load_tokenizer(snapshot)
        data = json.loads(Path(job["data_file"]).read_text(encoding="utf-8"))
        ids, mask, _ = encode_texts(
            tok, data["texts"], [0] * len(data["texts"]), text_seq_len(model, budget["seq_len"])
        )
        n = len(ids)

        def make_batch(idx):
            return {"input_ids": ids[idx].to(device), "attention_mask": mask[idx].to(device)}
    else:
        pixels = image_batcher(snapshot, model, budget["image_size"], device)
        with np.load(job["data_file"], allow_pickle=False) as data:
            images = torch.from_numpy(data["x"])
        n = len(images)

        def make_batch(idx):
            return {"pixel_values": pixels(images[idx])}

    started = time.perf_counter()
    emit("baseline", 0, 1)
    features = training.features(model.base_model, make_batch, n, budget["eval_batch_size"], device)
    if not features.isfinite().all():
        raise training.NanLoss("the model's outputs are NaN or infinite")
    np.save(job["out"], features.numpy().astype(np.float32), allow_pickle=False)
    emit("baseline", 1, 1)
    return {
        "examples": n,
        "dim": int(features.shape[1]),
        "num_parameters": int(sum(p.numel() for p in model.base_model.parameters())),
        "seconds": round(time.perf_counter() - started, 3),
        "device": str(device),
    }


RUNNERS = {
    "text-classification": classification,
    "image-classification": classification,
    "causal-lm": causal_lm,
}


def run(job: dict, emit: Events) -> dict:
    """Every task of the suite in turn; a failure of one task (bad weights, NaN) fails the run."""
    import numpy as np
    import torch
    import transformers

    from models_app.validation.reference import task_gain

    suite, snapshot = job["suite"], Path(job["snapshot_dir"])
    cached = job.get("scratch") or {}
    torch.set_num_threads(job.get("threads") or torch.get_num_threads())
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    emit("load", 0, 1)
    started = time.perf_counter()
    results = []
    for index, task in enumerate(suite["tasks"]):
        random.seed(task["seed"])
        np.random.seed(task["seed"])
        emit.context = {"task": task["name"], "task_index": index, "tasks": len(suite["tasks"])}
        task_started = time.perf_counter()
        known = cached.get(task["name"])
        result = RUNNERS[task["kind"]](snapshot, task, device, emit, known)
        result["scratch_cached"] = known is not None
        result["gain"] = task_gain(result, task["metric"])
        result["stage_seconds"]["total"] = time.perf_counter() - task_started
        result["stage_seconds"] = {k: round(v, 3) for k, v in result["stage_seconds"].items()}
        result["lr"] = task["budget"]["lr"]
        results.append({"name": task["name"], "title": task["title"], "metric": task["metric"]} | result)
    metrics: dict = {"tasks": results, "stage_seconds": {"suite": round(time.perf_counter() - started, 3)}}
    metrics["peak_memory_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    metrics["device"] = (
        torch.cuda.get_device_name(0)
        if device.type == "cuda"
        else f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    )
    if device.type == "cuda":
        metrics["peak_gpu_memory_bytes"] = torch.cuda.max_memory_allocated()
        metrics["precision"] = "bf16 autocast"
    else:
        metrics["precision"] = "fp32"
    metrics["seed"] = suite["tasks"][0]["seed"]
    metrics["torch_version"] = torch.__version__
    metrics["transformers_version"] = transformers.__version__
    metrics["python_version"] = platform.python_version()
    return metrics


def apply_limits(limits: dict) -> None:
    """CPU-time and address-space caps, set first thing: no model byte is read before them."""
    cpu = limits.get("cpu_seconds")
    if cpu:
        # Past the soft limit the kernel sends SIGXCPU (the parent reports a timeout), past the hard one SIGKILL.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 30))
    if limits.get("memory_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process soon after the worker that started it dies (kill -9 of a worker leaves no orphan).

    A daemon thread watches the parent id: an orphan is re-parented, so its
    ``getppid()`` changes. Polling keeps to public Python (Linux's
    ``PR_SET_PDEATHSIG`` has no Python API); a quarter of a second is far
    shorter than any run.
    """
    import signal
    import threading

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.25)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    die_with_parent(job.get("parent_pid", os.getppid()))
    apply_limits(job.get("limits") or {})
    emit = Events(int(sys.argv[2]))
    try:
        work = extract_features if job.get("mode") == "features" else run
        result = {"status": "ok", "metrics": work(job, emit)}
    except Failure as exc:
        result = {"status": "failed", "reason": exc.reason, "message": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - report every failure as a typed result, never a bare crash
        traceback.print_exc()
        if is_oom(exc):
            result = {"status": "failed", "reason": "oom", "message": f"Out of memory: {exc}"[:500]}
        elif type(exc).__name__ == "NanLoss":  # checked by name: training may not have imported
            result = {"status": "failed", "reason": "nan_loss", "message": str(exc)}
        else:
            result = {"status": "failed", "reason": "internal_error", "message": f"{type(exc).__name__}: {exc}"[:500]}
    emit.send({"result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
