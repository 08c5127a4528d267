"""How a run's result reads: the headline score, the metrics table, the loss-curve SVG, model-index.

Pure functions of a run's stored ``task_spec`` and ``metrics`` (the shape
``runner.run_validation`` returns), so pages, the API and leaderboards agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Board:
    """A reference task as a leaderboard: its headline metric and which way is better."""

    name: str
    title: str
    metric: str  # key inside metrics["finetuned"]
    metric_label: str
    higher_is_better: bool
    hf_task: str  # model-index task.type
    hf_dataset: str  # model-index dataset.type


BOARDS: dict[str, Board] = {
    board.name: board
    for board in (
        Board("imdb-sentiment", "IMDB sentiment (text classification)", "accuracy", "Accuracy", True,
              "text-classification", "imdb"),
        Board("digits", "Digits (image classification)", "accuracy", "Accuracy", True,
              "image-classification", "sklearn-digits"),
        Board("imdb-next-token", "IMDB next token (causal language modelling)", "perplexity", "Perplexity", False,
              "text-generation", "imdb"),
    )
}  # fmt: skip


def headline(task_name: str, metrics: dict) -> float | None:
    """The fine-tuned headline metric of a task, as measured (accuracy, or perplexity)."""
    board = BOARDS.get(task_name)
    if board is None:
        return None
    value = (metrics.get("finetuned") or {}).get(board.metric)
    return float(value) if isinstance(value, int | float) else None


def headline_score(task_spec: dict, metrics: dict) -> float | None:
    """One higher-is-better number for list sorting across tasks.

    Accuracy for classification; for the next-token task the inverse perplexity
    (the geometric-mean probability the model gives the right next token).
    """
    name = (task_spec or {}).get("name", "")
    value = headline(name, metrics)
    if value is None:
        return None
    if BOARDS[name].higher_is_better:
        return round(value, 6)
    return round(1.0 / value, 6) if value > 0 else None


def _fmt(value, kind: str = "") -> str:
    if value is None or value == "":
        return "–"
    if kind == "pct" and isinstance(value, int | float):
        return f"{value:.1%}"
    if kind == "bytes" and isinstance(value, int | float):
        return f"{value / 1024**2:,.0f} MiB"
    if kind == "s" and isinstance(value, int | float):
        return f"{value:,.2f} s"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def score_rows(metrics: dict) -> list[tuple[str, str, str]]:
    """(metric, baseline, fine-tuned) rows: accuracy and macro-F1, or perplexity before/after."""
    base, tuned = metrics.get("baseline") or {}, metrics.get("finetuned") or {}
    rows = []
    for key, label, kind in (("accuracy", "Accuracy", "pct"), ("macro_f1", "Macro-F1", "pct"),
                             ("perplexity", "Perplexity", "")):  # fmt: skip
        if key in base or key in tuned:
            rows.append((label, _fmt(base.get(key), kind), _fmt(tuned.get(key), kind)))
    return rows


def detail_rows(run) -> list[tuple[str, str]]:
    """Everything needed to reproduce and compare the number, as (label, value)."""
    metrics, spec = run.metrics or {}, run.task_spec or {}
    rows = [
        ("Chance accuracy", _fmt(metrics.get("chance_accuracy"), "pct")),
        ("Baseline method", _fmt((metrics.get("baseline") or {}).get("method"))),
        ("Training examples / s", _fmt(metrics.get("train_examples_per_s"))),
        ("Training examples seen", _fmt(metrics.get("train_examples_seen"))),
        ("Peak memory", _fmt(metrics.get("peak_memory_bytes"), "bytes")),
        ("Peak GPU memory", _fmt(metrics.get("peak_gpu_memory_bytes"), "bytes")),
        ("Device", _fmt(metrics.get("device"))),
        ("Precision", _fmt(metrics.get("precision"))),
        ("torch", _fmt(metrics.get("torch_version"))),
        ("transformers", _fmt(metrics.get("transformers_version"))),
        ("Python", _fmt(metrics.get("python_version"))),
        ("Dataset", _fmt(spec.get("dataset"))),
        ("Dataset sha256", _fmt(spec.get("dataset_sha256"))),
        ("Seed", _fmt(spec.get("seed"))),
        ("Budget", ", ".join(f"{k}={v}" for k, v in (spec.get("budget") or {}).items()) or "–"),
    ]
    return [(label, value) for label, value in rows if value != "–"]


def stage_rows(metrics: dict) -> list[tuple[str, str]]:
    return [(stage, _fmt(seconds, "s")) for stage, seconds in (metrics.get("stage_seconds") or {}).items()]


def loss_curve_svg(metrics: dict, width: int = 640, height: int = 220) -> str:
    """The training loss as an inline SVG polyline with axes; empty string without a curve.

    Presentation attributes only (no style attribute): the page's CSP forbids inline styles.
    """
    curve = metrics.get("loss_curve") or {}
    steps, losses = list(curve.get("step") or []), list(curve.get("loss") or [])
    points = [(s, v) for s, v in zip(steps, losses, strict=False) if isinstance(v, int | float)]
    if len(points) < 2:
        return ""
    left, right, top, bottom = 52, 12, 12, 32
    x0, x1 = points[0][0], points[-1][0]
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    if hi == lo:
        hi = lo + 1e-9
    span_x = (x1 - x0) or 1

    def x(step: float) -> float:
        return left + (step - x0) / span_x * (width - left - right)

    def y(value: float) -> float:
        return top + (hi - value) / (hi - lo) * (height - top - bottom)

    path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in points)
    parts = [
        f'<svg class="loss-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Training loss from {points[0][1]:.3f} to {points[-1][1]:.3f} over {x1} steps" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#94a3b8"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#94a3b8"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        value = lo + (hi - lo) * frac
        parts.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" fill="#475569">'
            f"{value:.3g}</text>"
        )
    for step in (x0, (x0 + x1) // 2, x1):
        parts.append(
            f'<text x="{x(step):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
            f'fill="#475569">{step}</text>'
        )
    parts.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 2}" text-anchor="middle" font-size="11" '
        'fill="#475569">step</text>'
    )
    parts.append(f'<polyline points="{path}" fill="none" stroke="#2563eb" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def model_index_for(repo) -> list:
    """The repo's validated result in the Hugging Face card ``model-index`` shape ([] if none).

    Reads the summary of ``main``; only a passed run has numbers to report.
    """
    from models_app.validation.models import ValidationSummary

    summary = ValidationSummary.objects.filter(repo=repo, verdict="passed").select_related("run__revision").first()
    if summary is None:
        return []
    run = summary.run
    board = BOARDS.get(run.task)
    if board is None:
        return []
    tuned, base = run.metrics.get("finetuned") or {}, run.metrics.get("baseline") or {}
    metrics = []
    for key, label in (("accuracy", "Accuracy"), ("macro_f1", "Macro-F1"), ("perplexity", "Perplexity")):
        if key in tuned:
            metrics.append({"type": key if key != "macro_f1" else "f1", "name": f"{label} (fine-tuned)",
                            "value": tuned[key], "verified": False})  # fmt: skip
        if key in base:
            metrics.append({"type": key if key != "macro_f1" else "f1", "name": f"{label} (baseline)",
                            "value": base[key], "verified": False})  # fmt: skip
    spec = run.task_spec or {}
    return [
        {
            "name": repo.repo_id,
            "results": [
                {
                    "task": {"type": board.hf_task, "name": board.title},
                    "dataset": {
                        "type": board.hf_dataset,
                        "name": spec.get("dataset") or board.title,
                        "split": "test",
                        "revision": spec.get("dataset_sha256", ""),
                    },
                    "metrics": metrics,
                    "source": {
                        "name": "TransferHub validation",
                        "url": f"/{repo.repo_id}/validation",
                    },
                }
            ],
        }
    ]


def findings_html_safe(findings: list) -> list[dict]:
    """Findings as the template shows them (strings escaped by the template; this only normalises)."""
    out = []
    for item in findings or []:
        if isinstance(item, dict):
            out.append({**item, "globals": item.get("globals") or []})
    return out


def verdict_summary(run) -> str:
    """One plain sentence for a chat message or a notification, e.g. in the model's room."""
    sha = run.revision.sha[:8]
    if run.status != "passed":
        reason = f" ({run.reason})" if run.reason else ""
        return f"Validation of {sha}: {run.status}{reason}. {run.message}".strip()
    board = BOARDS.get(run.task)
    tuned, base = (run.metrics or {}).get("finetuned") or {}, (run.metrics or {}).get("baseline") or {}
    if board is None or board.metric not in tuned:
        return f"Validation of {sha}: passed. {run.message}".strip()
    if board.metric == "perplexity":
        detail = f"perplexity {base.get('perplexity', float('nan')):.1f} -> {tuned['perplexity']:.1f}"
    else:
        detail = f"accuracy {tuned['accuracy']:.1%} fine-tuned vs {base.get('accuracy', float('nan')):.1%} linear probe"
    return f"Validation of {sha}: passed on {board.name}, {detail}."
