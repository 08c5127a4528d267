"""How a run's result reads: scores, the per-task table, loss-curve SVGs, model-index, the boards.

Pure functions of a run's stored ``suite_spec`` and ``metrics`` (the shape
``runner.run_validation`` returns), so pages, the API and leaderboards agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Board:
    """A leaderboard: one reference task, or a whole suite ranked by its mean."""

    name: str
    title: str
    kind: str  # "task" or "suite"
    suite: str  # the suite it belongs to (itself for a suite)
    modality: str  # text, image, causal-lm
    metric: str  # accuracy or perplexity
    metric_label: str
    higher_is_better: bool
    hf_task: str  # model-index task.type
    hf_dataset: str  # model-index dataset.type
    description: str = ""
    tasks: tuple[str, ...] = ()  # a suite's tasks

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "suite": self.suite,
            "modality": self.modality,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "description": self.description,
            "tasks": list(self.tasks),
            "url": f"/leaderboards/{self.name}",
            "api": f"/api/leaderboards/{self.name}",
        }


HF_TASKS = {"text": "text-classification", "image": "image-classification", "causal-lm": "text-generation"}


@lru_cache(maxsize=1)
def boards() -> dict[str, Board]:
    """Every suite board, each followed by its task boards, in the registry's order."""
    from models_app.validation.datasets import DATASETS
    from models_app.validation.datasets import NEXT_TOKEN_TASK as NEXT_TOKEN

    out: dict[str, Board] = {}
    for suite, title in (("text", "Text classification suite"), ("image", "Image classification suite")):
        names = tuple(name for name, info in DATASETS.items() if info.modality == suite)
        out[suite] = Board(suite, title, "suite", suite, suite, "accuracy", "Mean accuracy", True, HF_TASKS[suite],
                           "transferhub-suite", f"The mean over {len(names)} tasks.", names)  # fmt: skip
        for name in names:
            info = DATASETS[name]
            out[name] = Board(name, info.title, "task", suite, suite, "accuracy", "Accuracy", True, HF_TASKS[suite],
                              name, info.description)  # fmt: skip
    out["causal-lm"] = Board("causal-lm", "Next-token suite", "suite", "causal-lm", "causal-lm", "perplexity",
                             "Perplexity", False, "text-generation", "transferhub-suite",
                             "Perplexity on held-out IMDB reviews.", (NEXT_TOKEN,))  # fmt: skip
    out[NEXT_TOKEN] = Board(NEXT_TOKEN, "IMDB next token", "task", "causal-lm", "causal-lm", "perplexity",
                            "Perplexity", False, "text-generation", "imdb",
                            "Next-token perplexity on held-out IMDB reviews.")  # fmt: skip
    return out


def board(name: str) -> Board | None:
    return boards().get(name or "")


def as_score(metric: str, value) -> float | None:
    """A higher-is-better number: accuracy itself; for perplexity its inverse (the geometric-mean
    probability the model gives the right next token)."""
    if not isinstance(value, int | float):
        return None
    if metric == "perplexity":
        return round(1.0 / value, 6) if value > 0 else None
    return round(float(value), 6)


def suite_mean(metrics: dict) -> dict:
    """The suite's means as a run stored them (``reference.suite_summary`` computed them)."""
    return (metrics or {}).get("suite") or {}


def headline_score(metrics: dict) -> float | None:
    """The suite's mean fine-tuned score, higher is better, for sorting across suites."""
    summary = suite_mean(metrics)
    return as_score(summary.get("metric", ""), summary.get("finetuned"))


def task_rows(metrics: dict) -> list[dict]:
    """One row a task for the model page: probe, fine-tuned, scratch and gain, formatted."""
    rows = []
    for task in (metrics or {}).get("tasks") or []:
        metric = task.get("metric", "accuracy")
        kind = "pct" if metric == "accuracy" else ""
        rows.append(
            {
                "name": task.get("name", ""),
                "title": task.get("title") or task.get("name", ""),
                "probe": _fmt((task.get("probe") or {}).get(metric), kind),
                "finetuned": _fmt((task.get("finetuned") or {}).get(metric), kind),
                "scratch": _fmt((task.get("scratch") or {}).get(metric), kind),
                "gain": format_gain(task.get("gain"), metric),
                "gain_value": task.get("gain"),
                "chance": _fmt(task.get("chance_accuracy"), "pct"),
                "seconds": _fmt((task.get("stage_seconds") or {}).get("total"), "s"),
                "scratch_cached": bool(task.get("scratch_cached")),
            }
        )
    return rows


def mean_row(metrics: dict) -> dict | None:
    summary = suite_mean(metrics)
    if not summary:
        return None
    metric = summary.get("metric", "accuracy")
    kind = "pct" if metric == "accuracy" else ""
    return {
        "probe": _fmt(summary.get("probe"), kind),
        "finetuned": _fmt(summary.get("finetuned"), kind),
        "scratch": _fmt(summary.get("scratch"), kind),
        "gain": format_gain(summary.get("gain"), metric),
        "gain_value": summary.get("gain"),
        "chance": _fmt(summary.get("chance"), "pct"),
    }


def format_gain(value, metric: str) -> str:
    """Accuracy gain in percentage points; perplexity gain in perplexity units (lower is better)."""
    if not isinstance(value, int | float):
        return "–"
    if metric == "accuracy":
        return f"{value * 100:+.1f} pts"
    return f"{value:+.1f}"


def gain_badge(gain, metric: str = "accuracy") -> str:
    """The short text of a list badge, e.g. "+12.3 pts vs scratch"."""
    text = format_gain(gain, metric)
    return "" if text == "–" else f"{text} vs scratch"


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


def detail_rows(run) -> list[tuple[str, str]]:
    """Everything needed to reproduce and compare the numbers, as (label, value)."""
    metrics, spec = run.metrics or {}, run.suite_spec or {}
    tasks = spec.get("tasks") or []
    first = tasks[0] if tasks else {}
    rows = [
        ("Suite", _fmt(spec.get("title"))),
        ("Peak memory", _fmt(metrics.get("peak_memory_bytes"), "bytes")),
        ("Peak GPU memory", _fmt(metrics.get("peak_gpu_memory_bytes"), "bytes")),
        ("Device", _fmt(metrics.get("device"))),
        ("Precision", _fmt(metrics.get("precision"))),
        ("torch", _fmt(metrics.get("torch_version"))),
        ("transformers", _fmt(metrics.get("transformers_version"))),
        ("Python", _fmt(metrics.get("python_version"))),
        ("Seed", _fmt(first.get("seed"))),
        ("Budget (every task)", ", ".join(f"{k}={v}" for k, v in (first.get("budget") or {}).items()) or "–"),
    ]
    rows += [(f"Dataset: {t.get('name')}", f"{t.get('dataset')} · sha256 {t.get('dataset_sha256')}") for t in tasks]
    return [(label, value) for label, value in rows if value != "–"]


def stage_rows(metrics: dict) -> list[tuple[str, str]]:
    rows = [(stage, _fmt(seconds, "s")) for stage, seconds in (metrics.get("stage_seconds") or {}).items()]
    for task in metrics.get("tasks") or []:
        for stage, seconds in (task.get("stage_seconds") or {}).items():
            rows.append((f"{task.get('name')}: {stage}", _fmt(seconds, "s")))
    return rows


def task_curves(metrics: dict) -> list[dict]:
    """Each task's fine-tune loss curve (and the scratch one) as inline SVG."""
    out = []
    for task in metrics.get("tasks") or []:
        out.append(
            {
                "name": task.get("name", ""),
                "title": task.get("title") or task.get("name", ""),
                "finetune_svg": loss_curve_svg(task),
                "scratch_svg": loss_curve_svg({"loss_curve": task.get("scratch_loss_curve")}),
            }
        )
    return out


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
    """The repo's validated results in the Hugging Face card ``model-index`` shape ([] if none).

    Reads the summary of ``main``; only a passed run has numbers to report. One
    result per task, with the fine-tuned, linear-probe and from-scratch numbers.
    """
    from models_app.validation.models import ValidationSummary

    summary = ValidationSummary.objects.filter(repo=repo, verdict="passed").select_related("run__revision").first()
    if summary is None:
        return []
    run = summary.run
    specs = {t.get("name"): t for t in (run.suite_spec or {}).get("tasks") or []}
    results = []
    for task in (run.metrics or {}).get("tasks") or []:
        board_ = board(task.get("name", ""))
        if board_ is None:
            continue
        metrics = []
        for part, label in (("finetuned", "fine-tuned"), ("probe", "linear probe"), ("scratch", "from scratch")):
            value = (task.get(part) or {}).get(board_.metric)
            if isinstance(value, int | float):
                metrics.append({"type": board_.metric, "name": f"{board_.metric_label} ({label})", "value": value,
                                "verified": False})  # fmt: skip
        spec = specs.get(task.get("name")) or {}
        results.append(
            {
                "task": {"type": board_.hf_task, "name": board_.title},
                "dataset": {
                    "type": board_.hf_dataset,
                    "name": spec.get("dataset") or board_.title,
                    "split": "test",
                    "revision": spec.get("dataset_sha256", ""),
                },
                "metrics": metrics,
                "source": {"name": "TransferHub validation", "url": f"/{repo.repo_id}/validation"},
            }
        )
    return [{"name": repo.repo_id, "results": results}] if results else []


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
    summary = suite_mean(run.metrics)
    board_ = board(run.suite)
    if board_ is None or not isinstance(summary.get("finetuned"), int | float):
        return f"Validation of {sha}: passed. {run.message}".strip()
    if board_.metric == "perplexity":
        detail = f"perplexity {summary['finetuned']:.1f}"
        if isinstance(summary.get("scratch"), int | float):
            detail += f" ({summary['scratch']:.1f} from scratch)"
    else:
        detail = f"mean accuracy {summary['finetuned']:.1%} over {summary.get('tasks')} tasks"
        if isinstance(summary.get("gain"), int | float):
            detail += f", {format_gain(summary['gain'], 'accuracy')} over scratch"
    return f"Validation of {sha}: passed the {board_.title.lower()}, {detail}."


def task_bars_svg(metrics: dict, width: int = 480) -> str:
    """Per task, the fine-tuned score beside the from-scratch baseline, as horizontal bars in inline SVG.

    Server-rendered so the page needs no chart library; colours come from classes in hub.css
    (light and dark), since the CSP forbids style attributes. Empty string without tasks.
    """
    from django.utils.html import escape

    tasks = [
        t for t in (metrics or {}).get("tasks") or [] if (t.get("finetuned") or {}).get(t.get("metric", "accuracy"))
    ]
    if not tasks:
        return ""
    # A narrow canvas keeps the labels legible when a phone scales it to ~310 px.
    label_w, bar_h, gap, pad = 150, 18, 16, 6
    plot_w = width - label_w - 64
    height = len(tasks) * (2 * bar_h + pad + gap) + gap
    parts = [
        f'<svg class="bar-chart" viewBox="0 0 {width} {height}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg" '
        'aria-label="Score on each task: fine-tuned against trained from scratch">'
    ]
    y = gap
    for task in tasks:
        metric = task.get("metric", "accuracy")
        tuned, scratch = (task.get("finetuned") or {}).get(metric), (task.get("scratch") or {}).get(metric)
        pairs = [("tuned", tuned), ("scratch", scratch)]
        # Accuracy on a fixed 0-100 % axis; perplexity (lower is better) as its inverse, scaled to the pair.
        scores = {kind: as_score(metric, value) for kind, value in pairs}
        top = 1.0 if metric == "accuracy" else max((s for s in scores.values() if s), default=1.0)
        title = escape(task.get("title") or task.get("name", ""))
        parts.append(
            f'<text class="bar-label" x="0" y="{y + bar_h + pad / 2 + 5:.0f}" font-size="15">{title[:20]}</text>'
        )
        for row, (kind, value) in enumerate(pairs):
            by = y + row * (bar_h + pad)
            score = scores[kind]
            length = 0 if not score else max(2.0, score / top * plot_w)
            text = "–" if value is None else (f"{value:.1%}" if metric == "accuracy" else f"ppl {value:.1f}")
            who = "fine-tuned" if kind == "tuned" else "from scratch"
            parts.append(
                f'<rect class="bar-{kind}" x="{label_w}" y="{by}" width="{length:.1f}" height="{bar_h}" rx="3">'
                f"<title>{title}, {who}: {text}</title></rect>"
            )
            parts.append(
                f'<text class="bar-value" x="{label_w + length + 6:.1f}" y="{by + bar_h - 4}" font-size="14">{text}</text>'
            )
        y += 2 * bar_h + pad + gap
    parts.append("</svg>")
    return "".join(parts)
