"""Transferability estimators on synthetic features: signal beats noise, rankings follow signal, input errors."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from models_app.validation.estimators import (
    ESTIMATORS,
    kendall_tau,
    knn_loo_accuracy,
    linear_probe_cv,
    logme,
    param_count_baseline,
    score_all,
)


def blobs(n: int, d: int, classes: int, noise: float, seed: int = 0, spread: float = 1.0):
    """Gaussian blobs: a random mean per class (scaled by ``spread``) plus isotropic noise; balanced labels."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(classes, d)) * spread
    labels = np.arange(n) % classes
    return means[labels] + noise * rng.normal(size=(n, d)), labels


def pure_noise(n: int, d: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.fixture(scope="module")
def separated():
    return blobs(300, 32, 5, noise=0.3)


def test_well_separated_blobs_score_high_and_noise_scores_chance(separated):
    features, labels = separated
    noise = pure_noise(*features.shape)
    assert knn_loo_accuracy(features, labels) >= 0.99
    assert linear_probe_cv(features, labels) >= 0.99
    assert abs(knn_loo_accuracy(noise, labels) - 1 / 5) < 0.1
    assert abs(linear_probe_cv(noise, labels) - 1 / 5) < 0.1
    good, bad = logme(features, labels), logme(noise, labels)
    assert math.isfinite(good) and math.isfinite(bad)
    assert good > 1.0 > 0.0 > bad


def test_rankings_follow_the_class_signal():
    """A monotone sweep of noise over the same class means: every estimator ranks less noise higher."""
    levels = [0.5, 1.0, 1.5, 2.5, 4.0, 8.0]
    truth = [-level for level in levels]
    rng = np.random.default_rng(2)
    means, base = rng.normal(size=(5, 32)), rng.normal(size=(300, 32))
    labels = np.arange(300) % 5
    scores = {name: [] for name in ESTIMATORS}
    for level in levels:
        for name, value in score_all(means[labels] + level * base, labels).items():
            scores[name].append(value)
    for name, values in scores.items():
        tau = kendall_tau(values, truth)
        assert tau is not None and tau >= 0.8, (name, values, tau)


def test_logme_barely_moves_with_a_constant_column(separated):
    """LogME fits no intercept (as in the paper), so on zero-mean features a constant column helps a little.

    Measured: about 0.09 against a signal-vs-noise gap of about 0.88; on features that already carry an
    offset (as ReLU features do) under 0.001.
    """
    features, labels = blobs(300, 32, 5, noise=1.0, seed=3)
    noise = pure_noise(*features.shape)
    gap = logme(features, labels) - logme(noise, labels)
    assert gap > 0.5

    def shift(matrix, labels):
        return logme(np.hstack([matrix, np.ones((matrix.shape[0], 1))]), labels) - logme(matrix, labels)

    for matrix, lab in ((features, labels), separated, (noise, labels)):
        assert abs(shift(matrix, lab)) < 0.25 * gap
    assert abs(shift(features + 2.0, labels)) < 0.01


def test_logme_with_fewer_examples_than_dimensions():
    features, labels = blobs(50, 300, 5, noise=1.0, seed=4)
    good, bad = logme(features, labels), logme(pure_noise(50, 300), labels)
    assert math.isfinite(good) and math.isfinite(bad)
    assert good > bad
    # The SVD path (n < d) and the F^T F path (n > d) agree on the same problem seen from both sides.
    wide = logme(features[:, :60], labels)
    padded = logme(np.hstack([features[:, :60], np.zeros((50, 10))]), labels)
    assert wide == pytest.approx(padded, abs=1e-6)
    tall, tall_labels = blobs(80, 60, 5, noise=1.0, seed=5)
    assert logme(tall, tall_labels) == pytest.approx(
        logme(np.hstack([tall, np.zeros((80, 40))]), tall_labels), abs=1e-6
    )


def test_logme_degenerate_features_stay_finite():
    labels = np.arange(40) % 4
    assert math.isfinite(logme(np.zeros((40, 8)), labels))
    assert math.isfinite(logme(np.eye(40), labels))  # one feature per example: an exact fit is possible


def _at(*degrees: float) -> np.ndarray:
    """Unit vectors at these angles, so cosine similarities are easy to read."""
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


@pytest.mark.parametrize(
    ("degrees", "labels", "k", "predicted"),
    [
        # Majority first: two votes for class 1 beat the single closest neighbour of class 2.
        ((0, 5, 40, -40, 180, 185), [0, 2, 1, 1, 0, 2], 3, 1),
        # One vote each: the larger summed similarity (10 degrees away beats 20) wins.
        ((0, 20, 10, 180, 190, 200), [0, 2, 1, 0, 1, 2], 2, 1),
        # One vote each at exactly the same similarity: the smaller label wins.
        ((0, 30, -30, 180, 170, 190), [0, 2, 1, 0, 1, 2], 2, 1),
        ((0, 30, -30, 180, 170, 190), [0, 1, 2, 0, 1, 2], 2, 1),
    ],
)
def test_knn_vote_and_tie_breaks(degrees, labels, k, predicted):
    from models_app.validation.estimators import _knn_loo_predictions

    features, labels = _at(*degrees), np.array(labels)
    assert _knn_loo_predictions(features, labels, k)[0] == predicted
    assert _knn_loo_predictions(features, labels, k)[0] == _knn_reference(features, labels, k)[0]


def _knn_reference(features: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """A plain-Python leave-one-out k-NN with the same rule, to check the vectorised one."""
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    predicted = []
    for i in range(len(labels)):
        others = [j for j in range(len(labels)) if j != i]
        nearest = sorted(others, key=lambda j: -float(unit[i] @ unit[j]))[:k]
        tally: dict[int, list[float]] = {}
        for j in nearest:
            vote = tally.setdefault(int(labels[j]), [0, 0.0])
            vote[0] += 1
            vote[1] += float(unit[i] @ unit[j])
        predicted.append(min(tally, key=lambda c: (-tally[c][0], -tally[c][1], c)))
    return np.array(predicted)


def test_knn_matches_the_reference_on_random_data():
    features, labels = blobs(60, 6, 3, noise=2.0, seed=6)
    for k in (1, 3, 4, 5):
        expected = float(np.mean(_knn_reference(features, labels, k) == labels))
        assert knn_loo_accuracy(features, labels, k=k) == pytest.approx(expected)


def test_linear_probe_reduces_folds_for_small_classes():
    features, labels = blobs(40, 8, 2, noise=0.2, seed=7)
    labels = labels.copy()
    labels[:] = 0
    labels[:3] = 1  # class 1 has 3 examples: 3 folds
    assert 0.0 <= linear_probe_cv(features, labels) <= 1.0
    labels[2] = 0  # 2 examples: the minimum, 2 folds
    assert 0.0 <= linear_probe_cv(features, labels, folds=10) <= 1.0


def test_param_count_baseline():
    assert param_count_baseline(1_000_000) == pytest.approx(6.0)
    assert param_count_baseline(110_000_000) > param_count_baseline(22_000_000)
    with pytest.raises(ValueError):
        param_count_baseline(0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([1, 2, 3, 4, 5], [10, 20, 30, 40, 50], 1.0),
        ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], -1.0),
        # Pairs: 4 concordant, 0 discordant, one tie in each list: 4 / sqrt(5 * 5).
        ([1, 2, 2, 3], [1, 2, 3, 3], 0.8),
        # 3 concordant, 2 discordant, no tie in a, one in b: 1 / sqrt(6 * 5).
        ([1, 2, 3, 4], [1, 3, 2, 2], 1 / math.sqrt(30)),
        # 1 concordant, 2 discordant: (1 - 2) / 3.
        ([1, 2, 3], [2, 3, 1], -1 / 3),
    ],
)
def test_kendall_tau_hand_computed(a, b, expected):
    assert kendall_tau(a, b) == pytest.approx(expected)
    assert kendall_tau(b, a) == pytest.approx(expected)


def test_kendall_tau_undefined_cases():
    assert kendall_tau([], []) is None
    assert kendall_tau([1.0], [2.0]) is None
    assert kendall_tau([1, 1, 1], [1, 2, 3]) is None
    assert kendall_tau([1, 2, 3], [4, 4, 4]) is None
    with pytest.raises(ValueError):
        kendall_tau([1, 2], [1, 2, 3])


@pytest.mark.parametrize(
    ("features", "labels", "message"),
    [
        (np.zeros((4, 2)), np.zeros(4, dtype=int), "only one class"),
        (np.zeros((5, 2)), np.array([0, 0, 1, 1, 3]), "class 3 has 1 example; each class needs at least 2"),
        (np.zeros(4), np.array([0, 0, 1, 1]), "2-D"),
        (np.zeros((4, 2)), np.array([0, 0, 1]), "must match"),
        (np.zeros((4, 2)), np.array([0.0, 0.0, 1.0, 1.0]), "integers"),
        (np.zeros((4, 2)), np.array([[0, 0, 1, 1]]), "1-D"),
        (np.array([[0.0, np.nan]] * 4), np.array([0, 0, 1, 1]), "NaN"),
        (np.array([["a", "b"]] * 4), np.array([0, 0, 1, 1]), "numbers"),
        (np.zeros((0, 2)), np.zeros(0, dtype=int), "no examples"),
    ],
)
def test_input_errors(features, labels, message):
    for estimator in (*ESTIMATORS.values(), score_all):
        with pytest.raises(ValueError, match=message):
            estimator(features, labels)


def test_score_all_turns_a_failing_estimator_into_none(monkeypatch, separated):
    def broken(features, labels):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setitem(ESTIMATORS, "logme", broken)
    monkeypatch.setitem(ESTIMATORS, "nan", lambda features, labels: float("nan"))
    scores = score_all(*separated)
    assert scores["logme"] is None and scores["nan"] is None
    assert scores["knn"] >= 0.99


def test_score_all_on_a_realistic_shape():
    """1,000 x 384 with 10 classes, as float32 features come from a model; prints the time, asserts none."""
    features, labels = blobs(1000, 384, 10, noise=1.0, seed=8, spread=0.3)
    started = time.perf_counter()
    scores = score_all(features.astype(np.float32), labels)
    print(f"score_all on 1,000 x 384, 10 classes: {time.perf_counter() - started:.3f} s")
    assert set(scores) == {"knn", "logme", "linear_probe"}
    assert all(value is not None and math.isfinite(value) for value in scores.values())
    assert scores["knn"] > 0.5 and scores["linear_probe"] > 0.5


@pytest.mark.parametrize(("n", "d"), [(40, 10), (20, 30)])
def test_logme_reaches_the_maximum_of_the_marginal_likelihood(n, d):
    """Independent check: y ~ N(0, I/beta + F F^T/alpha) maximised over a fine (alpha, beta) grid per class."""
    features, labels = blobs(n, d, 3, noise=1.0, seed=9)
    eigenvalues, vectors = np.linalg.eigh(features @ features.T)
    grid = np.logspace(-3, 3, 241)
    variance = 1 / grid[None, :, None] + np.clip(eigenvalues, 0, None)[None, None, :] / grid[:, None, None]
    best = []
    for c in range(3):
        projected2 = (vectors.T @ (labels == c).astype(float)) ** 2
        log_likelihood = -0.5 * (n * np.log(2 * np.pi) + np.log(variance).sum(-1) + (projected2 / variance).sum(-1))
        best.append(log_likelihood.max() / n)
    # The iteration stops at 1e-3 relative change (or 11 steps), a hair short of the exact maximum.
    assert np.mean(best) - 1e-3 <= logme(features, labels) <= np.mean(best) + 2e-3
