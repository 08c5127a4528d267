"""``manage.py publish_demo``: the demo model is built locally, published once, and queued for validation."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from models_app.models import ModelRepo, Revision
from models_app.validation.models import ValidationRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_publish_demo_once_with_its_card_and_a_queued_run(jobs_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as upload_hooks:
        call_command("publish_demo")
    with django_capture_on_commit_callbacks() as queue_hooks:
        for hook in upload_hooks:
            hook()
    repo = ModelRepo.objects.get(owner__username="demo", name="tiny-bert")
    assert repo.owner.is_organization and not repo.owner.has_usable_password()  # the demo belongs to an org
    assert (repo.pipeline_tag, repo.library_name, repo.license) == ("feature-extraction", "transformers", "apache-2.0")
    revision = Revision.objects.get(repo=repo)
    paths = set(revision.files.values_list("path", flat=True))
    assert {"README.md", "config.json", "model.safetensors", "tokenizer.json"} <= paths
    assert not any(path.endswith((".bin", ".pt", ".pkl")) for path in paths)
    assert ValidationRun.objects.get(revision=revision).status == "queued"
    assert queue_hooks  # the message goes out after commit
    call_command("publish_demo")  # idempotent: nothing new
    assert Revision.objects.filter(repo=repo).count() == 1
    assert ValidationRun.objects.filter(revision__repo=repo).count() == 1
