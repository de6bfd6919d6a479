"""dead-units: ReLU units that stop firing for good when the learning rate is large.

A digits MLP (``hidden`` widths) is trained with Adam at each learning rate in ``lrs``;
after every epoch, on the held-out test split, a hidden unit is counted

- *dead* when the activation's derivative f'(z) is 0 on every held-out sample: no
  gradient reaches its incoming weights, so nothing can revive it (relu for z < 0);
- *never positive* when its pre-activation z is below 0 on every held-out sample.

For relu the two are the same.  leaky_relu (slope 0.1) and selu have a non-zero
derivative everywhere, so their units may sit on the negative side but stay trainable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from actlab import nn
from actlab.lab import ExperimentResult, experiment

from ._common import check_names, one_blas_thread, positive_float, positive_int, pre_activations, sig

NAME = "dead-units"
TITLE = "Dead ReLU units at a large learning rate"
CLAIM = ("Trained at a large learning rate, many ReLU units end up with a negative input on every "
         "sample and a zero gradient for good; leaky_relu and selu have no such dead region.")


def unit_fractions(model: nn.Sequential, X: Any) -> tuple[float, float]:
    """(dead, never positive): fractions of hidden units over the rows of X (see the module doc)."""
    dead = never = total = 0
    for act, z in pre_activations(model, X):
        dead += int(np.sum(np.all(act.derivative(z) == 0, axis=0)))
        never += int(np.sum(np.all(z < 0, axis=0)))
        total += z.shape[1]
    return dead / total, never / total


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
    """Dead and never-positive unit fractions per epoch, per activation and learning rate."""
    names = check_names(activations, ["relu", "leaky_relu", "selu"])
    lrs = [positive_float("lr", lr) for lr in (lrs or ((0.05,) if quick else (0.001, 0.05)))]
    hidden = [positive_int("hidden width", h) for h in hidden]
    epochs = positive_int("epochs", epochs if epochs is not None else (4 if quick else 10))
    batch_size = positive_int("batch_size", batch_size)
    data = nn.datasets.load(dataset, seed=seed)
    loss = nn.loss_for("softmax" if data.task == "classification" else "identity")

    curves: dict[str, dict[str, dict[str, list[float]]]] = {}
    rows: list[list[Any]] = []
    for lr in lrs:
        key = f"{lr:g}"
        curves[key] = {}
        for name in names:
            model = nn.build_mlp(data.n_features, hidden, data.n_outputs, activation=name, seed=seed,
                                 output=loss.output)
            d0, n0 = unit_fractions(model, data.X_test)
            dead, never = [d0], [n0]

            def callback(epoch: int, m: nn.Sequential, _d: list[float] = dead, _n: list[float] = never) -> None:
                d, n = unit_fractions(m, data.X_test)
                _d.append(d)
                _n.append(n)

            nn.fit(model, data.X_train, data.y_train, loss=loss, optimizer=nn.Adam(lr=lr), epochs=epochs,
                   batch_size=batch_size, seed=seed, callback=callback)
            score = nn.score(model, data.X_test, data.y_test)
            curves[key][name] = {"dead": dead, "never_positive": never}
            rows.append([name, lr, dead[0], dead[-1], never[-1], score])

    findings = []
    for lr in lrs:
        c = curves[f"{lr:g}"]
        parts = [f"{n} {100 * c[n]['dead'][-1]:.1f}%" for n in names]
        findings.append(f"Adam lr {lr:g}, after {epochs} epochs, dead units (f' = 0 on every test sample): "
                        + ", ".join(parts))
        parts = [f"{n} {100 * c[n]['never_positive'][-1]:.1f}%" for n in names if c[n]['never_positive'][-1] > c[n]['dead'][-1]]
        if parts:
            findings.append(f"Adam lr {lr:g}: units with a negative input on every test sample that still get a "
                            "gradient: " + ", ".join(parts))
    findings.append("test accuracy: " + ", ".join(f"{r[0]} {sig(r[5])} (lr {r[1]:g})" for r in rows))
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM,
        columns=["activation", "Adam lr", "dead at init", "dead after", "never positive after", "test acc"],
        rows=rows,
        data={"activations": names, "lrs": [f"{lr:g}" for lr in lrs], "epochs": epochs, "curves": curves},
        findings=findings,
        settings={"seed": seed, "quick": quick, "activations": names, "lrs": lrs, "hidden": hidden,
                  "epochs": epochs, "batch_size": batch_size, "dataset": dataset},
    )
