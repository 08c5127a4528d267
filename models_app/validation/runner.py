"""Validate one revision: safety scan here, then the reference suite in a limited child process.

``run_validation`` is the one entry point the Celery task calls. It never
unpickles anything (the scan only disassembles pickles) and never imports the
model in this process; torch and transformers run in the child, which gets:

- RLIMIT_CPU (a CPU-time cap) and, without a GPU, RLIMIT_AS (a memory cap),
  which the child sets on itself before it imports torch or reads a model;
- its own temp dir as cwd, HOME, TMPDIR and HF_HOME, deleted afterwards;
- an environment built from scratch: PATH, PYTHONPATH, thread counts and the
  offline flags, nothing inherited, so no secret of the worker reaches it;
- its own session, so a timeout kills it and anything it started.

Verdicts: ``passed``; ``failed`` when the model is at fault (unsafe_format,
remote_code_required, load_error, tokenizer_missing, unsupported_architecture,
nan_loss, no_learning); ``error`` when the hub could not finish the measurement
(oom, timeout, internal_error), which a retry or a bigger worker may fix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from models_app.validation.child import TOKENIZER_FILES
from models_app.validation.reference import (
    SuiteSpec,
    Unsupported,
    choose_suite,
    judge,
    learning_rate,
    suite_summary,
)
from models_app.validation.safety import scan_snapshot

log = logging.getLogger(__name__)


class ScratchLookup(Protocol):
    """What ``run_validation`` needs of a scratch cache: a dict, or ``runs.ScratchCache`` (the database)."""

    def get(self, key: str, default=None) -> dict | None: ...


REASONS = (
    "unsafe_format",
    "remote_code_required",
    "load_error",
    "tokenizer_missing",
    "unsupported_architecture",
    "oom",
    "timeout",
    "nan_loss",
    "no_learning",
    "internal_error",
)
ERROR_REASONS = {"oom", "timeout", "internal_error"}
REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_TAIL_CHARS = 4000
# Measured in bench/bench_training.py: on these VMs page faults dominate small CPU
# training steps; keeping freed memory in the heap instead of unmapping it is faster.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=68719476736"


@dataclass
class ValidationResult:
    verdict: str  # passed | failed | error
    reason: str | None  # None when passed, else one of REASONS
    message: str
    suite: dict = field(default_factory=dict)  # name, title, kind, metric, tasks: [{name, dataset, budget, ...}]
    metrics: dict = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    log_tail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _result(reason: str | None, message: str, **kwargs) -> ValidationResult:
    verdict = "passed" if reason is None else ("error" if reason in ERROR_REASONS else "failed")
    return ValidationResult(verdict, reason, message, **kwargs)


def default_memory_limit() -> int:
    """Three quarters of the machine's memory."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.75)


def has_gpu() -> bool:
    return Path("/dev/nvidiactl").exists()


def run_validation(
    snapshot_dir: Path,
    *,
    card_meta: dict,
    on_progress: Callable[[dict], None] = lambda e: None,
    timeout_s: float = 1800,
    memory_limit_bytes: int | None = None,
    budget_scale: float = 1.0,
    scratch_cache: ScratchLookup | None = None,
) -> ValidationResult:
    """Scan, then run the suite in a child process; never raises for a bad model.

    ``on_progress`` gets ``{"stage", "step", "total", "loss", "task", ...}`` dicts;
    if it raises, the child is killed and the exception propagates.
    ``memory_limit_bytes=None`` means ``default_memory_limit()``; ``budget_scale < 1``
    shrinks the tasks for tests. ``scratch_cache`` maps ``scratch_key(...)`` to a
    scratch result measured before (the same architecture, tokenizer, data and
    budget give the same numbers), so the child trains from scratch only what is
    new; each task's result carries its ``scratch_key`` for the caller to store.
    """
    snapshot_dir = Path(snapshot_dir)
    started = time.monotonic()
    on_progress({"stage": "scan", "step": 0, "total": 1, "loss": None})
    try:
        report = scan_snapshot(snapshot_dir)
    except Exception as exc:  # noqa: BLE001 - a scan that cannot finish must not pass the model
        log.exception("safety scan failed for %s", snapshot_dir)
        return _result("internal_error", f"The safety scan failed: {type(exc).__name__}: {exc}")
    on_progress({"stage": "scan", "step": 1, "total": 1, "loss": None})
    findings = report.findings_dicts()
    timings = {"scan": round(time.monotonic() - started, 3)}
    if not report.ok:
        return _result(report.reason, report.message, findings=findings, metrics={"stage_seconds": timings})
    try:
        config = json.loads((snapshot_dir / "config.json").read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise ValueError("config.json is not a JSON object")
    except (OSError, ValueError) as exc:
        return _result("load_error", f"config.json is missing or unreadable: {exc}", findings=findings)
    try:
        suite = choose_suite(card_meta or {}, config, budget_scale)
    except Unsupported as exc:
        return _result("unsupported_architecture", str(exc), findings=findings, metrics={"stage_seconds": timings})
    keys = {task.name: scratch_key(snapshot_dir, config, task) for task in suite.tasks}
    known = {name: (scratch_cache or {}).get(key) for name, key in keys.items()}
    known = {name: value for name, value in known.items() if value}
    outcome, log_tail, child_seconds = _run_child(
        snapshot_dir, suite, known, on_progress, timeout_s, memory_limit_bytes
    )
    metrics = outcome.get("metrics", {})
    for task in metrics.get("tasks", []):
        task["scratch_key"] = keys.get(task["name"], "")
    metrics.setdefault("stage_seconds", {}).update(timings)
    metrics["stage_seconds"]["child_total"] = round(child_seconds, 3)
    metrics["stage_seconds"]["total"] = round(time.monotonic() - started, 3)
    common = {"suite": suite.to_dict(), "metrics": metrics, "findings": findings, "log_tail": log_tail}
    if outcome["status"] != "ok":
        return _result(outcome["reason"], outcome["message"], **common)
    metrics["suite"] = suite_summary(suite, metrics["tasks"])
    verdict, reason, message = judge(suite, metrics)
    return ValidationResult(verdict, reason, message, **common)


# What in a config does not change the network a scratch baseline trains.
CONFIG_NOISE = {
    "_name_or_path",
    "architectures",
    "transformers_version",
    "torch_dtype",
    "dtype",
    "id2label",
    "label2id",
    "num_labels",
    "problem_type",
    "finetuning_task",
}
INPUT_FILES = (*TOKENIZER_FILES, "special_tokens_map.json", "preprocessor_config.json")


def scratch_key(snapshot_dir: Path, config: dict, task) -> str:
    """What decides a scratch baseline: the architecture (config), the input pipeline (tokenizer or
    preprocessor files) and the task (data, seed, budget). Two revisions that share all three,
    the zoo's budgets of one network for example, share one measurement."""
    digest = hashlib.sha256()
    digest.update(json.dumps({k: v for k, v in config.items() if k not in CONFIG_NOISE}, sort_keys=True).encode())
    for name in INPUT_FILES:
        path = snapshot_dir / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    digest.update(task.fingerprint().encode())
    return digest.hexdigest()


def child_env(workdir: Path, threads: int) -> dict[str, str]:
    """The child's whole environment: nothing is inherited from the worker (its secrets stay there)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(REPO_ROOT),
        "HOME": str(workdir / "home"),
        "TMPDIR": str(workdir / "tmp"),
        "HF_HOME": str(workdir / "hf"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if MALLOC_TUNABLES:
        env["GLIBC_TUNABLES"] = MALLOC_TUNABLES
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(threads)
    if "CUDA_VISIBLE_DEVICES" in os.environ:  # which GPU this worker owns; not a secret
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    for name in ("HOME", "TMPDIR", "HF_HOME"):
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    return env


def _run_child(
    snapshot_dir: Path,
    suite: SuiteSpec,
    scratch: dict[str, dict],
    on_progress: Callable[[dict], None],
    timeout_s: float,
    memory: int | None,
) -> tuple[dict, str, float]:
    job = {"suite": suite.to_dict(), "scratch": scratch}
    return run_child_job(snapshot_dir, job, on_progress, timeout_s, memory)


def run_features(
    snapshot_dir: Path,
    *,
    kind: str,
    budget: dict,
    data_file: Path,
    out_file: Path,
    on_progress: Callable[[dict], None] = lambda e: None,
    timeout_s: float = 1800,
    memory_limit_bytes: int | None = None,
) -> dict:
    """Frozen features of the examples in ``data_file`` into ``out_file`` (``.npy``), in the same sandbox.

    The snapshot is scanned first, as for a validation: a model whose files are
    unsafe never reaches the child. Returns the child's outcome: ``{"status":
    "ok", "metrics": {examples, dim, num_parameters, seconds}}`` or ``{"status":
    "failed", "reason", "message"}``.
    """
    job = {
        "mode": "features",
        "kind": kind,
        "budget": budget,
        "data_file": str(Path(data_file).resolve()),
        "out": str(Path(out_file).resolve()),
    }
    return _scanned_child(Path(snapshot_dir), lambda config: job, on_progress, timeout_s, memory_limit_bytes)


def run_task(
    snapshot_dir: Path,
    task: dict,
    *,
    on_progress: Callable[[dict], None] = lambda e: None,
    timeout_s: float = 1800,
    memory_limit_bytes: int | None = None,
) -> dict:
    """Fine-tune on one task that is not in the reference suite (the finder's confirmation on a user's data).

    ``task`` is a ``TaskSpec`` dict with a ``data_file``; the learning rate is
    set from the model's width as for the suite. Same scan and sandbox as a
    validation; returns the child's outcome (``metrics["tasks"][0]``).
    """

    def job(config: dict) -> dict:
        tuned = dict(task, budget=dict(task["budget"], lr=learning_rate(task["budget"], config)))
        return {"suite": {"name": "custom", "tasks": [tuned]}, "scratch": {}}

    return _scanned_child(Path(snapshot_dir), job, on_progress, timeout_s, memory_limit_bytes)


def _scanned_child(
    snapshot_dir: Path, job_for: Callable[[dict], dict], on_progress, timeout_s: float, memory: int | None
) -> dict:
    """Scan, read config.json, then run ``job_for(config)`` in the child; the outcome, as a dict, never raises."""
    report = scan_snapshot(snapshot_dir)
    if not report.ok:
        return {"status": "failed", "reason": report.reason, "message": report.message}
    try:
        config = json.loads((snapshot_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"status": "failed", "reason": "load_error", "message": f"config.json is missing or unreadable: {exc}"}
    outcome, log_tail, _ = run_child_job(snapshot_dir, job_for(config), on_progress, timeout_s, memory)
    if outcome["status"] != "ok":
        outcome["log_tail"] = log_tail
    return outcome


def run_child_job(
    snapshot_dir: Path, job: dict, on_progress: Callable[[dict], None], timeout_s: float, memory: int | None
) -> tuple[dict, str, float]:
    """Run ``child.py`` on ``job`` with the limits, environment and temp dir described above."""
    threads = len(os.sched_getaffinity(0))
    # CUDA reserves far more virtual address space than it uses, so RLIMIT_AS
    # would break it; on a GPU worker the GPU's own memory is the limit.
    memory = None if has_gpu() else (memory or default_memory_limit())
    workdir = Path(tempfile.mkdtemp(prefix="th-validation-"))
    job_path = workdir / "job.json"
    limits = {"cpu_seconds": int(timeout_s * threads) + 60, "memory_bytes": memory}
    spec = job | {
        "snapshot_dir": str(snapshot_dir.resolve()),
        "threads": threads,
        "limits": limits,
        "parent_pid": os.getpid(),
    }
    job_path.write_text(json.dumps(spec))
    log_path = workdir / "child.log"
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    proc = None
    try:
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "models_app.validation.child", str(job_path), str(write_fd)],
                cwd=workdir,
                env=child_env(workdir, threads),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                # The child sets its own rlimits before importing anything heavy
                # (child.apply_limits); preexec_fn is unsafe in a threaded worker.
                start_new_session=True,
            )
        os.close(write_fd)
        write_fd = -1
        result, timed_out = _read_events(read_fd, proc, on_progress, started + timeout_s)
        if timed_out:
            _kill(proc)
        returncode = proc.wait(timeout=30)
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        os.close(read_fd)
        if proc is not None and proc.poll() is None:
            _kill(proc)
            proc.wait()
    elapsed = time.monotonic() - started
    log_tail = _tail(log_path)
    shutil.rmtree(workdir, ignore_errors=True)
    if timed_out:
        result = {
            "status": "failed",
            "reason": "timeout",
            "message": f"Stopped after the {timeout_s:.0f} s time limit.",
        }
    elif result is None:
        result = _crash_outcome(returncode)
    return result, log_tail, elapsed


def _read_events(fd: int, proc: subprocess.Popen, on_progress, deadline: float) -> tuple[dict | None, bool]:
    """Relay progress lines to on_progress until EOF or the deadline; returns (result, timed_out)."""
    buffer = b""
    result = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return result, True
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return result, False
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if "result" in event:
                result = event["result"]
            else:
                on_progress(event)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _crash_outcome(returncode: int) -> dict:
    if returncode == -signal.SIGKILL:
        # Nobody here sent it, so the kernel did: the OOM killer (or a container limit).
        return {
            "status": "failed",
            "reason": "oom",
            "message": "The training process was killed for using too much memory.",
        }
    if returncode == -signal.SIGXCPU:
        return {"status": "failed", "reason": "timeout", "message": "The training process used up its CPU-time limit."}
    return {
        "status": "failed",
        "reason": "internal_error",
        "message": f"The training process exited with code {returncode}.",
    }


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - LOG_TAIL_CHARS))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""
