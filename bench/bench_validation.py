"""Demo model: time from upload to verdict through the real worker, against its pure training time.

Starts a hub (web + one Celery worker, as ``make run`` does) in a temp folder,
publishes ``demo/tiny-bert`` with ``manage.py publish_demo`` and waits for the
verdict. Upload-to-verdict is ``finished - created`` of the run (the run is
created when the upload commits); pure training time is the training loops'
own wall time measured in the same run: every task's fine-tune
(``train_seconds``) and scratch baseline (``scratch_seconds``) of the suite.
Targets: ratio <= 2x; the whole text suite (3 tasks) within a few minutes on 2 CPU cores.

    python bench/bench_validation.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import LiveHub  # noqa: E402


def runs(hub: LiveHub) -> list[dict]:
    with urllib.request.urlopen(f"{hub.url}/api/models/demo/tiny-bert/validation", timeout=10) as response:
        return json.load(response)["runs"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="VALIDATION_BUDGET_SCALE (published runs use 1.0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        env = {"VALIDATION_BUDGET_SCALE": str(args.scale), "REDIS_URL": ""}
        with LiveHub(Path(tmp) / "hub", worker=True, extra_env=env) as hub:
            deadline = time.monotonic() + 120
            while "ready" not in hub.log("worker") and time.monotonic() < deadline:
                time.sleep(0.2)
            hub.manage("publish_demo")
            deadline = time.monotonic() + 900
            run = runs(hub)[0]
            while run["status"] in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.2)
                run = runs(hub)[0]
    if run["status"] in ("queued", "running"):
        print("no verdict within 15 minutes", file=sys.stderr)
        return 1
    created, started, finished = (datetime.fromisoformat(run[k]) for k in ("created", "started", "finished"))
    total = (finished - created).total_seconds()
    metrics = run["metrics"]
    tasks = metrics.get("tasks") or []
    train = sum(t.get("train_seconds", 0) + t.get("scratch_seconds", 0) for t in tasks) or float("nan")
    print(f"verdict: {run['status']} {run['reason'] or ''} {run['message']}")
    print(f"device: {metrics.get('device')}; budget per task: {run['spec']['tasks'][0].get('budget')}")
    for task in tasks:
        print(f"  {task['name']}: " + ", ".join(f"{k}={v}" for k, v in task.get("stage_seconds", {}).items()))
    print(f"queue wait (upload commit -> claim): {(started - created).total_seconds():.2f} s")
    print("stages (s): " + ", ".join(f"{k}={v}" for k, v in metrics.get("stage_seconds", {}).items()))
    print(f"upload -> verdict: {total:.2f} s; pure training: {train:.2f} s; ratio {total / train:.2f}x (target <= 2x)")
    print(f"suite of {len(tasks)} tasks under 3 minutes: {'yes' if total < 180 else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
