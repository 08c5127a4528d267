"""Suite choice, each task's fixed data and budget, the learning-rate rule and the verdict rule."""

from __future__ import annotations

import hashlib

import pytest

from models_app.validation import reference
from models_app.validation.reference import (
    CAUSAL_LM,
    IMAGE_CLASSIFICATION,
    TEXT_CLASSIFICATION,
    Unsupported,
    choose_kind,
    choose_suite,
    judge,
    learning_rate,
)

BERT = {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 768}
GPT2 = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 768}
VIT = {"model_type": "vit", "architectures": ["ViTModel"], "hidden_size": 768}


@pytest.mark.parametrize(
    ("card", "config", "kind"),
    [
        ({}, BERT, TEXT_CLASSIFICATION),
        ({"pipeline_tag": "fill-mask", "library_name": "transformers"}, BERT, TEXT_CLASSIFICATION),
        ({"library_name": "sentence-transformers"}, BERT, TEXT_CLASSIFICATION),
        ({}, GPT2, CAUSAL_LM),
        ({"pipeline_tag": "text-classification"}, GPT2, TEXT_CLASSIFICATION),
        ({}, VIT, IMAGE_CLASSIFICATION),
        ({"pipeline_tag": "image-classification"}, {"model_type": "resnet"}, IMAGE_CLASSIFICATION),
        ({"pipeline_tag": "text-generation"}, {"model_type": "llama"}, CAUSAL_LM),
        # A tag the architecture cannot serve is ignored in favour of what it can do.
        ({"pipeline_tag": "text-generation"}, VIT, IMAGE_CLASSIFICATION),
    ],
)
def test_task_kind_from_card_and_config(card, config, kind):
    assert choose_kind(card, config) == kind


@pytest.mark.parametrize(
    ("card", "config", "needle"),
    [
        ({"library_name": "timm"}, VIT, "library_name 'timm'"),
        ({}, {"model_type": "mystery-net"}, "mystery-net"),
        ({}, {}, "model_type None"),
        ({}, {"model_type": "clap"}, "fits none"),
    ],
)
def test_unsupported_models_are_named(card, config, needle):
    with pytest.raises(Unsupported, match=needle):
        choose_kind(card, config)


def test_imdb_file_is_fixed_and_balanced():
    from models_app.validation import datasets

    data = datasets.load_imdb_file()
    train_texts, train_labels = data["train"]
    test_texts, test_labels = data["test"]

    assert (len(train_texts), len(test_texts)) == (2000, 500)
    assert sum(train_labels) == 1000 and sum(test_labels) == 250
    assert not set(train_texts) & set(test_texts)
    assert datasets.imdb_csv_sha256() == hashlib.sha256(datasets.imdb_csv_bytes()).hexdigest()
    assert datasets.imdb_csv_sha256() == "475c514e4e353b711a89442470c9a9f63b58331c824a04aa999501aa32cdae43"


def test_each_modality_has_its_suite_of_fixed_tasks():
    from models_app.validation import datasets

    text, image, causal = reference.all_suites()
    assert (text.name, image.name, causal.name) == ("text", "image", "causal-lm")
    assert len(text.tasks) >= 3 and len(image.tasks) >= 3 and [t.name for t in causal.tasks] == ["imdb-next-token"]
    for task in text.tasks + image.tasks:
        assert task.dataset_sha256 == datasets.sha256(task.data)
        assert task.budget["train_examples"] <= 1000 and task.seed == reference.SEED
        assert task.num_labels == len(datasets.DATASETS[task.data].labels) >= 2
    assert {t.kind for t in text.tasks} == {TEXT_CLASSIFICATION}
    assert {t.kind for t in image.tasks} == {IMAGE_CLASSIFICATION}


def test_suite_carries_seed_budget_hash_and_the_models_learning_rate():
    suite = choose_suite({}, {"model_type": "bert", "hidden_size": 64}).to_dict()

    assert suite["name"] == "text" and suite["metric"] == "accuracy"
    first = suite["tasks"][0]
    assert first["name"] == "imdb" and first["seed"] == reference.SEED
    assert first["budget"]["steps"] == 100 and first["budget"]["train_examples"] == 1000
    assert all(task["budget"]["lr"] == pytest.approx(1e-3) for task in suite["tasks"])
    wide = choose_suite({}, {"model_type": "bert", "hidden_size": 768}).to_dict()
    assert wide["tasks"][0]["budget"]["lr"] == pytest.approx(1e-3 * 64 / 768)


def test_budget_scale_shrinks_steps_and_data():
    budget = reference.classification_task("imdb", scale=0.1).budget

    assert budget["steps"] == 10
    assert budget["train_examples"] == 100


def test_task_fingerprint_changes_with_budget_and_data():
    one, two = reference.classification_task("imdb"), reference.classification_task("imdb", scale=0.5)
    assert one.fingerprint() == reference.classification_task("imdb").fingerprint()
    assert one.fingerprint() != two.fingerprint()
    assert one.fingerprint() != reference.classification_task("fortune-topics").fingerprint()


@pytest.mark.parametrize(
    ("config", "lr"),
    [
        ({"hidden_size": 64}, 1e-3),
        ({"hidden_size": 32}, 1e-3),  # capped
        ({"hidden_size": 768}, 1e-3 * 64 / 768),
        ({"n_embd": 1024}, 6.25e-5),
        ({"hidden_sizes": [256, 512, 1024, 2048]}, 3.125e-5),
        ({"hidden_size": 8192}, 2e-5),  # floor
    ],
)
def test_learning_rate_rule(config, lr):
    assert learning_rate({"lr_at_width_64": 1e-3}, config) == pytest.approx(lr)


def _task(losses, accuracy, chance=0.5, probe=0.55, scratch=0.5):
    return {
        "name": "t",
        "metric": "accuracy",
        "loss_curve": {"step": list(range(1, len(losses) + 1)), "loss": losses},
        "finetuned": {"accuracy": accuracy, "macro_f1": accuracy},
        "probe": {"accuracy": probe, "macro_f1": probe},
        "scratch": {"accuracy": scratch},
        "gain": round(accuracy - scratch, 4),
        "chance_accuracy": chance,
    }


def _judge(suite, tasks):
    metrics = {"tasks": tasks}
    metrics["suite"] = reference.suite_summary(suite, tasks)
    return judge(suite, metrics)


def test_judge_a_classification_suite_on_its_mean():
    suite = reference.suite_for(TEXT_CLASSIFICATION)
    falling = [0.7] * 10 + [0.5] * 10

    verdict, reason, message = _judge(suite, [_task(falling, 0.9), _task(falling, 0.5)])
    assert (verdict, reason) == ("passed", None)  # mean 70% against mean chance 50%
    assert "70.0% fine-tuned" in message and "+20.0 points over the same network trained from scratch" in message
    assert _judge(suite, [_task(falling, 0.6), _task(falling, 0.5)])[:2] == ("failed", "no_learning")
    verdict, reason, message = _judge(suite, [_task([0.69] * 20, 0.9)])
    assert (verdict, reason) == ("failed", "no_learning")
    assert "did not fall" in message


def test_suite_summary_means_and_gain():
    suite = reference.suite_for(TEXT_CLASSIFICATION)
    falling = [0.7] * 10 + [0.5] * 10
    summary = reference.suite_summary(suite, [_task(falling, 0.9, probe=0.8, scratch=0.6), _task(falling, 0.7)])
    assert summary | {"loss_drop": None} == {
        "metric": "accuracy",
        "tasks": 2,
        "probe": 0.675,
        "finetuned": 0.8,
        "scratch": 0.55,
        "gain": 0.25,
        "chance": 0.5,
        "loss_drop": None,
    }


def test_judge_causal_lm():
    suite = reference.suite_for(CAUSAL_LM)
    task = {
        "name": "imdb-next-token",
        "metric": "perplexity",
        "loss_curve": {"step": [1, 2], "loss": [7.0, 5.0]},
        "probe": {"perplexity": 2000.0},
        "scratch": {"perplexity": 900.0},
        "vocab_size": 2000,
    }

    verdict, _, message = _judge(suite, [task | {"finetuned": {"perplexity": 150.0}}])
    assert verdict == "passed" and "from 2000.0 to 150.0 (900.0 from scratch)" in message
    assert _judge(suite, [task | {"finetuned": {"perplexity": 1950.0}}])[1] == "no_learning"
    assert reference.task_gain(task | {"finetuned": {"perplexity": 150.0}}, "perplexity") == 750.0
