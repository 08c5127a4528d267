"""Reference task choice, the fixed datasets, the learning-rate rule and the verdict rule."""

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
    choose_task,
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


def test_imdb_subset_is_fixed_and_balanced():
    data = reference.load_imdb()
    train_texts, train_labels = data["train"]
    test_texts, test_labels = data["test"]

    assert (len(train_texts), len(test_texts)) == (2000, 500)
    assert sum(train_labels) == 1000 and sum(test_labels) == 250
    assert not set(train_texts) & set(test_texts)
    assert reference.imdb_sha256() == hashlib.sha256(reference.imdb_csv_bytes()).hexdigest()
    assert reference.imdb_sha256() == "475c514e4e353b711a89442470c9a9f63b58331c824a04aa999501aa32cdae43"


def test_digits_split_is_fixed():
    x_train, y_train, x_test, y_test = reference.load_digits_split()
    again = reference.load_digits_split()

    assert x_train.shape == (1400, 8, 8) and x_test.shape == (397, 8, 8)
    assert (again[3] == y_test).all()
    assert len(set(y_train.tolist())) == 10
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0


def test_task_carries_seed_budget_and_hash():
    task = choose_task({}, {"model_type": "bert", "hidden_size": 64}).to_dict()

    assert task["name"] == "imdb-sentiment"
    assert task["seed"] == reference.SEED
    assert task["dataset_sha256"] == reference.imdb_sha256()
    assert task["budget"]["steps"] == 150
    assert task["budget"]["lr"] == pytest.approx(1e-3)


def test_budget_scale_shrinks_steps_and_data():
    budget = reference.text_classification_task(scale=0.1).budget

    assert budget["steps"] == 15
    assert budget["train_examples"] == 200


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


def _metrics(losses, accuracy, chance=0.5, probe=0.55):
    return {
        "loss_curve": {"step": list(range(1, len(losses) + 1)), "loss": losses},
        "finetuned": {"accuracy": accuracy, "macro_f1": accuracy},
        "baseline": {"accuracy": probe, "macro_f1": probe},
        "chance_accuracy": chance,
    }


def test_judge_classification():
    task = reference.text_classification_task()
    falling = [0.7] * 10 + [0.5] * 10

    assert judge(task, _metrics(falling, 0.7))[:2] == ("passed", None)
    assert judge(task, _metrics(falling, 0.55))[:2] == ("failed", "no_learning")
    verdict, reason, message = judge(task, _metrics([0.69] * 20, 0.7))
    assert (verdict, reason) == ("failed", "no_learning")
    assert "did not fall" in message


def test_judge_causal_lm():
    task = reference.causal_lm_task()
    falling = {"step": [1, 2], "loss": [7.0, 5.0]}
    metrics = {"loss_curve": falling, "baseline": {"perplexity": 2000.0}, "vocab_size": 2000}

    assert judge(task, metrics | {"finetuned": {"perplexity": 150.0}})[0] == "passed"
    assert judge(task, metrics | {"finetuned": {"perplexity": 1950.0}})[1] == "no_learning"
