"""The safety scan: what a model owner sees for each file, and that nothing is ever unpickled."""

from __future__ import annotations

import json
import pickle
import struct
import zipfile

from models_app.validation.safety import check_safetensors_header, scan_snapshot
from tests.factories import tiny_models


def _rewrite_header(path, header: dict, *, data: bytes | None = None) -> None:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    body = raw[8 + n :] if data is None else data
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + body)


def _header(path) -> dict:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n])


def test_tiny_bert_is_clean(tiny_bert_dir):
    report = scan_snapshot(tiny_bert_dir)

    assert report.ok
    assert report.findings_dicts() == [
        {"path": "model.safetensors", "kind": "safetensors", "status": "ok", "detail": "header sound", "globals": []}
    ]


def test_pickle_only_model_is_unsafe_format_and_never_unpickled(tmp_path):
    canary = tmp_path / "canary"
    snapshot = tiny_models.build_pickle_canary_model(tmp_path / "model", canary)

    report = scan_snapshot(snapshot)

    assert report.reason == "unsafe_format"
    by_path = {f["path"]: f for f in report.findings_dicts()}
    assert set(by_path) == {"pytorch_model.bin", "training_args.pkl"}
    for finding in by_path.values():
        assert finding["status"] == "unsafe"
        assert "io.open" in finding["detail"]
    assert "pytorch_model.bin" in report.message
    assert not canary.exists()


def test_scanner_error_counts_as_unsafe(tiny_bert_copy):
    # A pickle cut off mid-stream after a dangerous import: picklescan reports a scan error.
    payload = pickle.dumps(tiny_models._Canary(tiny_bert_copy / "canary"), protocol=2)
    (tiny_bert_copy / "optimizer.pt").write_bytes(payload[: len(payload) // 2 + 3])

    report = scan_snapshot(tiny_bert_copy)

    assert report.reason == "unsafe_format"
    finding = next(f for f in report.findings if f.path == "optimizer.pt")
    assert finding.status == "unsafe"


def test_unreadable_7z_counts_as_unsafe(tiny_bert_copy):
    (tiny_bert_copy / "weights.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40)

    report = scan_snapshot(tiny_bert_copy)

    assert report.reason == "unsafe_format"
    assert next(f for f in report.findings if f.path == "weights.7z").status == "unsafe"


def test_clean_pickle_beside_safetensors_is_listed_but_fine(tiny_bert_copy):
    (tiny_bert_copy / "training_args.bin").write_bytes(pickle.dumps({"lr": 1e-3, "epochs": 3}))

    report = scan_snapshot(tiny_bert_copy)

    assert report.ok
    finding = next(f for f in report.findings if f.path == "training_args.bin")
    assert (finding.kind, finding.status) == ("pickle", "ok")


def test_zip_wrapped_pickle_with_system_call_is_named(tiny_bert_copy):
    class Payload:
        def __reduce__(self):
            import os

            return (os.system, ("true",))

    with zipfile.ZipFile(tiny_bert_copy / "extra.pth", "w") as zf:
        zf.writestr("extra/data.pkl", pickle.dumps(Payload(), protocol=2))

    report = scan_snapshot(tiny_bert_copy)

    finding = next(f for f in report.findings if f.path == "extra.pth")
    assert finding.status == "unsafe"
    assert "system" in finding.detail
    assert any("(dangerous)" in g for g in finding.globals)


def test_remote_code_config_is_refused(tmp_path):
    snapshot = tiny_models.build_remote_code_model(tmp_path / "model")

    report = scan_snapshot(snapshot)

    assert report.reason == "remote_code_required"
    assert "auto_map" in report.message
    assert not (snapshot / "remote-code-ran").exists()


def test_keras_and_gguf_only_are_never_loaded(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "tf_model.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    (tmp_path / "model.gguf").write_bytes(b"GGUF")

    report = scan_snapshot(tmp_path)

    assert report.reason == "unsafe_format"
    assert {f.status for f in report.findings} == {"skipped"}


def test_no_weights_is_a_load_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")

    assert scan_snapshot(tmp_path).reason == "load_error"


def test_corrupted_header_is_a_load_error(tiny_bert_copy):
    tiny_models.corrupt_safetensors_header(tiny_bert_copy)

    report = scan_snapshot(tiny_bert_copy)

    assert report.reason == "load_error"
    assert "outside" in report.findings[0].detail


def test_header_checks(tiny_bert_copy):
    path = tiny_bert_copy / "model.safetensors"
    header = _header(path)
    first, second = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"])[:2]

    overlapping = json.loads(json.dumps(header))
    overlapping[second]["data_offsets"] = [o - 4 for o in header[second]["data_offsets"]]
    _rewrite_header(path, overlapping)
    assert any("overlaps" in p for p in check_safetensors_header(path))

    bad_dtype = json.loads(json.dumps(header))
    bad_dtype[first]["dtype"] = "OBJECT"
    _rewrite_header(path, bad_dtype)
    assert any("unknown dtype" in p for p in check_safetensors_header(path))

    wrong_size = json.loads(json.dumps(header))
    wrong_size[first]["shape"] = [10**6]
    _rewrite_header(path, wrong_size)
    assert any("do not match shape" in p for p in check_safetensors_header(path))

    path.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    assert "over the" in check_safetensors_header(path)[0]

    path.write_bytes(struct.pack("<Q", 5) + b"{not")
    assert "past the end" in check_safetensors_header(path)[0]

    path.write_bytes(struct.pack("<Q", 4) + b"{no}")
    assert "not valid JSON" in check_safetensors_header(path)[0]


def test_file_size_cap(tiny_bert_dir):
    problems = check_safetensors_header(tiny_bert_dir / "model.safetensors", max_file_bytes=1000)

    assert "over the 1000 byte cap" in problems[0]
