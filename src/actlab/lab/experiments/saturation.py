"""saturation: how many hidden units sit on a flat part of their function, by initialisation.

A digits MLP (``hidden`` widths) is initialised with each activation's default scheme
(glorot for sigmoid and tanh, he for the relu family, lecun for selu) and its weights
multiplied by each factor in ``scales`` (1: the scheme itself; 4: a standard deviation four
times larger), then trained with Adam.  Before training and after every epoch, on the
held-out test split, a (sample, unit) pair is *saturated* when

    f'(z) < ``threshold`` · max f'    (max f' read from the registry: 1/4 for sigmoid, 1 for tanh)

i.e. with the default threshold 0.1, |z| > 3.64 for sigmoid and |z| > 1.82 for tanh: the
unit passes on less than a tenth of the gradient it could.  The fraction reported is the
mean over samples and hidden units.  The flat region is found on each side of 0
separately: relu's is z < 0, selu's z < -2.3, and identity has none.  The data set must be
a classification one (the score is the test accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import actlab
from actlab import nn
from actlab.checks import fraction_open, positive_int, positive_number, positive_numbers
from actlab.lab._registry import ExperimentResult, experiment

from .. import _checks
from ._common import check_training_memory, one_blas_thread, pre_activations, sig

NAME = "saturation"
TITLE = "Saturated sigmoid and tanh units"
CLAIM = (
    "sigmoid and tanh are flat for large |x|; units driven there pass on almost no gradient, "
    "and a large initialisation puts many of them there from the start."
)


def saturated_fraction(model: nn.Sequential, X: Any, threshold: float) -> float:
    """Mean over samples and hidden units of [f'(z) < threshold · max f']."""
    flat = total = 0
    for act, z in pre_activations(model, X):
        flat += int(np.sum(act.derivative(z) < threshold * (act.max_derivative or 0.0)))
        total += z.size
    return flat / total


#: How far out the flat region is looked for; a side still steep there has none.
_FAR = 1e6


def _edge(act: actlab.Activation, limit: float, side: float) -> float:
    """Where f' falls below ``limit`` going out from 0 on one side (``side`` ±1), or ±inf if it
    never does; a crossing within 1e-9 of a kink is put at the kink.  Assumes, as for every
    registered elementwise function, that f' does not rise again further out."""

    def steep(t: float) -> bool:
        return bool(act.derivative(np.float64(side * t)) >= limit)

    if steep(_FAR):
        return side * np.inf
    lo, hi = 0.0, 1.0
    while hi < _FAR and steep(hi):
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if steep(mid) else (lo, mid)
    edge = side * hi
    for kink in act.kinks:
        if abs(edge - kink.x) <= 1e-9:
            return float(kink.x)
    return edge


def flat_region(name: str, threshold: float) -> tuple[float, float]:
    """(below, above): ``name`` is saturated (f' < threshold · max f') for z < below and for
    z > above; -inf or inf for a side where it never is (bisection on f', both sides)."""
    act = actlab.get(name)
    limit = threshold * (act.max_derivative or 0.0)
    return _edge(act, limit, -1.0), _edge(act, limit, 1.0)


def describe_region(below: float, above: float) -> str:
    """The flat region in words: "|z| > 3.64", "z < 0", "z < -2.3 or z > 5", or "nowhere"."""
    if np.isinf(below) and np.isinf(above):
        return "nowhere"
    if not np.isinf(below) and not np.isinf(above) and np.isclose(-below, above, rtol=1e-9, atol=1e-12):
        return f"|z| > {above:.3g}"
    parts = ([f"z < {below:.3g}"] if not np.isinf(below) else []) + (
        [f"z > {above:.3g}"] if not np.isinf(above) else []
    )
    return " or ".join(parts)


@experiment(NAME, title=TITLE, claim=CLAIM)
@one_blas_thread
def run(
    *,
    seed: int = 0,
    quick: bool = False,
    activations: Sequence[str] | None = None,
    scales: Sequence[float] = (1.0, 4.0),
    threshold: float = 0.1,
    hidden: Sequence[int] = (64, 64, 64),
    epochs: int | None = None,
    lr: float = 1e-3,
    batch_size: int = 32,
    dataset: str = "digits",
) -> ExperimentResult:
    """Saturated fraction per epoch, per activation and initial weight scale.

    ``activations`` are elementwise functions with f' > 0 somewhere; ``threshold`` is in
    (0, 1).  Bounds: hidden widths ≤ 100000, epochs ≤ 100000, batch_size ≤ 1000000.
    """
    names = _checks.activations(activations, ["sigmoid", "tanh"])
    for n in names:
        act = actlab.get(n)
        if not act.elementwise or not act.trainable:
            raise ValueError(
                f"{NAME}: {n} has no flat region to measure (needs an elementwise function with f' > 0)"
            )
    scales = positive_numbers("scales", scales, what="weight scales such as [1.0, 4.0]")
    threshold = fraction_open("threshold", threshold)
    hidden = _checks.hidden_widths(hidden)
    epochs = positive_int(
        "epochs", epochs if epochs is not None else (3 if quick else 10), maximum=_checks.MAX_STEPS
    )
    lr = positive_number("lr", lr)
    batch_size = positive_int("batch_size", batch_size, maximum=_checks.MAX_SAMPLES)
    data = _checks.classification_data(NAME, dataset, seed)
    check_training_memory(data, hidden, batch_size)
    loss = nn.loss_for("softmax" if data.task == "classification" else "identity")

    curves: dict[str, dict[str, list[float]]] = {}
    inits: dict[str, str] = {}
    rows: list[list[Any]] = []
    for name in names:
        curves[name] = {}
        for scale in scales:
            model = nn.build_mlp(
                data.n_features, hidden, data.n_outputs, activation=name, seed=seed, output=loss.output
            )
            for layer in model.dense_layers[:-1]:
                layer.W *= scale
            frac = [saturated_fraction(model, data.X_test, threshold)]

            def callback(epoch: int, m: nn.Sequential, _f: list[float] = frac) -> None:
                _f.append(saturated_fraction(m, data.X_test, threshold))

            nn.fit(
                model,
                data.X_train,
                data.y_train,
                loss=loss,
                optimizer=nn.Adam(lr=lr),
                epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                callback=callback,
            )
            curves[name][f"{scale:g}"] = frac
            inits[name] = model.dense_layers[0].init
            rows.append(
                [
                    name,
                    f"{model.dense_layers[0].init} ×{scale:g}",
                    frac[0],
                    frac[-1],
                    nn.score(model, data.X_test, data.y_test),
                ]
            )

    edges = {n: flat_region(n, threshold) for n in names}
    findings = [
        f"saturated: f'(z) < {threshold:g}·max f', i.e. "
        + ", ".join(f"{n} {describe_region(*edges[n])}" for n in names)
    ]
    for name in names:
        parts = [
            f"×{s} {100 * c[0]:.1f}% at init, {100 * c[-1]:.1f}% after {epochs} epochs"
            for s, c in curves[name].items()
        ]
        findings.append(f"{name}, weights at {inits[name]} " + "; ".join(parts))
    findings.append("test accuracy: " + ", ".join(f"{r[0]} {r[1]} {sig(r[4])}" for r in rows))
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        columns=["activation", "init", "saturated at init", "saturated after", "test acc"],
        rows=rows,
        data={
            "activations": names,
            "scales": [f"{s:g}" for s in scales],
            "epochs": epochs,
            "curves": curves,
            "threshold": threshold,
            "edges": edges,
            "inits": inits,
        },
        findings=findings,
        settings={
            "seed": seed,
            "quick": quick,
            "activations": names,
            "scales": scales,
            "threshold": threshold,
            "hidden": hidden,
            "epochs": epochs,
            "lr": lr,
            "batch_size": batch_size,
            "dataset": dataset,
        },
    )
