"""The measured part of a validation: linear probe, fine-tune, evaluation.

Runs only inside the child process (``child.py``), after the model is loaded.
Every number a result shows is measured here: scores, the loss curve, training
examples per second and the wall time of each stage.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext

import torch

Emit = Callable[..., None]
MAX_CURVE_POINTS = 500


class NanLoss(Exception):
    pass


def autocast(device: torch.device):
    # bf16 autocast on CUDA only: on CPU it is slower than fp32 for these small matmuls.
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def batches(n: int, batch_size: int, steps: int, seed: int) -> Iterator[torch.Tensor]:
    """``steps`` index batches over n examples: a seeded reshuffle each epoch, the last partial batch dropped."""
    gen = torch.Generator().manual_seed(seed)
    batch_size = min(batch_size, n)
    done = 0
    while True:
        order = torch.randperm(n, generator=gen)
        for start in range(0, n - batch_size + 1, batch_size):
            if done == steps:
                return
            yield order[start : start + batch_size]
            done += 1


def train_loop(
    model: torch.nn.Module,
    make_batch: Callable[[torch.Tensor], dict],
    n_examples: int,
    budget: dict,
    seed: int,
    device: torch.device,
    emit: Emit,
    stage: str = "finetune",
) -> dict:
    """Train every parameter for ``budget["steps"]`` steps; returns the loss curve and speed.

    The same loop serves the fine-tune and the scratch baseline (``stage`` names
    it in the progress events), so the two differ only in their starting weights.
    """
    steps, lr = budget["steps"], budget["lr"]  # lr: set by child.run from reference.learning_rate
    warmup = max(1, int(steps * budget.get("warmup_fraction", 0.1)))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

    def schedule(step: int) -> float:  # linear warm-up, then linear decay to zero
        return (step + 1) / warmup if step < warmup else max(0.0, (steps - step) / max(1, steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    losses: list[float] = []
    seen = 0
    last_emit = 0.0
    start = time.perf_counter()
    for step, idx in enumerate(batches(n_examples, budget["batch_size"], steps, seed), start=1):
        batch = make_batch(idx)
        with autocast(device):
            loss = model(**batch).loss
        value = loss.item()
        if not math.isfinite(value):
            raise NanLoss(f"the training loss became {value} at step {step}")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(value)
        seen += len(idx)
        now = time.perf_counter()
        if now - last_emit > 0.5 or step == steps:
            emit(stage, step=step, total=steps, loss=round(value, 5))
            last_emit = now
    elapsed = time.perf_counter() - start
    return {
        "loss_curve": downsample(losses),
        "train_examples_per_s": round(seen / elapsed, 2) if elapsed > 0 else None,
        "train_examples_seen": seen,
        "train_seconds": round(elapsed, 3),
    }


def downsample(losses: list[float]) -> dict:
    """{"step": [...], "loss": [...]}, averaged into at most MAX_CURVE_POINTS buckets."""
    if len(losses) <= MAX_CURVE_POINTS:
        return {"step": list(range(1, len(losses) + 1)), "loss": [round(v, 5) for v in losses]}
    size = math.ceil(len(losses) / MAX_CURVE_POINTS)
    steps, values = [], []
    for i in range(0, len(losses), size):
        chunk = losses[i : i + size]
        steps.append(i + len(chunk))
        values.append(round(sum(chunk) / len(chunk), 5))
    return {"step": steps, "loss": values}


def pooled(outputs, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """One feature vector per example from a backbone's output (masked mean of the last hidden state)."""
    hidden = outputs.last_hidden_state if hasattr(outputs, "last_hidden_state") else outputs[0]
    if hidden.dim() == 4:  # CNNs: (batch, channels, height, width)
        return hidden.float().mean(dim=(2, 3))
    if attention_mask is not None:
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float()
    return hidden.float().mean(dim=1)


@torch.no_grad()
def features(backbone: torch.nn.Module, make_batch: Callable, n: int, batch_size: int, device) -> torch.Tensor:
    backbone.eval()
    out = []
    for start in range(0, n, batch_size):
        batch = make_batch(torch.arange(start, min(n, start + batch_size)))
        batch.pop("labels", None)
        with autocast(device):
            outputs = backbone(**batch)
        out.append(pooled(outputs, batch.get("attention_mask")).cpu())
    return torch.cat(out)


def linear_probe(train_x: torch.Tensor, train_y, test_x: torch.Tensor, test_y, seed: int) -> dict:
    """The untuned baseline: a new linear head (logistic regression) on frozen backbone features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x.numpy())
    head = LogisticRegression(max_iter=1000, random_state=seed)
    head.fit(scaler.transform(train_x.numpy()), train_y)
    predictions = head.predict(scaler.transform(test_x.numpy()))
    return scores(test_y, predictions) | {"method": "linear probe (logistic regression on mean-pooled features)"}


def scores(truth, predictions) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": round(float(accuracy_score(truth, predictions)), 4),
        "macro_f1": round(float(f1_score(truth, predictions, average="macro")), 4),
    }


@torch.no_grad()
def predict(model: torch.nn.Module, make_batch: Callable, n: int, batch_size: int, device) -> list[int]:
    model.eval()
    out: list[int] = []
    for start in range(0, n, batch_size):
        batch = make_batch(torch.arange(start, min(n, start + batch_size)))
        batch.pop("labels", None)
        with autocast(device):
            logits = model(**batch).logits
        out += logits.argmax(-1).tolist()
    return out


@torch.no_grad()
def perplexity(model: torch.nn.Module, blocks: torch.Tensor, batch_size: int, device) -> float:
    """exp(mean next-token loss) over fixed blocks of held-out token ids."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(blocks), batch_size):
        ids = blocks[start : start + batch_size].to(device)
        with autocast(device):
            loss = model(input_ids=ids, labels=ids).loss
        n = ids.numel() - ids.shape[0]  # each block predicts all but its first token
        total += loss.float().item() * n
        count += n
    return round(math.exp(min(total / count, 50.0)), 3)
