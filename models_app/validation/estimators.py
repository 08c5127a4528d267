"""Transferability estimators: rank pretrained models for a labelled dataset from frozen features.

Each estimator reads one model's frozen feature matrix (examples x dimensions)
and the dataset's integer labels, and returns a score where higher means the
model should transfer better:

* ``knn``: leave-one-out k-NN accuracy, cosine similarity ("k-NN as a Simple
  and Effective Estimator of Transferability", 2025).
* ``logme``: LogME (You et al., ICML 2021), the maximised log marginal
  evidence per example of a Bayesian linear model, averaged over one-vs-rest
  targets; written from the paper's algorithm.
* ``linear_probe``: stratified cross-validated accuracy of a standardised
  logistic regression.

``param_count_baseline`` is the trivial "bigger is better" heuristic shown
beside them ("How NOT to benchmark your SITE metric", 2025), and
``kendall_tau`` measures how well a ranking agrees with the measured one.

Inputs: 2-D numeric features (cast to float64, NaN refused), 1-D integer
labels of the same length, at least 2 classes with at least 2 examples each;
anything else raises ValueError with one readable sentence. ``score_all``
raises that too, once, before any estimator runs (bad data is the dataset's
fault and the same for every model); after that an estimator that fails or
gives a non-finite number scores None. LogME follows the paper exactly: no
centring and no intercept, so on zero-mean features a constant column can
raise it slightly (about a tenth of a signal-vs-noise gap in the tests).

Pure numpy at import (scikit-learn is imported inside ``linear_probe_cv``), no
Django, no torch: it runs in the hub's sandboxed child process.

Speed: ``score_all`` on 1,000 x 384 float32 features with 10 classes took
0.18 s (median of 5 runs: knn 0.04 s, LogME 0.05 s, linear probe 0.10 s) on
2 vCPUs shared with other jobs (load average about 5.6), 2026-12-07; one run
of the five took 1.9 s when the machine was busiest. Each estimator holds BLAS
and OpenMP to one thread (see ``_single_threaded``); with the default two
threads the same call took 5 to 8 s on that loaded machine.
``tests/validation/test_estimators.py::test_score_all_on_a_realistic_shape``
prints the figure (run pytest with ``-s``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

# LogME's fixed-point iteration: at most this many updates, or until alpha/beta moves by less than this, relatively.
LOGME_MAX_ITERATIONS = 11
LOGME_TOLERANCE = 1e-3
# Keeps alpha and beta finite on degenerate features (all zero, one point per class, exact fits).
_LOGME_CLAMP = (1e-12, 1e12)


def _single_threaded(estimator: Callable) -> Callable:
    """Run the estimator with BLAS and OpenMP held to one thread.

    On 2 shared CPUs, thread pools that spin against other processes made the
    linear probe 20-60x slower (5.8 s instead of 0.09 s on 1,000 x 384) and
    LogME 5x slower; one thread is fast and predictable. threadpoolctl comes
    with scikit-learn; without it the estimator runs as is.
    """

    @functools.wraps(estimator)
    def wrapper(*args, **kwargs):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn depends on it
            limits = contextlib.nullcontext()
        else:
            limits = threadpool_limits(limits=1)
        with limits:
            return estimator(*args, **kwargs)

    return wrapper


def _validate(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The features as float64 and the labels as int64, or a ValueError a user can read."""
    features = np.asarray(features)
    labels = np.asarray(labels)
    if features.ndim != 2:
        raise ValueError(f"the features must be a 2-D matrix (examples x dimensions), not {features.ndim}-D.")
    if not (np.issubdtype(features.dtype, np.floating) or np.issubdtype(features.dtype, np.integer)):
        raise ValueError(f"the features must be numbers, not {features.dtype}.")
    if labels.ndim != 1:
        raise ValueError(f"the labels must be a 1-D list, not {labels.ndim}-D.")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"the labels must be integers, not {labels.dtype}.")
    if features.shape[0] != labels.shape[0]:
        raise ValueError(f"there are {features.shape[0]} feature rows but {labels.shape[0]} labels; they must match.")
    if features.shape[1] == 0:
        raise ValueError("the features have no dimensions.")
    features = features.astype(np.float64, copy=False)
    if not np.isfinite(features).all():
        raise ValueError("the features contain NaN or infinite values.")
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size == 0:
        raise ValueError("the dataset has no examples.")
    if classes.size < 2:
        raise ValueError(f"the dataset has only one class ({classes[0]}); at least 2 are needed.")
    small = np.flatnonzero(counts < 2)
    if small.size:
        raise ValueError(f"class {classes[small[0]]} has 1 example; each class needs at least 2.")
    return features, labels.astype(np.int64, copy=False)


@_single_threaded
def knn_loo_accuracy(features: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-NN accuracy with cosine similarity on L2-normalised features.

    Each example is classified by its ``k`` most similar other examples (never
    itself): majority vote, ties broken by the larger summed similarity, then by
    the smaller label.
    """
    features, labels = _validate(features, labels)
    return float(np.mean(_knn_loo_predictions(features, labels, k) == labels))


def _knn_loo_predictions(features: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Each example's leave-one-out k-NN prediction (validated float64 features, int labels)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}.")
    n = features.shape[0]
    k = min(k, n - 1)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.where(norms > 0, norms, 1.0)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)  # exclude self
    neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    neighbour_similarity = np.take_along_axis(similarity, neighbours, axis=1)

    classes, class_index = np.unique(labels, return_inverse=True)  # sorted: a smaller index is a smaller label
    neighbour_class = class_index[neighbours]
    rows = np.repeat(np.arange(n), k)
    votes = np.zeros((n, classes.size))
    np.add.at(votes, (rows, neighbour_class.ravel()), 1.0)
    summed = np.zeros((n, classes.size))
    np.add.at(summed, (rows, neighbour_class.ravel()), neighbour_similarity.ravel())

    most = votes == votes.max(axis=1, keepdims=True)
    # argmax returns the first maximum, so equal sums go to the smaller label.
    predicted = np.argmax(np.where(most, summed, -np.inf), axis=1)
    return classes[predicted]


def _logme_evidence(sigma: np.ndarray, z: np.ndarray, y_norm2: float, n: int) -> float:
    """Maximised log evidence per example for one target, given the spectrum of F^T F and z = U^T y.

    ``sigma`` holds all d eigenvalues of F^T F (zeros for the null space) and
    ``z`` the target's coordinates along the matching left singular vectors
    (zero where sigma is zero). The model: w ~ N(0, alpha^-1 I),
    y ~ N(F w, beta^-1 I); the fixed point updates gamma, alpha and beta.
    """
    d = sigma.size
    z2 = z * z
    outside = max(y_norm2 - float(z2.sum()), 0.0)  # the part of y that no feature direction reaches
    low, high = _LOGME_CLAMP
    alpha, beta = 1.0, 1.0
    for _ in range(LOGME_MAX_ITERATIONS):
        denominator = alpha + beta * sigma
        gamma = float(np.sum(beta * sigma / denominator))
        m2 = float(np.sum(beta * beta * sigma * z2 / (denominator * denominator)))  # m^T m
        residual = float(np.sum(alpha * alpha * z2 / (denominator * denominator))) + outside  # ||F m - y||^2
        new_alpha = min(max(gamma / max(m2, low), low), high)
        new_beta = min(max((n - gamma) / max(residual, low), low), high)
        ratio, new_ratio = alpha / beta, new_alpha / new_beta
        alpha, beta = new_alpha, new_beta
        if abs(new_ratio - ratio) / ratio < LOGME_TOLERANCE:
            break
    denominator = alpha + beta * sigma
    m2 = float(np.sum(beta * beta * sigma * z2 / (denominator * denominator)))
    residual = float(np.sum(alpha * alpha * z2 / (denominator * denominator))) + outside
    evidence = (
        n / 2 * math.log(beta)
        + d / 2 * math.log(alpha)
        - n / 2 * math.log(2 * math.pi)
        - beta / 2 * residual
        - alpha / 2 * m2
        - 0.5 * float(np.sum(np.log(denominator)))
    )
    return evidence / n


@_single_threaded
def logme(features: np.ndarray, labels: np.ndarray) -> float:
    """LogME: the mean over classes (one-vs-rest 0/1 targets) of the maximised log evidence per example.

    The spectrum comes from the SVD of F when there are fewer examples than
    dimensions, else from the eigendecomposition of F^T F (d x d), so the cost
    is O(n d min(n, d)) once, then O(d) per class and iteration.
    """
    features, labels = _validate(features, labels)
    n, d = features.shape
    classes = np.unique(labels)
    targets = (labels[:, None] == classes[None, :]).astype(np.float64)  # n x C, one-vs-rest
    if n < d:
        u, s, _ = np.linalg.svd(features, full_matrices=False)  # u: n x n
        sigma = s * s
        z = u.T @ targets
    else:
        sigma, v = np.linalg.eigh(features.T @ features)
        sigma = np.clip(sigma, 0.0, None)
        projected = v.T @ (features.T @ targets)  # = S z along each eigenvector
        singular = np.sqrt(sigma)
        z = np.divide(projected, singular[:, None], out=np.zeros_like(projected), where=singular[:, None] > 0)
    # Directions with a negligible eigenvalue are the null space: no signal in them.
    negligible = sigma <= sigma.max(initial=0.0) * max(n, d) * np.finfo(np.float64).eps
    sigma = np.where(negligible, 0.0, sigma)
    z[negligible] = 0.0
    if sigma.size < d:
        sigma = np.concatenate([sigma, np.zeros(d - sigma.size)])
        z = np.concatenate([z, np.zeros((d - z.shape[0], z.shape[1]))])
    y_norm2 = targets.sum(axis=0)  # 0/1 targets: the squared norm is the count
    scores = [_logme_evidence(sigma, z[:, c], float(y_norm2[c]), n) for c in range(classes.size)]
    return float(np.mean(scores))


@_single_threaded
def linear_probe_cv(features: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy of a standardised logistic regression over stratified folds.

    ``folds`` drops to the size of the smallest class when a class is smaller
    (never below 2).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = _validate(features, labels)
    smallest = int(np.unique(labels, return_counts=True)[1].min())
    splits = max(2, min(folds, smallest))
    splitter = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)
    accuracies = []
    for train, test in splitter.split(features, labels):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            probe.fit(features[train], labels[train])
        accuracies.append(float(np.mean(probe.predict(features[test]) == labels[test])))
    return float(np.mean(accuracies))


def param_count_baseline(num_parameters: int) -> float:
    """The trivial "bigger is better" heuristic: log10 of the parameter count."""
    if num_parameters < 1:
        raise ValueError(f"the parameter count must be at least 1, not {num_parameters}.")
    return math.log10(num_parameters)


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Kendall's tau-b between two equally long score lists.

    None when there are fewer than 2 items or one list is constant (tau is
    undefined). O(n^2) pairs, meant for n <= a few hundred models.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.size != y.size:
        raise ValueError(f"the two score lists must be 1-D and equally long ({x.size} vs {y.size}).")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("the score lists contain NaN or infinite values.")
    if x.size < 2:
        return None
    upper = np.triu_indices(x.size, k=1)
    sx = np.sign(x[:, None] - x[None, :])[upper]
    sy = np.sign(y[:, None] - y[None, :])[upper]
    untied_x = int(np.count_nonzero(sx))  # n0 - n1
    untied_y = int(np.count_nonzero(sy))  # n0 - n2
    if untied_x == 0 or untied_y == 0:
        return None
    concordant_minus_discordant = float(np.sum(sx * sy))
    return concordant_minus_discordant / math.sqrt(untied_x * untied_y)


ESTIMATORS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "knn": knn_loo_accuracy,
    "logme": logme,
    "linear_probe": linear_probe_cv,
}
# Every score a ranking shows: the estimators, then the trivial parameter-count baseline beside them.
SCORES = (*ESTIMATORS, "param_baseline")


def score_all(features: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """Every estimator's score; an estimator that fails (or gives a non-finite number) scores None.

    Invalid inputs (the dataset's fault, the same for every model) still raise
    ValueError, once, before any estimator runs.
    """
    features, labels = _validate(features, labels)
    scores: dict[str, float | None] = {}
    for name, estimator in ESTIMATORS.items():
        try:
            value = float(estimator(features, labels))
        except Exception:  # noqa: BLE001 - one estimator's failure must not cost the others
            log.warning("transferability estimator %s failed", name, exc_info=True)
            value = None
        scores[name] = value if value is not None and math.isfinite(value) else None
    return scores
