"""The reference suite's wall time per zoo model, against one fine-tune of the same model in the same run.

Builds each zoo model into the zoo cache (``HUB_DATA_DIR/zoo``, as ``manage.py
build_zoo`` does; cached builds are reused) and runs ``run_validation`` on it at
the published budget, one model after the other, sharing one scratch cache as
the worker does (so the zoo's budgets of one network measure its scratch
baseline once, and the first of them pays for it). Reported per model: the
suite's wall time, each task's, the suite mean, the gain over scratch, and the
ratio of the suite's wall time to the model's first fine-tune (the baseline
measured in the same run: what one task's training alone costs).

    python bench/bench_suite.py                      # every zoo model
    python bench/bench_suite.py --only mnist-resnet-0 tiny-bert-mlm-0 --scale 0.3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models_app.repos.card_yaml import load_front_matter  # noqa: E402
from models_app.validation import runner  # noqa: E402
from models_app.validation.zoo import registry, store  # noqa: E402


def zoo_root() -> Path:
    """The zoo cache the hub uses (``HUB_DATA_DIR/zoo``), so a bench reuses what ``make run`` built."""
    return Path(os.environ.get("HUB_DATA_DIR") or ROOT / "data") / "zoo"


def card_meta(folder: Path) -> dict:
    # The card's front matter, read by the hub's own YAML rules (the worker reads it from the repo).
    text = (folder / "README.md").read_text(encoding="utf-8")
    return load_front_matter(text.split("---", 2)[1]) if text.startswith("---") else {}


def print_agreement(rows) -> None:
    """Per task: Kendall's tau between each estimator's order and the fine-tuned order across the models."""
    from models_app.validation.estimators import SCORES, kendall_tau

    by_task: dict[str, list[tuple[dict, float]]] = {}
    for _, result, *_ in rows:
        for task in result.metrics.get("tasks") or []:
            tuned = (task.get("finetuned") or {}).get("accuracy")
            if task.get("estimates") and tuned is not None:
                by_task.setdefault(task["name"], []).append((task["estimates"], tuned))
    if by_task:
        print("\nKendall's tau, estimator order vs fine-tuned order, per task:")
    for name, pairs in by_task.items():
        taus = {}
        for estimator in SCORES:
            kept = [(e[estimator], t) for e, t in pairs if e.get(estimator) is not None]
            tau = kendall_tau([k for k, _ in kept], [t for _, t in kept]) if len(kept) >= 2 else None
            taus[estimator] = None if tau is None else round(tau, 2)
        print(f"  {name} ({len(pairs)} models): {taus}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these zoo models only")
    parser.add_argument("--scale", type=float, default=1.0, help="budget scale (published runs use 1.0)")
    args = parser.parse_args()
    root = zoo_root()
    entries = [e for e in sorted(registry.ENTRIES, key=lambda e: e.order) if not args.only or e.name in args.only]
    scratch: dict[str, dict] = {}
    rows = []
    for entry in entries:
        try:
            folder, _ = store.ensure_built(root, entry, cwd=ROOT)
        except store.BuildFailed as exc:
            print(f"{entry.name}: not built ({exc})", flush=True)
            continue
        started = time.perf_counter()
        result = runner.run_validation(folder, card_meta=card_meta(folder), budget_scale=args.scale,
                                       scratch_cache=scratch)  # fmt: skip
        wall = time.perf_counter() - started
        tasks = result.metrics.get("tasks") or []
        for task in tasks:
            if not task.get("scratch_cached"):
                scratch[task["scratch_key"]] = {k: task[k] for k in ("scratch", "scratch_loss_curve")}
        mean = result.metrics.get("suite") or {}
        one = (tasks[0].get("stage_seconds") or {}).get("finetune") if tasks else None
        rows.append((entry.name, result, wall, one, mean))
        per_task = ", ".join(f"{t['name']} {t['stage_seconds']['total']:.0f} s" for t in tasks)
        print(
            f"{entry.name}: {result.verdict} in {wall:.1f} s ({per_task}); "
            f"mean {mean.get('finetuned')}, scratch {mean.get('scratch')}, gain {mean.get('gain')}; "
            f"suite / one fine-tune = {wall / one:.1f}x"
            if one
            else f"{entry.name}: {result.verdict} {result.message}",
            flush=True,
        )
    print_agreement(rows)
    device = next((r.metrics.get("device") for _, r, *_ in rows if r.metrics.get("device")), "?")
    print(f"\n{'model':24} {'verdict':8} {'suite s':>8} {'x 1 fine-tune':>13} {'mean':>7} {'scratch':>8} {'gain':>7}")
    for name, result, wall, one, mean in rows:
        ratio = f"{wall / one:.1f}x" if one else "-"
        print(f"{name:24} {result.verdict:8} {wall:8.1f} {ratio:>13} {mean.get('finetuned') or 0:7.3f} "
              f"{mean.get('scratch') or 0:8.3f} {mean.get('gain') or 0:+7.3f}")  # fmt: skip
    print(f"device: {device}; budget scale {args.scale}; {time.strftime('%Y-%m-%d')}")
    print(json.dumps({name: round(wall, 1) for name, _, wall, _, _ in rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
