"""The zoo's cache under the data dir: ``zoo/wheels/`` and ``zoo/models/<name>/``.

A built model sits beside a stamp, ``zoo/models/<name>.json``, holding the
recipe hash it was built from and what the build measured. A build is skipped
when the folder and a stamp with the current recipe hash exist, so a recipe
change rebuilds that entry on the next run. Builds go into a temporary folder
and are renamed into place, so a killed build never looks finished.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from models_app.validation.zoo.registry import ZooEntry

BUILD_TIMEOUT_S = 1800


class BuildFailed(Exception):
    """A build's child process failed; the message is short enough for one log line."""


def wheels_dir(root: Path) -> Path:
    return Path(root) / "wheels"


def model_dir(root: Path, entry: ZooEntry) -> Path:
    return Path(root) / "models" / entry.name


def stamp_path(root: Path, entry: ZooEntry) -> Path:
    return Path(root) / "models" / f"{entry.name}.json"


def read_stamp(root: Path, entry: ZooEntry) -> dict | None:
    try:
        return json.loads(stamp_path(root, entry).read_text())
    except (OSError, ValueError):
        return None


def is_built(root: Path, entry: ZooEntry) -> bool:
    stamp = read_stamp(root, entry)
    return bool(stamp) and stamp.get("recipe_hash") == entry.recipe_hash() and model_dir(root, entry).is_dir()


def ensure_built(root: Path, entry: ZooEntry, *, force: bool = False, cwd: Path | None = None) -> tuple[Path, bool]:
    """(the model folder, whether it was built now); BuildFailed when the child fails."""
    out = model_dir(root, entry)
    if not force and is_built(root, entry):
        return out, False
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{entry.name}-*"):  # left by a build that was killed
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{entry.name}-") as tmp:
        target = Path(tmp) / "model"
        try:
            child = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "models_app.validation.zoo.build",
                    entry.name,
                    str(target),
                    str(wheels_dir(root)),
                ],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise BuildFailed(f"building {entry.name} took over {BUILD_TIMEOUT_S} s") from None
        if child.returncode != 0:
            lines = child.stderr.strip().splitlines() or ["no output"]
            raise BuildFailed(f"building {entry.name} failed: {lines[-1]}")
        info = json.loads(child.stdout.strip().splitlines()[-1])
        stamp_path(root, entry).unlink(missing_ok=True)
        if out.exists():
            shutil.rmtree(out)
        target.rename(out)
    stamp_path(root, entry).write_text(json.dumps({"recipe_hash": entry.recipe_hash(), "info": info}, indent=2))
    return out, True
