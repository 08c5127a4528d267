"""Safety scan of a revision's files before anything is loaded.

Nothing here executes model code: safetensors headers are parsed as JSON from
their first bytes, pickle-family files are disassembled by picklescan (never
unpickled), Keras/h5/GGUF/ONNX files are listed and left alone, and configs are
read as JSON. The scan runs in the worker before the child process starts.

Decision for pickle-only models (issue 6 left it open): the verdict is
``unsafe_format`` with picklescan's findings shown per file. The hub loads
weights from safetensors only; converting a pickle checkpoint in an isolated
child is a later feature.
"""

from __future__ import annotations

import json
import logging
import math
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy", ".npz", ".zip", ".7z"}
NEVER_LOADED_SUFFIXES = {".h5", ".hdf5", ".keras", ".gguf", ".ggml", ".onnx", ".msgpack", ".tflite", ".pb"}
REMOTE_CODE_CONFIGS = {"config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json"}

# safetensors itself refuses headers over 100 MB; a bigger one is a malformed or hostile file.
MAX_HEADER_BYTES = 100 * 1024 * 1024
# Bytes per element; sub-byte and exotic types are accepted without a size check.
DTYPE_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
    "C64": 8,
}
SUB_BYTE_DTYPES = {"F4", "F6_E2M3", "F6_E3M2"}


@dataclass
class FileFinding:
    path: str  # relative to the snapshot
    kind: str  # safetensors | pickle | never_loaded | config | other
    status: str  # ok | unsafe | corrupt | skipped | remote_code
    detail: str = ""
    globals: list[str] = field(default_factory=list)  # pickle imports, "module.name (safety)"


@dataclass
class ScanReport:
    findings: list[FileFinding]
    reason: str | None  # None, unsafe_format, remote_code_required, load_error
    message: str

    @property
    def ok(self) -> bool:
        return self.reason is None

    def findings_dicts(self) -> list[dict]:
        return [asdict(f) for f in self.findings]


def check_safetensors_header(path: Path, max_file_bytes: int | None = None) -> list[str]:
    """Problems with a safetensors file's header, read without loading a tensor ([] when sound)."""
    size = path.stat().st_size
    if max_file_bytes is not None and size > max_file_bytes:
        return [f"file is {size} bytes, over the {max_file_bytes} byte cap"]
    if size < 8:
        return ["file is shorter than the 8-byte header length"]
    with path.open("rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > MAX_HEADER_BYTES:
            return [f"header length {n} is over the {MAX_HEADER_BYTES} byte cap"]
        if 8 + n > size:
            return [f"header length {n} runs past the end of the file ({size} bytes)"]
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"header is not valid JSON: {exc}"]
    if not isinstance(header, dict):
        return ["header is not a JSON object"]
    data_len = size - 8 - n
    problems: list[str] = []
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict):
                problems.append("__metadata__ is not an object")
            continue
        problems += _check_tensor_entry(name, info, data_len, spans)
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin < position:
            problems.append(f"tensor {name!r} overlaps the previous tensor")
        elif begin > position:
            problems.append(f"gap before tensor {name!r} (bytes {position}-{begin})")
        position = max(position, end)
    if not problems and position != data_len:
        problems.append(f"tensors cover {position} of {data_len} data bytes")
    return problems


def _check_tensor_entry(name: str, info: object, data_len: int, spans: list) -> list[str]:
    if not isinstance(info, dict):
        return [f"tensor {name!r}: entry is not an object"]
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_SIZES and dtype not in SUB_BYTE_DTYPES:
        return [f"tensor {name!r}: unknown dtype {dtype!r}"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        return [f"tensor {name!r}: bad shape {shape!r}"]
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1] <= data_len
    ):
        return [f"tensor {name!r}: data_offsets {offsets!r} outside the {data_len} data bytes"]
    begin, end = offsets
    if dtype in DTYPE_SIZES and end - begin != math.prod(shape) * DTYPE_SIZES[dtype]:
        return [f"tensor {name!r}: {end - begin} bytes do not match shape {shape} of {dtype}"]
    spans.append((begin, end, name))
    return []


def scan_pickle(path: Path) -> tuple[str, str, list[str]]:
    """(status, detail, globals) from picklescan. A scanner error counts as unsafe."""
    from picklescan.scanner import SafetyLevel, scan_file_path

    try:
        result = scan_file_path(str(path))
    except Exception as exc:  # noqa: BLE001 - any scanner failure means "cannot prove it safe"
        return "unsafe", f"the scanner could not read it ({type(exc).__name__}: {exc})", []
    names = sorted({f"{g.module}.{g.name} ({g.safety.value})" for g in result.globals})
    # Stricter than picklescan's own verdict: "suspicious" (not on its safe list,
    # e.g. io.open) counts too, since a real checkpoint needs only safe-listed imports.
    risky = [g for g in result.globals if g.safety != SafetyLevel.Innocuous]
    if result.scan_err:
        return "unsafe", "the scanner stopped on a malformed pickle", names
    if risky or result.infected_files:
        shown = ", ".join(sorted({f"{g.module}.{g.name}" for g in risky}))
        return "unsafe", f"imports that can run code: {shown}", names
    return "ok", "no dangerous imports found; pickle files are still never loaded", names


def _remote_code(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # a broken config is the loader's problem, reported as load_error
    if isinstance(data, dict) and data.get("auto_map"):
        return f"auto_map asks for custom code: {json.dumps(data['auto_map'], sort_keys=True)[:300]}"
    return None


def scan_snapshot(snapshot_dir: Path, max_file_bytes: int | None = None) -> ScanReport:
    """Scan every file under a revision's snapshot directory and decide whether it may be loaded."""
    snapshot_dir = Path(snapshot_dir)
    findings: list[FileFinding] = []
    for path in sorted(p for p in snapshot_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(snapshot_dir).as_posix()
        suffix = path.suffix.lower()
        if suffix == ".safetensors":
            problems = check_safetensors_header(path, max_file_bytes)
            status = "corrupt" if problems else "ok"
            findings.append(FileFinding(rel, "safetensors", status, "; ".join(problems) or "header sound"))
        elif suffix in PICKLE_SUFFIXES:
            status, detail, names = scan_pickle(path)
            findings.append(FileFinding(rel, "pickle", status, detail, names))
        elif suffix in NEVER_LOADED_SUFFIXES:
            findings.append(FileFinding(rel, "never_loaded", "skipped", f"{suffix} files are never loaded"))
        elif path.name in REMOTE_CODE_CONFIGS and (detail := _remote_code(path)):
            findings.append(FileFinding(rel, "config", "remote_code", detail))
        elif suffix == ".py":
            findings.append(FileFinding(rel, "other", "skipped", "Python source is never imported"))
    return ScanReport(findings, *_decide(findings))


def _decide(findings: list[FileFinding]) -> tuple[str | None, str]:
    def names(kind: str, status: str) -> str:
        return ", ".join(f.path for f in findings if f.kind == kind and f.status == status)

    if unsafe := names("pickle", "unsafe"):
        return "unsafe_format", f"Unsafe or unreadable pickle files: {unsafe}. Nothing was loaded."
    if remote := names("config", "remote_code"):
        return "remote_code_required", f"{remote} asks for custom code (auto_map); the hub never runs remote code."
    if corrupt := names("safetensors", "corrupt"):
        return "load_error", f"Malformed safetensors header in {corrupt}."
    if not names("safetensors", "ok"):
        if pickles := names("pickle", "ok"):
            return (
                "unsafe_format",
                f"Weights only in pickle format ({pickles}); the hub loads safetensors only. "
                "Publish a model.safetensors (conversion by the hub is a later feature).",
            )
        if other := names("never_loaded", "skipped"):
            return "unsafe_format", f"Weights only in formats the hub never loads ({other}); publish safetensors."
        return "load_error", "No safetensors weights in this revision."
    return None, "All weight files are safetensors with sound headers."
