"""softmax: the output distribution of a trained digits classifier.

An MLP (``hidden`` widths of ``activation``) is trained on digits; on the held-out test
split its logits go through actlab's softmax.  Measured:

- every row sums to 1: the largest |Σ_j p_ij - 1| in float64 and with float32 logits;
- confidence against accuracy: the test rows are put in ``bins`` equal-width bins of their
  top probability (the confidence); per bin the mean confidence and the accuracy of the
  argmax.  The expected calibration error is ECE = Σ_b (n_b / N) |acc_b - conf_b|;
- the histogram of the top probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import actlab
from actlab import nn
from actlab.checks import positive_int, positive_number
from actlab.lab._registry import ExperimentResult, experiment

from .. import _checks
from ._common import check_training_memory, one_blas_thread, sig

NAME = "softmax"
TITLE = "Softmax outputs: a probability distribution, and how far to trust it"
CLAIM = (
    "Softmax turns a classifier's scores into a probability distribution: every row is "
    "positive and sums to 1; its top probability can be read as a confidence, to be checked "
    "against the accuracy."
)


def reliability(proba: np.ndarray, y: np.ndarray, bins: int) -> dict[str, Any]:
    """Per confidence bin: edges, count, mean confidence, accuracy; and the ECE."""
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    safe = np.maximum(count, 1)
    mean_conf = np.where(count > 0, np.bincount(which, weights=conf, minlength=bins) / safe, np.nan)
    acc = np.where(
        count > 0, np.bincount(which, weights=correct.astype(float), minlength=bins) / safe, np.nan
    )
    gap = np.abs(np.nan_to_num(acc) - np.nan_to_num(mean_conf))
    ece = float(np.sum(count * gap) / len(y))
    return {"edges": edges, "count": count, "confidence": mean_conf, "accuracy": acc, "ece": ece}


def bin_labels(edges: np.ndarray) -> list[str]:
    """ "lo–hi" per bin, with the fewest decimals (at least 1) that keep every edge distinct,
    so that no two bins share a label: 1 decimal for 10 bins, 2 for 20."""
    for digits in range(1, 17):
        text = [f"{e:.{digits}f}" for e in edges]
        if len(set(text)) == len(text):
            break
    return [f"{lo}–{hi}" for lo, hi in zip(text[:-1], text[1:])]


@experiment(NAME, title=TITLE, claim=CLAIM)
@one_blas_thread
def run(
    *,
    seed: int = 0,
    quick: bool = False,
    activation: str = "relu",
    hidden: Sequence[int] = (64, 64),
    epochs: int | None = None,
    lr: float = 1e-3,
    batch_size: int = 32,
    bins: int = 10,
    dataset: str = "digits",
) -> ExperimentResult:
    """Train a classifier; row sums, reliability diagram, ECE and the top-probability histogram.

    Bounds: hidden widths ≤ 100000, epochs ≤ 100000, batch_size ≤ 1000000, bins ≤ 1000.
    """
    hidden = _checks.hidden_widths(hidden)
    epochs = positive_int(
        "epochs", epochs if epochs is not None else (5 if quick else 20), maximum=_checks.MAX_STEPS
    )
    lr = positive_number("lr", lr)
    batch_size = positive_int("batch_size", batch_size, maximum=_checks.MAX_SAMPLES)
    bins = positive_int("bins", bins, maximum=_checks.MAX_BINS)
    name = _checks.activation("activation", activation)
    if not actlab.get(name).trainable:
        raise ValueError(
            f"{NAME}: activation={name!r} has derivative 0 everywhere, so backprop cannot train it"
        )
    data = _checks.classification_data(NAME, dataset, seed)
    check_training_memory(data, hidden, batch_size)
    model = nn.build_mlp(data.n_features, hidden, data.n_classes, activation=name, seed=seed)
    history = nn.fit(
        model,
        data.X_train,
        data.y_train,
        loss=nn.SoftmaxCrossEntropy(),
        optimizer=nn.Adam(lr=lr),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
    )
    softmax = actlab.get("softmax")
    logits = model.forward(data.X_test, train=False)
    proba = softmax(logits)
    proba32 = softmax(logits.astype(np.float32))
    dev64 = float(np.max(np.abs(proba.sum(axis=1) - 1)))
    dev32 = float(np.max(np.abs(proba32.sum(axis=1, dtype=np.float64) - 1)))
    rel = reliability(proba, data.y_test, bins)
    top = proba.max(axis=1)
    accuracy = float(np.mean(proba.argmax(axis=1) == data.y_test))
    hist, hist_edges = np.histogram(top, bins=20, range=(0.0, 1.0))

    labels = bin_labels(rel["edges"])
    rows: list[list[Any]] = []
    for i in range(bins):
        if rel["count"][i]:
            rows.append(
                [
                    labels[i],
                    int(rel["count"][i]),
                    float(rel["confidence"][i]),
                    float(rel["accuracy"][i]),
                    float(rel["accuracy"][i] - rel["confidence"][i]),
                ]
            )
    findings = [
        f"rows sum to 1: largest |Σp - 1| = {dev64:.1e} in float64, {dev32:.1e} with float32 logits "
        f"(float64 machine epsilon {np.finfo(np.float64).eps:.1e}, float32 {np.finfo(np.float32).eps:.1e}); "
        f"smallest probability {float(proba.min()):.1e}",
        f"test accuracy {sig(accuracy)}, mean confidence {sig(float(top.mean()))}, expected calibration "
        f"error {sig(rel['ece'], 2)} over {bins} bins",
        f"{100 * float(np.mean(top > 0.9)):.1f}% of test rows have a top probability above 0.9; "
        f"their accuracy is {sig(float(np.mean((proba.argmax(axis=1) == data.y_test)[top > 0.9])) if np.any(top > 0.9) else float('nan'))}",
    ]
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        columns=["confidence bin", "rows", "mean confidence", "accuracy", "accuracy - confidence"],
        rows=rows,
        data={
            "reliability": rel,
            "histogram": hist,
            "histogram_edges": hist_edges,
            "top": top,
            "row_sum_deviation": dev64,
            "row_sum_deviation_float32": dev32,
            "accuracy": accuracy,
            "ece": rel["ece"],
            "activation": name,
            "loss": history.loss,
        },
        findings=findings,
        settings={
            "seed": seed,
            "quick": quick,
            "activation": name,
            "hidden": hidden,
            "epochs": epochs,
            "lr": lr,
            "batch_size": batch_size,
            "bins": bins,
            "dataset": dataset,
        },
    )
