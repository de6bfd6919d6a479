"""dead-units: ReLU units that stop firing for good when the learning rate is large.

A digits MLP (``hidden`` widths) is trained with Adam at each learning rate in ``lrs``;
after every epoch, on the held-out test split, a hidden unit is counted

- *dead* when the activation's derivative f'(z) is 0 on every held-out sample: no
  gradient reaches its incoming weights, so nothing can revive it (relu for z < 0);
- *never positive* when its pre-activation z is below 0 on every held-out sample.

For relu the two are the same.  leaky_relu (slope 0.1) and selu have a non-zero
derivative everywhere, so their units may sit on the negative side but stay trainable.
A maxout unit passes the gradient to its largest piece with slope 1, so it is never dead;
it is never positive when its output (the largest piece) is below 0 on every sample.
The data set must be a classification one (the score is the test accuracy).

A unit with no dead units can still fail to learn (a large rate can throw selu's weights
where every unit sits in its flat negative tail).  The findings give each function's test
accuracy beside its dead-unit count, and name a function with no dead units as having
failed to train when its accuracy is below the midpoint between chance (1 / classes) and
the best accuracy of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import actlab
from actlab import nn
from actlab.checks import positive_int, positive_numbers
from actlab.lab._registry import ExperimentResult, experiment

from .. import _checks
from ._common import check_training_memory, one_blas_thread, sig

NAME = "dead-units"
TITLE = "Dead ReLU units at a large learning rate"
CLAIM = (
    "Trained at a large learning rate, many ReLU units end up with a negative input on every "
    "sample and a zero gradient for good; leaky_relu and selu have no such dead region."
)


def unit_fractions(model: nn.Sequential, X: Any) -> tuple[float, float]:
    """(dead, never positive): fractions of hidden units over the rows of X (see the module
    doc; "dead" is :meth:`actlab.nn.Sequential.dead_fraction`)."""
    h = np.asarray(X, dtype=model.dtype)
    never = total = 0
    for layer in model.layers:
        out = layer.forward(h, train=False)
        if isinstance(layer, nn.Maxout):
            never += int(np.sum(np.all(out < 0, axis=0)))  # out: each unit's largest piece
            total += out.shape[1]
        elif isinstance(layer, nn.Activation):
            never += int(np.sum(np.all(h < 0, axis=0)))
            total += h.shape[1]
        h = out
    if total == 0:
        raise ValueError("the model has no hidden units to count")
    return model.dead_fraction(X), never / total


def _findings(
    names: list[str],
    lrs: Sequence[float],
    epochs: int,
    curves: dict[str, dict[str, dict[str, list[float]]]],
    rows: list[list[Any]],
    *,
    chance: float,
) -> list[str]:
    """Per learning rate: dead units with each test accuracy, units that sit negative but
    still get a gradient, and functions with no dead units that still failed to train."""
    best = max(r[5] for r in rows)
    bar = (chance + best) / 2
    findings = []
    for lr in lrs:
        c = curves[f"{lr:g}"]
        acc = {r[0]: r[5] for r in rows if r[1] == lr}
        parts = [f"{n} {100 * c[n]['dead'][-1]:.1f}% dead (test accuracy {sig(acc[n])})" for n in names]
        findings.append(
            f"Adam lr {lr:g}, after {epochs} epochs, dead units (f' = 0 on every test sample): "
            + ", ".join(parts)
        )
        parts = [
            f"{n} {100 * c[n]['never_positive'][-1]:.1f}%"
            for n in names
            if c[n]["never_positive"][-1] > c[n]["dead"][-1]
        ]
        if parts:
            findings.append(
                f"Adam lr {lr:g}: units with a negative input on every test sample that still get a "
                "gradient: " + ", ".join(parts)
            )
        failed = [n for n in names if c[n]["dead"][-1] == 0 and acc[n] < bar]
        if failed:
            others = [
                f"{n} {sig(acc[n])} with {100 * c[n]['dead'][-1]:.1f}% dead"
                for n in names
                if n not in failed and acc[n] < bar
            ]
            findings.append(
                f"Adam lr {lr:g}: no dead units, yet failed to train: "
                + ", ".join(f"{n} (test accuracy {sig(acc[n])})" for n in failed)
                + (f", as low as {', '.join(others)}" if others else "")
                + f"; the best of this run is {sig(best)}, chance {sig(chance)}: "
                "having no dead units does not make a rate safe"
            )
    findings.append("test accuracy: " + ", ".join(f"{r[0]} {sig(r[5])} (lr {r[1]:g})" for r in rows))
    return findings


@experiment(NAME, title=TITLE, claim=CLAIM)
@one_blas_thread
def run(
    *,
    seed: int = 0,
    quick: bool = False,
    activations: Sequence[str] | None = None,
    lrs: Sequence[float] | None = None,
    hidden: Sequence[int] = (64, 64, 64),
    epochs: int | None = None,
    batch_size: int = 32,
    dataset: str = "digits",
) -> ExperimentResult:
    """Dead and never-positive unit fractions per epoch, per activation and learning rate.

    ``activations`` are elementwise hidden-layer functions with a non-zero derivative
    somewhere, or maxout.  Bounds: hidden widths ≤ 100000, epochs ≤ 100000,
    batch_size ≤ 1000000.
    """
    names = _checks.activations(activations, ["relu", "leaky_relu", "selu"])
    for n in names:
        act = actlab.get(n)
        if act.keeps_shape and (not act.elementwise or not act.trainable):
            raise ValueError(
                f"{NAME}: activations has {n!r}: dead units are defined for elementwise "
                "functions with a non-zero derivative somewhere, and for maxout"
            )
    lrs = positive_numbers(
        "lrs",
        lrs if lrs is not None else ((0.05,) if quick else (0.001, 0.05)),
        what="learning rates such as [0.001, 0.05]",
    )
    hidden = _checks.hidden_widths(hidden)
    epochs = positive_int(
        "epochs", epochs if epochs is not None else (4 if quick else 10), maximum=_checks.MAX_STEPS
    )
    batch_size = positive_int("batch_size", batch_size, maximum=_checks.MAX_SAMPLES)
    data = _checks.classification_data(NAME, dataset, seed)
    check_training_memory(data, hidden, batch_size)
    loss = nn.loss_for("softmax" if data.task == "classification" else "identity")

    curves: dict[str, dict[str, dict[str, list[float]]]] = {}
    rows: list[list[Any]] = []
    for lr in lrs:
        key = f"{lr:g}"
        curves[key] = {}
        for name in names:
            model = nn.build_mlp(
                data.n_features, hidden, data.n_outputs, activation=name, seed=seed, output=loss.output
            )
            d0, n0 = unit_fractions(model, data.X_test)
            dead, never = [d0], [n0]

            def callback(
                epoch: int, m: nn.Sequential, _d: list[float] = dead, _n: list[float] = never
            ) -> None:
                d, n = unit_fractions(m, data.X_test)
                _d.append(d)
                _n.append(n)

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
            score = nn.score(model, data.X_test, data.y_test)
            curves[key][name] = {"dead": dead, "never_positive": never}
            rows.append([name, lr, dead[0], dead[-1], never[-1], score])

    findings = _findings(names, lrs, epochs, curves, rows, chance=1 / data.n_classes)
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        columns=["activation", "Adam lr", "dead at init", "dead after", "never positive after", "test acc"],
        rows=rows,
        data={
            "activations": names,
            "lrs": [f"{lr:g}" for lr in lrs],
            "epochs": epochs,
            "curves": curves,
            "accuracy": {f"{r[1]:g}": {q[0]: q[5] for q in rows if q[1] == r[1]} for r in rows},
        },
        findings=findings,
        settings={
            "seed": seed,
            "quick": quick,
            "activations": names,
            "lrs": lrs,
            "hidden": hidden,
            "epochs": epochs,
            "batch_size": batch_size,
            "dataset": dataset,
        },
    )
