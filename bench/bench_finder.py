"""Ranking models for a dataset from frozen features, against fine-tuning every one of them, in the same run.

Takes the zoo's models of one modality (built into the zoo cache as
``bench_suite.py`` does) and a 1,000-example labelled dataset (a reference
task's training split, standing in for a user's upload), then:

1. ranks every model as the finder does: frozen features in the validation
   sandbox (``runner.run_features``), then k-NN, LogME and the 5-fold linear
   probe (``estimators.score_all``);
2. fine-tunes every model on the same data with the suite's budget through the
   same harness (``runner.run_task``, no scratch run), scored on a held-out split.

Prints the wall time of each, the ratio (target: ranking >= 20x faster), and
Kendall's tau between each estimator's order and the fine-tuned order.

    python bench/bench_finder.py                          # text zoo models on fortune-topics
    python bench/bench_finder.py --modality image --task mnist
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

import django  # noqa: E402

django.setup()  # finder.data reads the settings

import numpy as np  # noqa: E402

from bench.bench_suite import zoo_root  # noqa: E402
from models_app.finder.data import features_file, task_file  # noqa: E402
from models_app.finder.layouts import Labelled  # noqa: E402
from models_app.validation import datasets, reference, runner  # noqa: E402
from models_app.validation.estimators import SCORES, kendall_tau, param_count_baseline, score_all  # noqa: E402
from models_app.validation.zoo import registry, store  # noqa: E402


def labelled(modality: str, task: str) -> Labelled:
    if modality == "text":
        split = datasets.load_text(task)
        texts, labels = (
            list(split["train"][0]) + list(split["test"][0]),
            list(split["train"][1]) + list(split["test"][1]),
        )
        names = list(datasets.DATASETS[task].labels)
        return Labelled("text", texts, np.array(labels, dtype=np.int64), names, ["train"] * 1000 + ["test"] * 500)
    x_train, y_train, x_test, y_test = datasets.load_images(task)
    names = list(datasets.DATASETS[task].labels)
    return Labelled("image", np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]), names,
                    ["train"] * len(y_train) + ["test"] * len(y_test))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", choices=("text", "image"), default="text")
    parser.add_argument("--task", default=None, help="the reference dataset standing in for a user's data")
    args = parser.parse_args()
    task = args.task or ("fortune-topics" if args.modality == "text" else "fashion-mnist")
    data = labelled(args.modality, task)
    kind = reference.TEXT_CLASSIFICATION if args.modality == "text" else reference.IMAGE_CLASSIFICATION
    budget = reference.TEXT_BUDGET if args.modality == "text" else reference.IMAGE_BUDGET
    # Ranking reads the 1,000 training examples; the fine-tune trains on them and scores the 500 held out.
    train_only = Labelled(data.modality, data.examples[:1000], data.labels[:1000], data.label_names, ["train"] * 1000)
    entries = [e for e in sorted(registry.ENTRIES, key=lambda e: e.order) if e.modality == args.modality]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-finder-") as tmp:
        work = Path(tmp)
        source = features_file(train_only, work / "features")
        path, n_train, n_test = task_file(data, work / "task")
        for entry in entries:
            folder, _ = store.ensure_built(zoo_root(), entry, cwd=ROOT)
            started = time.perf_counter()
            outcome = runner.run_features(folder, kind=kind, budget=budget, data_file=source, out_file=work / "f.npy")
            if outcome["status"] != "ok":
                print(f"{entry.name}: features failed: {outcome['message']}")
                continue
            scores = score_all(np.load(work / "f.npy"), train_only.labels)
            scores["param_baseline"] = param_count_baseline(outcome["metrics"]["num_parameters"])
            rank_s = time.perf_counter() - started
            started = time.perf_counter()
            task_spec = {"name": task, "title": task, "kind": kind, "data": "", "data_file": str(path),
                         "dataset": task, "dataset_sha256": data.sha256(), "seed": reference.SEED,
                         "num_labels": len(data.label_names), "metric": "accuracy", "scratch": False,
                         "budget": dict(budget, train_examples=min(1000, n_train), test_examples=n_test)}  # fmt: skip
            tuned = runner.run_task(folder, task_spec)
            tune_s = time.perf_counter() - started
            accuracy = tuned["metrics"]["tasks"][0]["finetuned"]["accuracy"] if tuned["status"] == "ok" else None
            rows.append((entry.name, scores, rank_s, accuracy, tune_s))
            print(f"{entry.name}: rank {rank_s:.1f} s {scores}; fine-tune {tune_s:.1f} s, accuracy {accuracy}",
                  flush=True)  # fmt: skip
    rank_total, tune_total = sum(r[2] for r in rows), sum(r[4] for r in rows)
    print(f"\n{len(rows)} {args.modality} models on {task} (1,000 training examples):")
    print(f"ranking all: {rank_total:.1f} s; fine-tuning all: {tune_total:.1f} s; "
          f"ratio {tune_total / rank_total:.1f}x (target >= 20x)")  # fmt: skip
    measured = [r[3] for r in rows]
    for name in SCORES:
        pairs = [(r[1].get(name), m) for r, m in zip(rows, measured, strict=True) if r[1].get(name) is not None and m]
        tau = kendall_tau([p[0] for p in pairs], [p[1] for p in pairs]) if len(pairs) >= 2 else None
        print(f"Kendall's tau, {name} vs fine-tuned order: {tau if tau is None else round(tau, 2)}")
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
