"""``{% verdict_badge verdict suite score gain %}``: the one verdict badge of every list and header."""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from models_app.validation import report

register = template.Library()


@register.simple_tag
def verdict_badge(verdict, suite="", score=None, gain=None) -> str:
    """ "passed · 81.2% · +12.3 pts vs scratch"; the suite's mean and its gain over training from scratch."""
    if not verdict:
        return ""
    board = report.board(suite or "")
    parts = [str(verdict)]
    if verdict == "passed" and isinstance(score, int | float) and score > 0:
        parts.append(f"{score:.1%}" if board is None or board.metric == "accuracy" else f"ppl {1 / score:.1f}")
        badge = report.gain_badge(gain, board.metric if board else "accuracy")
        if badge:
            parts.append(badge)
    css = "pill-ok" if verdict == "passed" else ("pill-bad" if verdict in ("failed", "error") else "")
    title = f"Validation on the {board.title.lower()}" if board else "Validation"
    return format_html('<span class="pill verdict-badge {}" title="{}">{}</span>', css, title, " · ".join(parts))


@register.inclusion_tag("validation/_suite_table.html")
def suite_table(run, compact: bool = False) -> dict:
    """The per-task table (probe, fine-tuned, scratch, gain) with the suite's mean, for ``run``."""
    metrics = getattr(run, "metrics", None) or {}
    return {
        "run": run,
        "board": report.board(getattr(run, "suite", "")),
        "task_rows": report.task_rows(metrics),
        "mean_row": report.mean_row(metrics),
        "compact": compact,
    }


@register.filter
def gain(value, metric: str = "accuracy") -> str:
    """``{{ row.gain|gain:board.metric }}``: "+12.3 pts" for accuracy, "+4.1" for perplexity, "–" for none."""
    return report.format_gain(value, metric)


@register.simple_tag
def task_bars(run) -> str:
    """The bar chart of each task's fine-tuned score against the from-scratch baseline, with its legend."""
    svg = report.task_bars_svg(getattr(run, "metrics", None) or {})
    if not svg:
        return ""
    legend = (
        '<div class="chart-legend" aria-hidden="true"><span><span class="swatch swatch-tuned"></span>fine-tuned</span>'
        '<span><span class="swatch swatch-scratch"></span>trained from scratch (baseline)</span></div>'
    )
    return mark_safe(legend + svg)  # noqa: S308 - built here from numbers and escaped titles


# Colour and cursor escapes (ESC [ ... letter) from tools that think they write to a terminal.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@register.filter
def strip_ansi(text) -> str:
    """``{{ run.log|strip_ansi }}``: the log as text, without raw terminal escapes."""
    return _ANSI.sub("", str(text or ""))
