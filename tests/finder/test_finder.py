"""The finder end to end without a broker: a dataset repo, real models, the sandboxed child, the estimators.

The Celery tasks only call ``service.rank_find`` / ``confirm_find``; these tests
call them directly, as the worker would, with real feature extraction and
fine-tunes in the validation child process.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from models_app.finder import service, work
from models_app.finder.models import Find
from models_app.models import ModelRepo
from models_app.repos.rules import repo_create
from models_app.validation.runs import summary_update
from tests.factories import tiny_models
from tests.validation.jobs_fixtures import finished_run, publish_bytes, publish_folder

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TEXTS = {
    0: ["a dull boring film", "awful acting and a bad plot", "i hated every minute", "terrible and slow"],
    1: ["a great fun film", "wonderful acting and a fine plot", "i loved every minute", "brilliant and moving"],
}


def _csv(copies: int = 5) -> bytes:
    rows = ["text,label"] + [f"{t} {i},{label}" for i in range(copies) for label, ts in TEXTS.items() for t in ts]
    return ("\n".join(rows) + "\n").encode()


def _validated_model(owner, name: str, folder) -> ModelRepo:
    """A public text model whose main the hub ran on the text suite (what makes it a candidate)."""
    repo = ModelRepo.objects.create(owner=owner, name=name, library_name="transformers")
    run = finished_run(publish_folder(repo, folder))
    summary_update(run)
    return repo


@pytest.fixture
def two_models(jobs_settings, owner, tmp_path, tiny_bert_dir):
    small = _validated_model(owner, "tiny-a", tiny_bert_dir)
    wide = _validated_model(owner, "tiny-b", tiny_models.build_tiny_bert(tmp_path / "wide", hidden=96))
    return small, wide


@pytest.fixture
def dataset(owner):
    repo = repo_create(owner, "reviews", private=True, repo_type="dataset")
    publish_bytes(repo, {"train.csv": _csv(), "README.md": b"---\nlicense: mit\n---\n# reviews\n"})
    return repo


def test_a_search_ranks_every_candidate_and_reuses_features(
    two_models, dataset, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as hooks:
        find = service.find_create(owner, dataset)
    assert hooks  # the ranking task is sent after the commit
    assert (find.status, find.modality, find.examples, find.label_names) == ("queued", "text", 40, ["0", "1"])
    assert find.rows.count() == 2

    work.rank_find(find.pk)

    find.refresh_from_db()
    assert find.status == "done" and find.finished is not None
    for row in find.rows.all():
        assert row.status == "done", row.message
        assert 0 <= row.knn <= 1 and 0 <= row.linear_probe <= 1 and row.logme is not None
        assert row.num_parameters > 100_000 and row.param_baseline == pytest.approx(
            len(str(row.num_parameters)) - 1, abs=1
        )
        assert row.seconds > 0 and not row.features_cached
    # The same data again: features come from the cache (per model revision and dataset hash).
    again = service.find_create(owner, dataset)
    work.rank_find(again.pk)
    assert all(row.features_cached and row.status == "done" for row in again.rows.all())
    assert sorted(again.rows.values_list("knn", flat=True)) == sorted(find.rows.values_list("knn", flat=True))
    assert work.rank_find(again.pk) is None  # a redelivered message finds it done


def test_confirmation_fine_tunes_the_top_k_and_reports_kendall_tau(two_models, dataset, owner, other_user):
    find = service.find_create(owner, dataset)
    work.rank_find(find.pk)
    with pytest.raises(Exception, match="Only whoever started"):
        service.find_confirm(other_user, find, 2)
    service.find_confirm(owner, Find.objects.get(pk=find.pk), 2)
    with pytest.raises(Exception, match="already running"):
        service.find_confirm(owner, Find.objects.get(pk=find.pk), 2)

    work.confirm_find(find.pk)

    find.refresh_from_db()
    assert find.confirm_status == "done" and find.confirm_k == 2
    rows = list(find.rows.all())
    assert all(row.confirm_status == "done" and 0 <= row.measured <= 1 for row in rows), [
        r.confirm_message for r in rows
    ]
    assert set(find.confirm_tau) == set(service.ESTIMATORS)
    assert all(tau is None or -1 <= tau <= 1 for tau in find.confirm_tau.values())


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({"train.csv": b"sentence,label\na,1\nb,1\nc,2\nd,2\n"}, "train.csv: no 'text' column"),
        ({"notes.md": b"# nothing"}, "no labelled data found"),
    ],
)
def test_a_bad_layout_is_refused_at_once_naming_the_file(jobs_settings, owner, write_client, files, needle):
    repo = repo_create(owner, "bad", repo_type="dataset")
    publish_bytes(repo, files)
    answer = write_client.post("/api/datasets/alice/bad/find")
    assert answer.status_code == 400 and needle in answer.json()["error"]
    assert not Find.objects.exists()


def test_api_and_access(two_models, dataset, owner, write_client, read_client, other_client, anon_client):
    started = write_client.post("/api/datasets/alice/reviews/find")
    assert started.status_code == 202, started.json()
    body = started.json()
    assert body["status"] == "queued" and body["modality"] == "text" and len(body["rows"]) == 2
    assert body["limits"]["max_examples"] == 2000
    # A private dataset and its searches are the owner's only; a read token cannot start work.
    assert other_client.get(f"/api/finds/{body['id']}").status_code == 404
    assert anon_client.get(f"/api/finds/{body['id']}").status_code == 404
    assert other_client.post("/api/datasets/alice/reviews/find").status_code == 404
    assert read_client.post("/api/datasets/alice/reviews/find").status_code == 403
    assert anon_client.post(f"/api/finds/{body['id']}/confirm").status_code in (401, 403)
    early = write_client.post(f"/api/finds/{body['id']}/confirm", {"k": 2}, format="json")
    assert early.status_code == 409 and "not finished" in early.json()["error"]
    assert write_client.post(f"/api/finds/{body['id']}/confirm", {"k": 99}, format="json").status_code in (400, 409)

    work.rank_find(body["id"])
    ranked = write_client.get(f"/api/finds/{body['id']}?sort=logme").json()
    assert ranked["status"] == "done" and ranked["sort"] == "logme"
    logme = [row["logme"] for row in ranked["rows"]]
    assert logme == sorted(logme, reverse=True) and [r["rank"] for r in ranked["rows"]] == [1, 2]
    browser = Client()
    browser.force_login(owner)
    page = browser.get(f"/finds/{body['id']}?sort=logme")
    assert page.status_code == 200 and "tiny-a" in page.content.decode() and "<b>LogME</b>" in page.content.decode()
    assert "Fine-tune them" in page.content.decode()  # the owner may confirm a finished search
    assert anon_client.get(f"/finds/{body['id']}").status_code == 404  # a private dataset's search
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"/api/datasets/{owner}/{name}/find", "/api/finds/{find_id}", "/api/finds/{find_id}/confirm"} <= set(schema)
    json.dumps(ranked)


def test_a_file_uploaded_on_the_finder_page_becomes_a_private_dataset_and_a_search(two_models, owner, other_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    browser = Client()
    browser.force_login(owner)
    page = browser.get("/find").content.decode()
    assert 'action="/find/upload"' in page and "tiny" not in page.split("Your datasets")[1].split("</section>")[0]
    answer = browser.post("/find/upload", {"files": SimpleUploadedFile("train.csv", _csv())})
    assert answer.status_code == 302 and answer["Location"].startswith("/finds/")
    find = Find.objects.get()
    assert find.dataset.repo_type == "dataset" and find.dataset.private and find.dataset.owner == owner
    assert find.examples == 40 and find.rows.count() == 2
    assert Client().get(f"/datasets/{find.dataset.repo_id}").status_code == 404  # private
    # A bad file is kept as the user's dataset, with the reason; a wrong kind of file is refused before saving.
    bad = browser.post("/find/upload", {"files": SimpleUploadedFile("d.csv", b"sentence,label\na,1\n")}, follow=True)
    assert "no &#x27;text&#x27; column" in bad.content.decode()
    assert ModelRepo.objects.filter(owner=owner, repo_type="dataset").count() == 2
    refused = browser.post("/find/upload", {"files": SimpleUploadedFile("x.exe", b"MZ")}, follow=True)
    assert "takes CSV or JSONL files" in refused.content.decode()
    assert ModelRepo.objects.filter(owner=owner, repo_type="dataset").count() == 2


def test_a_dataset_card_is_not_asked_for_a_pipeline_tag(jobs_settings, owner):
    from models_app.publish.uploads import Ingest
    from models_app.repos.revisions import revision_create

    card = b"---\nlicense: mit\n---\n# Reviews\n\nTwo thousand labelled movie reviews, for the finder.\n"
    results = []
    for repo_type in ("dataset", "model"):
        repo = repo_create(owner, "cards", repo_type=repo_type)
        ingest = Ingest(repo)
        ingest.add("README.md", [card])
        results.append(revision_create(repo, author=owner, message="card", add=ingest.files).card_warnings)
    dataset_warnings, model_warnings = results
    assert not [w for w in dataset_warnings if "pipeline_tag" in w]
    assert [w for w in model_warnings if "pipeline_tag" in w]
