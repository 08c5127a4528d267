"""Training speed of the validation harness against a bare PyTorch loop, in the same run.

Both fine-tune the same tiny BERT (built here, as the demo model) on the same
IMDB batches (the text suite's budget: batch 16, length 64) in a fresh process
with the same thread count. The harness figure is the IMDB task's
``train_examples_per_s`` from ``run_validation`` (the whole text suite runs; only
the first task's fine-tune is compared)
(its loop adds the LR schedule, gradient clipping, the NaN check and progress
events); the bare loop is forward, backward, AdamW step and nothing else.
Each is measured with and without ``GLIBC_TUNABLES`` (runner.MALLOC_TUNABLES),
interleaved, so machine noise hits both sides alike.

    python bench/bench_training.py            # full reference budget (100 steps)
    python bench/bench_training.py --steps 40 # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models_app.validation import reference, runner  # noqa: E402
from tests.factories.tiny_models import build_tiny_bert  # noqa: E402

BARE_LOOP = r"""
import json, sys, time, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from models_app.validation.datasets import load_text
snapshot, steps, batch, seq_len, lr, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
torch.manual_seed(seed)
torch.set_num_threads(int(sys.argv[7]))
tok = AutoTokenizer.from_pretrained(snapshot, local_files_only=True)
model = AutoModelForSequenceClassification.from_pretrained(snapshot, num_labels=2, use_safetensors=True, local_files_only=True)
texts, labels = load_text("imdb")["train"]
enc = tok(texts, truncation=True, max_length=seq_len, padding="max_length", return_tensors="pt")
ids, mask, y = enc["input_ids"], enc["attention_mask"], torch.tensor(labels)
opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
if sys.argv[8] == "warm":  # the harness runs its linear probe (no-grad passes, batch 64) before training
    with torch.no_grad():
        for start in range(0, len(y), 64):
            model.base_model(input_ids=ids[start:start + 64], attention_mask=mask[start:start + 64])
model.train()
gen = torch.Generator().manual_seed(seed)
order = torch.cat([torch.randperm(len(y), generator=gen) for _ in range(steps * batch // len(y) + 1)])
start = time.perf_counter()
for step in range(steps):
    idx = order[step * batch:(step + 1) * batch]
    loss = model(input_ids=ids[idx], attention_mask=mask[idx], labels=y[idx]).loss
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
elapsed = time.perf_counter() - start
print(json.dumps({"examples_per_s": steps * batch / elapsed, "last_loss": loss.item()}))
"""


def bare(snapshot: Path, budget: dict, tunables: bool, warm: bool = False) -> float:
    threads = len(os.sched_getaffinity(0))
    env = runner.child_env(Path(tempfile.mkdtemp(prefix="bench-bare-")), threads)
    env.pop("GLIBC_TUNABLES", None)
    if tunables:
        env["GLIBC_TUNABLES"] = runner.MALLOC_TUNABLES
    args = [budget["steps"], budget["batch_size"], budget["seq_len"], budget["lr"], reference.SEED, threads]
    args.append("warm" if warm else "cold")
    out = subprocess.run(
        [sys.executable, "-c", BARE_LOOP, str(snapshot), *map(str, args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        # Like the harness's child: with the kernel's autogroup scheduling a new
        # session gets its own CPU share, which on a busy machine is worth 2x.
        start_new_session=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["examples_per_s"]


def harness(snapshot: Path, scale: float, tunables: bool) -> dict:
    saved = runner.MALLOC_TUNABLES
    runner.MALLOC_TUNABLES = saved if tunables else ""
    try:
        started = time.perf_counter()
        result = runner.run_validation(snapshot, card_meta={}, budget_scale=scale)
        wall = time.perf_counter() - started
    finally:
        runner.MALLOC_TUNABLES = saved
    if not result.metrics.get("tasks"):
        sys.exit(f"harness run failed: {result.reason}: {result.message}\n{result.log_tail}")
    imdb = result.metrics["tasks"][0]
    return {
        "examples_per_s": imdb["train_examples_per_s"],
        "train_s": imdb["train_seconds"],
        "wall_s": wall,
        "verdict": result.verdict,
        "accuracy": imdb["finetuned"]["accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="harness vs bare PyTorch training speed")
    parser.add_argument("--steps", type=int, default=100, help="training steps (100 = the reference budget)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; medians are printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = build_tiny_bert(Path(tmp) / "tiny-bert")
        suite = reference.choose_suite({}, json.loads((snapshot / "config.json").read_text()), args.steps / 100)
        budget = suite.tasks[0].budget
        rows: dict[str, list] = {k: [] for k in ("bare_on", "harness_on", "bare_off", "harness_off")}
        for _ in range(args.rounds):
            for tunables in (True, False):
                key = "on" if tunables else "off"
                rows[f"bare_{key}"].append(bare(snapshot, budget, tunables))
                rows[f"harness_{key}"].append(harness(snapshot, args.steps / 100, tunables))
                print(
                    f"round: tunables {key}: bare {rows[f'bare_{key}'][-1]:.1f}, "
                    f"harness {rows[f'harness_{key}'][-1]['examples_per_s']:.1f} examples/s",
                    flush=True,
                )
    med = {
        k: statistics.median(v if k.startswith("bare") else [r["examples_per_s"] for r in v]) for k, v in rows.items()
    }
    last = rows["harness_on"][-1]
    print(
        f"model: tiny BERT, batch {budget['batch_size']}, length {budget['seq_len']}, {budget['steps']} steps, {os.cpu_count()} CPUs"
    )
    print(f"bare loop,  GLIBC_TUNABLES on : {med['bare_on']:8.1f} examples/s")
    print(f"harness,    GLIBC_TUNABLES on : {med['harness_on']:8.1f} examples/s")
    print(f"bare loop,  GLIBC_TUNABLES off: {med['bare_off']:8.1f} examples/s")
    print(f"harness,    GLIBC_TUNABLES off: {med['harness_off']:8.1f} examples/s")
    print(f"ratio harness / bare (tunables on):  {med['harness_on'] / med['bare_on']:.2f}x  (target >= 0.8x)")
    print(f"ratio harness / bare (tunables off): {med['harness_off'] / med['bare_off']:.2f}x")
    print(
        f"speed-up from GLIBC_TUNABLES: bare {med['bare_on'] / med['bare_off']:.2f}x, harness {med['harness_on'] / med['harness_off']:.2f}x"
    )
    print(
        f"harness run (tunables on): verdict {last['verdict']}, accuracy {last['accuracy']:.3f}, "
        f"training {last['train_s']:.1f} s, run_validation wall {last['wall_s']:.1f} s, "
        f"ratio wall / training {last['wall_s'] / last['train_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
