"""run_validation end to end: a real child process per test, tiny models built locally.

The tiny BERT test runs the full default budget (it must learn for real); the
others shrink it with budget_scale, since they check a path, not a score.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from models_app.validation.runner import ValidationResult, child_env, run_validation
from tests.factories import tiny_models

STAGES = ["scan", "load", "baseline", "finetune", "evaluate"]


def _validate(snapshot, **kwargs) -> tuple[ValidationResult, list[dict]]:
    events: list[dict] = []
    kwargs.setdefault("card_meta", {})
    result = run_validation(snapshot, on_progress=events.append, **kwargs)
    return result, events


@pytest.mark.slow
@pytest.mark.timeout(900)  # about a minute on 2 idle cores; a busy shared machine can take several times that
def test_tiny_bert_runs_the_text_suite_with_probe_finetune_and_scratch(tiny_bert_dir):
    result, events = _validate(tiny_bert_dir, card_meta={"library_name": "transformers"}, budget_scale=0.3)

    assert result.reason in (None, "no_learning"), (result.message, result.log_tail)
    assert result.suite["name"] == "text" and len(result.suite["tasks"]) >= 3
    metrics = result.metrics
    names = [task["name"] for task in result.suite["tasks"]]
    assert [task["name"] for task in metrics["tasks"]] == names
    steps = result.suite["tasks"][0]["budget"]["steps"]
    for task in metrics["tasks"]:
        for part in ("probe", "finetuned", "scratch"):
            assert 0 <= task[part]["accuracy"] <= 1 and 0 <= task[part]["macro_f1"] <= 1
        assert task["gain"] == round(task["finetuned"]["accuracy"] - task["scratch"]["accuracy"], 4)
        assert len(task["loss_curve"]["loss"]) == len(task["scratch_loss_curve"]["loss"]) == steps
        assert task["scratch_cached"] is False and len(task["scratch_key"]) == 64
        assert {"probe", "finetune", "evaluate", "scratch", "total"} <= set(task["stage_seconds"])
    mean = metrics["suite"]
    assert mean["tasks"] == len(names)
    assert mean["finetuned"] == round(sum(t["finetuned"]["accuracy"] for t in metrics["tasks"]) / len(names), 4)
    assert mean["gain"] == pytest.approx(mean["finetuned"] - mean["scratch"], abs=1e-3)
    assert metrics["peak_memory_bytes"] > 0 and metrics["device"].startswith(("cpu", "NVIDIA"))
    assert metrics["torch_version"] and metrics["transformers_version"]
    assert [f["path"] for f in result.findings] == ["model.safetensors"]
    json.dumps(result.to_dict())  # what the worker stores must be plain JSON
    # Progress arrives task by task, each with its stages and the training steps' loss.
    assert [e["task"] for e in events if e["stage"] == "baseline" and e["step"] == 0] == names
    seen = [e["stage"] for e in events]
    assert sorted(set(seen), key=seen.index) == STAGES + ["scratch"]
    scratch_steps = [e for e in events if e["stage"] == "scratch" and e["step"]]
    assert scratch_steps[-1]["step"] == steps and all(isinstance(e["loss"], float) for e in scratch_steps)

    # The scratch baseline depends on the architecture, tokenizer and task only: a second run reuses it.
    cache = {t["scratch_key"]: {k: t[k] for k in ("scratch", "scratch_loss_curve")} for t in metrics["tasks"]}
    again, events = _validate(
        tiny_bert_dir, card_meta={"library_name": "transformers"}, budget_scale=0.3, scratch_cache=cache
    )
    assert "scratch" not in {e["stage"] for e in events}
    assert [t["scratch"] for t in again.metrics["tasks"]] == [t["scratch"] for t in metrics["tasks"]]
    assert all(t["scratch_cached"] for t in again.metrics["tasks"])
    assert [t["finetuned"] for t in again.metrics["tasks"]] == [t["finetuned"] for t in metrics["tasks"]]


def test_pickle_only_model_never_runs_its_payload(tmp_path):
    canary = tmp_path / "canary"
    snapshot = tiny_models.build_pickle_canary_model(tmp_path / "model", canary)

    result, events = _validate(snapshot)

    assert (result.verdict, result.reason) == ("failed", "unsafe_format")
    assert {f["path"]: f["status"] for f in result.findings} == {
        "pytorch_model.bin": "unsafe",
        "training_args.pkl": "unsafe",
    }
    assert [e["stage"] for e in events] == ["scan", "scan"]
    assert not canary.exists()


def test_remote_code_is_refused(tmp_path):
    canary = tmp_path / "canary"
    snapshot = tiny_models.build_remote_code_model(tmp_path / "model", canary)

    result, _ = _validate(snapshot)

    assert (result.verdict, result.reason) == ("failed", "remote_code_required")
    assert "auto_map" in result.message
    assert not canary.exists()


def test_corrupted_safetensors_header_is_a_load_error(tiny_bert_copy):
    tiny_models.corrupt_safetensors_header(tiny_bert_copy)

    result, _ = _validate(tiny_bert_copy)

    assert (result.verdict, result.reason) == ("failed", "load_error")
    assert "model.safetensors" in result.message


def test_weights_that_do_not_match_the_config_are_a_load_error(tiny_bert_copy):
    config = json.loads((tiny_bert_copy / "config.json").read_text())
    config["intermediate_size"] = 256
    (tiny_bert_copy / "config.json").write_text(json.dumps(config))

    result, _ = _validate(tiny_bert_copy, budget_scale=0.02)

    assert (result.verdict, result.reason) == ("failed", "load_error")
    assert "do not match" in result.message


def test_missing_tokenizer(tiny_bert_copy):
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        (tiny_bert_copy / name).unlink(missing_ok=True)

    result, _ = _validate(tiny_bert_copy, budget_scale=0.02)

    assert (result.verdict, result.reason) == ("failed", "tokenizer_missing")


def test_tiny_gpt2_gets_a_perplexity(tmp_path):
    snapshot = tiny_models.build_tiny_gpt2(tmp_path / "gpt2")

    result, _ = _validate(snapshot, card_meta={"pipeline_tag": "text-generation"}, budget_scale=0.2)

    assert result.suite["name"] == "causal-lm"
    (task,) = result.metrics["tasks"]
    before, after = task["probe"]["perplexity"], task["finetuned"]["perplexity"]
    assert after < before and task["scratch"]["perplexity"] > 0
    assert task["gain"] == round(task["scratch"]["perplexity"] - after, 4)
    assert (result.verdict, result.reason) == ("passed", None), result.message
    assert "Perplexity" in result.message


def test_nan_weights_give_nan_loss(tmp_path):
    snapshot = tiny_models.build_nan_bert(tmp_path / "nan-bert")

    result, _ = _validate(snapshot, budget_scale=0.02)

    assert (result.verdict, result.reason) == ("failed", "nan_loss")
    assert "NaN" in result.message


def test_unknown_architecture_is_named(tmp_path):
    snapshot = tiny_models.build_unknown_architecture_model(tmp_path / "model")

    result, _ = _validate(snapshot)

    assert (result.verdict, result.reason) == ("failed", "unsupported_architecture")
    assert "mystery-net" in result.message


def test_time_limit_gives_timeout(tiny_bert_dir):
    result, _ = _validate(tiny_bert_dir, timeout_s=1)

    assert (result.verdict, result.reason) == ("error", "timeout")


def test_memory_limit_gives_oom(tiny_bert_dir):
    result, _ = _validate(tiny_bert_dir, memory_limit_bytes=300 * 1024 * 1024, budget_scale=0.02)

    assert (result.verdict, result.reason) == ("error", "oom")
    assert result.log_tail


def test_a_failing_progress_callback_stops_the_child(tiny_bert_dir):
    class Stop(Exception):
        pass

    def stop_at_load(event):
        if event["stage"] == "load":
            raise Stop

    with pytest.raises(Stop):
        run_validation(tiny_bert_dir, card_meta={}, on_progress=stop_at_load, budget_scale=0.02)


def test_child_environment_holds_no_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "s3cret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cret")

    env = child_env(tmp_path, threads=2)

    assert "s3cret" not in json.dumps(env)
    assert env["HF_HUB_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["HOME"].startswith(str(tmp_path)) and env["HF_HOME"].startswith(str(tmp_path))
    assert set(env) - {"CUDA_VISIBLE_DEVICES"} <= {
        "PATH",
        "PYTHONPATH",
        "HOME",
        "TMPDIR",
        "HF_HOME",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY",
        "TOKENIZERS_PARALLELISM",
        "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE",
        "GLIBC_TUNABLES",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
    }


def test_temp_dirs_are_removed(tiny_bert_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)

    _validate(tiny_bert_dir, timeout_s=1)

    assert not [p for p in os.listdir(tmp_path) if p.startswith("th-validation-")]
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_tiny_vit_runs_the_image_suite(tmp_path):
    snapshot = tiny_models.build_tiny_vit(tmp_path / "vit")

    result, _ = _validate(snapshot, card_meta={"pipeline_tag": "image-classification"}, budget_scale=0.1)

    assert result.suite["name"] == "image"
    assert [t["name"] for t in result.metrics["tasks"]] == ["sklearn-digits", "mnist", "fashion-mnist"]
    assert result.reason in (None, "no_learning"), (result.message, result.log_tail)
    for task in result.metrics["tasks"]:
        for part in ("probe", "finetuned", "scratch"):
            assert 0 <= task[part]["accuracy"] <= 1
        assert task["chance_accuracy"] < 0.2


def test_killed_worker_leaves_no_orphan(tiny_bert_dir, tmp_path):
    # A stand-in worker runs a validation and is killed with SIGKILL mid-run; its child must die too.
    script = tmp_path / "worker.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from models_app.validation.runner import run_validation\n"
        "def progress(event):\n"
        "    print(event['stage'], flush=True)\n"
        f"run_validation(Path({str(tiny_bert_dir)!r}), card_meta={{}}, on_progress=progress)\n"
    )
    import signal
    import subprocess
    import sys

    import psutil

    from models_app.validation.runner import REPO_ROOT

    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    for line in worker.stdout:
        if line.strip() == "load":
            break
    children = psutil.Process(worker.pid).children()
    assert children, "the worker should have started a child"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    # Its parent watch kills it within a second; without it the child would run on until its next progress event.
    gone, alive = psutil.wait_procs(children, timeout=3)
    assert not alive
