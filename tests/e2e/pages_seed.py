"""A small catalog for the page walk (tests/e2e/test_pages.py), built inside the live hub's process.

Run as ``manage.py shell -c "from tests.e2e.pages_seed import seed; seed()"``: it publishes
through the same ``Ingest``/``revision_create`` path an upload takes and finishes validation
runs through the run state machine, so every page shows what a real hub would.
"""

from __future__ import annotations

import json

PASSWORD = "a-long-enough-passphrase-42"
OWNER = "pwalker"

CARD = """---
license: mit
pipeline_tag: text-classification
library_name: transformers
tags:
  - sentiment
  - tiny
---
# Tiny sentiment model

Fine-tunes in seconds. A long unbroken token to prove wrapping:
`transferhub-a-very-long-identifier-that-would-push-a-phone-layout-sideways-if-it-did-not-wrap`.

| column | another column | a third column with a long header | and a fourth |
| --- | --- | --- | --- |
| 1 | 2 | 3 | 4 |
"""


def seed() -> None:
    from django.contrib.auth import get_user_model

    from discussions.rooms import message_post, room_for
    from models_app.models import ModelRepo
    from tests.validation.jobs_fixtures import finished_run, publish_bytes

    User = get_user_model()
    owner = User.objects.create_user(OWNER, password=PASSWORD)
    config = json.dumps({"model_type": "bert", "hidden_size": 32, "num_labels": 2}, indent=2).encode()
    passed = ModelRepo.objects.create(owner=owner, name="tiny-sentiment")
    revision = publish_bytes(
        passed,
        {"README.md": CARD.encode(), "config.json": config, "tokenizer_config.json": b'{"do_lower_case": true}\n'},
    )
    finished_run(revision, status="passed")
    failed = ModelRepo.objects.create(owner=owner, name="broken-net")
    finished_run(publish_bytes(failed, {"config.json": b'{"model_type": "bert"}'}), status="failed", metrics={})
    ModelRepo.objects.create(owner=owner, name="empty-model")
    dataset = ModelRepo.objects.create(owner=owner, name="reviews", repo_type=ModelRepo.RepoType.DATASET)
    publish_bytes(dataset, {"train.csv": b"text,label\ngreat film,1\ndull film,0\n"})
    message_post(room_for(passed), owner, "Welcome! **Markdown** works, and so does a link: https://example.org")
    _seed_threads(passed, owner)


def _seed_threads(repo, owner) -> None:
    """PR #1 (a card change, validated: its verdict is in the thread) and discussion #2."""
    from discussions.threads import thread_open, thread_set_status
    from models_app.publish.uploads import Ingest
    from models_app.repos.revisions import revision_create
    from tests.validation.jobs_fixtures import finished_run

    pr = thread_open(repo, owner, "A card with a longer description", "It says what the model was tuned on.",
                     pull_request=True)  # fmt: skip
    ingest = Ingest(repo)
    ingest.add("README.md", [CARD.encode() + b"\nTuned on IMDB reviews, in English.\n"])
    head = revision_create(repo, author=owner, message="Longer card", add=ingest.files, branch="refs/pr/1").revision
    thread_set_status(pr, owner, "open")
    finished_run(head, status="passed")
    thread_open(repo, owner, "Which tokenizer does it use?", "The config says *bert*; which vocabulary?")
