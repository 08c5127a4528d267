"""A pull request's validation against its target branch: per-task deltas, the verdict, the thread's message.

Reads only finished runs' stored ``metrics`` (the shape ``runner.run_validation``
returns), so the PR page, the API and the message posted into the thread agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.conf import settings

from models_app.models import Revision
from models_app.validation.models import ValidationRun
from models_app.validation.report import as_score, format_gain, suite_mean, task_rows

PENDING, PASSED, FLAGGED, NO_BASELINE = "pending", "passed", "flagged", "no-baseline"


@dataclass(frozen=True)
class TaskDelta:
    """One task of the suite: its metric on the target branch and in the PR, formatted for people too."""

    name: str
    title: str
    metric: str
    base: float | None  # the metric as measured (accuracy, or perplexity: lower is better)
    head: float | None
    delta: float | None  # head - base, in the metric's own units
    change: str  # better | worse | same | "" (one side missing): the direction, higher-is-better adjusted
    base_text: str
    head_text: str
    delta_text: str
    base_gain: float | None  # fine-tune minus scratch, as the model page shows it
    head_gain: float | None
    gain_delta: float | None
    gain_delta_text: str


@dataclass(frozen=True)
class PrComparison:
    state: str  # pending | passed | flagged | no-baseline
    reason: str  # why it is flagged (or pending, or has no baseline); "" when passed
    head_sha: str
    base_sha: str
    head_run: ValidationRun | None
    base_run: ValidationRun | None
    suite: str
    metric: str
    rows: list[TaskDelta] = field(default_factory=list)
    # The suite mean as the headline score (higher is better: accuracy, or inverse perplexity).
    mean_base: float | None = None
    mean_head: float | None = None
    mean_delta: float | None = None
    mean_delta_text: str = "–"
    # The suite's transfer gain (fine-tune minus scratch) in the suite metric's units.
    gain_base: float | None = None
    gain_head: float | None = None
    gain_delta: float | None = None
    gain_delta_text: str = "–"
    threshold: float = 0.0

    @property
    def threshold_text(self) -> str:
        return f"{self.threshold * 100:.1f} pts"

    @property
    def flagged(self) -> bool:
        return self.state == FLAGGED

    def to_dict(self) -> dict:
        """For the API: runs as ids and verdicts, not objects."""
        data = {k: v for k, v in asdict(self).items() if k not in ("head_run", "base_run")}
        for side, run in (("head_run", self.head_run), ("base_run", self.base_run)):
            data[side] = None if run is None else {"id": run.pk, "status": run.status, "reason": run.reason}
        return data


def _runs(revision: Revision) -> tuple[ValidationRun | None, ValidationRun | None]:
    """(the newest run, the newest finished run) of a revision."""
    runs = ValidationRun.objects.filter(revision=revision).order_by("-created", "-id")
    return runs.first(), runs.filter(status__in=ValidationRun.DONE).first()


def _pct_points(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} pts"


def _delta(base, head):
    if isinstance(base, int | float) and isinstance(head, int | float):
        return round(head - base, 6)
    return None


def _task_delta(name: str, base_task: dict | None, head_task: dict | None, texts: dict) -> TaskDelta:
    task = head_task or base_task or {}
    metric = task.get("metric", "accuracy")
    base = ((base_task or {}).get("finetuned") or {}).get(metric)
    head = ((head_task or {}).get("finetuned") or {}).get(metric)
    delta = _delta(base, head)
    score_delta = _delta(as_score(metric, base), as_score(metric, head))
    change = "" if score_delta is None else "better" if score_delta > 0 else "worse" if score_delta < 0 else "same"
    base_gain, head_gain = (base_task or {}).get("gain"), (head_task or {}).get("gain")
    gain_delta = _delta(base_gain, head_gain)
    return TaskDelta(
        name=name,
        title=task.get("title") or name,
        metric=metric,
        base=base,
        head=head,
        delta=delta,
        change=change,
        base_text=texts.get(("base", name), "–"),
        head_text=texts.get(("head", name), "–"),
        delta_text=format_gain(delta, metric),
        base_gain=base_gain,
        head_gain=head_gain,
        gain_delta=gain_delta,
        gain_delta_text=format_gain(gain_delta, metric),
    )


def pr_comparison(head: Revision, base: Revision, *, max_mean_drop: float | None = None) -> PrComparison:
    """Compare the validation of a PR's head with its target branch's tip ``base``.

    Each side is its newest finished run. ``state``: "pending" while the head (or a
    base with no verdict yet) is still being validated; "flagged" when the head failed
    to load or validate, or its suite mean falls more than ``max_mean_drop``
    (default ``HUB_PR_MAX_MEAN_DROP``) below the base's; "no-baseline" when the base
    has no passed run on the same suite (rows then show the head's absolute scores);
    else "passed".
    """
    threshold = settings.HUB_PR_MAX_MEAN_DROP if max_mean_drop is None else max_mean_drop
    head_latest, head_run = _runs(head)
    base_latest, base_run = _runs(base)
    common = {"head_sha": head.sha, "base_sha": base.sha, "threshold": threshold}
    if head_run is None or (head_latest is not None and head_latest.is_active):
        return PrComparison(PENDING, "The pull request's head is being validated.", head_run=head_latest,
                            base_run=base_run, suite="", metric="", **common)  # fmt: skip
    if head_run.status != ValidationRun.Status.PASSED:
        why = f" ({head_run.reason})" if head_run.reason else ""
        reason = f"the pull request's head {head_run.status} validation{why}: {head_run.message}".strip().rstrip(":")
        return PrComparison(FLAGGED, reason, head_run=head_run, base_run=base_run, suite=head_run.suite,
                            metric=suite_mean(head_run.metrics).get("metric", ""), **common)  # fmt: skip
    if base_run is None and base_latest is not None:
        return PrComparison(PENDING, "The target branch is being validated.", head_run=head_run, base_run=base_latest,
                            suite=head_run.suite, metric=suite_mean(head_run.metrics).get("metric", ""),
                            **common)  # fmt: skip

    comparable = base_run is not None and base_run.status == "passed" and base_run.suite == head_run.suite
    head_tasks = {t.get("name", ""): t for t in (head_run.metrics or {}).get("tasks") or []}
    base_tasks = {t.get("name", ""): t for t in (base_run.metrics or {}).get("tasks") or []} if comparable else {}
    texts = {("head", r["name"]): r["finetuned"] for r in task_rows(head_run.metrics)}
    if comparable:
        texts |= {("base", r["name"]): r["finetuned"] for r in task_rows(base_run.metrics)}
    names = list(head_tasks) + [name for name in base_tasks if name not in head_tasks]
    rows = [_task_delta(name, base_tasks.get(name), head_tasks.get(name), texts) for name in names]

    head_suite = suite_mean(head_run.metrics)
    metric = head_suite.get("metric", "accuracy")
    base_suite = suite_mean(base_run.metrics) if comparable else {}
    mean_head = as_score(metric, head_suite.get("finetuned"))
    mean_base = as_score(metric, base_suite.get("finetuned")) if comparable else None
    mean_delta = _delta(mean_base, mean_head)
    gain_base, gain_head = base_suite.get("gain"), head_suite.get("gain")
    gain_delta = _delta(gain_base, gain_head)
    if not comparable:
        if base_run is None:
            state, reason = NO_BASELINE, "The target branch was never validated: these are the head's own scores."
        elif base_run.status != "passed":
            state, reason = NO_BASELINE, f"The target branch's validation {base_run.status}: nothing to compare with."
        else:
            state, reason = (
                NO_BASELINE,
                (
                    f"The target branch was validated on another suite ({base_run.suite or '?'}, now "
                    f"{head_run.suite or '?'}): these are the head's own scores."
                ),
            )
    elif mean_delta is not None and -mean_delta > threshold + 1e-9:
        state = FLAGGED
        reason = (
            f"the suite mean dropped by {_pct_points(-mean_delta).lstrip('+')}, more than the "
            f"{threshold * 100:.1f} pts allowed"
        )
    else:
        state, reason = PASSED, ""
    return PrComparison(
        state,
        reason,
        head_run=head_run,
        base_run=base_run,
        suite=head_run.suite,
        metric=metric,
        rows=rows,
        mean_base=mean_base,
        mean_head=mean_head,
        mean_delta=mean_delta,
        mean_delta_text=_pct_points(mean_delta),
        gain_base=gain_base,
        gain_head=gain_head,
        gain_delta=gain_delta,
        gain_delta_text=format_gain(gain_delta, metric),
        **common,
    )


def _md(text: str) -> str:
    """A table cell: pipes and newlines would break the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def pr_verdict_markdown(comparison: PrComparison) -> str:
    """The message the hub posts into the pull request's thread when the head's validation ends."""
    c = comparison
    head, base = c.head_sha[:8], c.base_sha[:8]
    if c.state == PENDING:
        return f"**Validation of {head}: pending.** {c.reason}"
    lines = []
    if c.state == FLAGGED:
        lines.append(f"**Flagged: {c.reason.rstrip('.')}.**")
    elif c.state == PASSED:
        lines.append(f"**Validation of {head} passed**: no regression against {base}.")
    else:
        lines.append(f"**Validation of {head} passed.** {c.reason}")
    if c.rows:
        lines.append("")
        if c.state == NO_BASELINE:
            lines += ["| Task | Score |", "| --- | ---: |"]
            lines += [f"| {_md(r.title)} | {_md(r.head_text)} |" for r in c.rows]
        else:
            lines += [f"| Task | {base} (base) | {head} (head) | Change |", "| --- | ---: | ---: | ---: |"]
            for r in c.rows:
                word = {"better": " (better)", "worse": " (worse)"}.get(r.change, "")
                lines.append(f"| {_md(r.title)} | {_md(r.base_text)} | {_md(r.head_text)} | {r.delta_text}{word} |")
        lines.append("")
    if c.mean_delta is not None:
        lines.append(f"Suite mean: {c.mean_delta_text} (a drop of up to {c.threshold_text} is allowed).")
    if c.gain_delta is not None:
        lines.append(f"Transfer gain over scratch: {c.gain_delta_text}.")
    return "\n".join(lines).strip()
