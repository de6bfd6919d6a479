"""saturation: how many sigmoid and tanh units sit on their flat tails, by initialisation.

A digits MLP (``hidden`` widths) is initialised with each activation's default scheme
(glorot) and its weights multiplied by each factor in ``scales`` (1: glorot itself; 4: a
standard deviation four times larger), then trained with Adam.  Before training and after
every epoch, on the held-out test split, a (sample, unit) pair is *saturated* when

    f'(z) < ``threshold`` · max f'    (max f' read from the registry: 1/4 for sigmoid, 1 for tanh)

i.e. with the default threshold 0.1, |z| > 3.64 for sigmoid and |z| > 1.82 for tanh: the
unit passes on less than a tenth of the gradient it could.  The fraction reported is the
mean over samples and hidden units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import actlab
from actlab import nn
from actlab.lab import ExperimentResult, experiment

from ._common import check_names, one_blas_thread, positive_float, positive_int, pre_activations, sig

NAME = "saturation"
TITLE = "Saturated sigmoid and tanh units"
CLAIM = ("sigmoid and tanh are flat for large |x|; units driven there pass on almost no gradient, "
         "and a large initialisation puts many of them there from the start.")


def saturated_fraction(model: nn.Sequential, X: Any, threshold: float) -> float:
    """Mean over samples and hidden units of [f'(z) < threshold · max f']."""
    flat = total = 0
    for act, z in pre_activations(model, X):
        flat += int(np.sum(act.derivative(z) < threshold * act.max_derivative))
        total += z.size
    return flat / total


def flat_edge(name: str, threshold: float) -> float:
    """The |z| beyond which ``name`` counts as saturated (bisection on f', for findings)."""
    act = actlab.get(name)
    lo, hi = 0.0, 1.0
    limit = threshold * act.max_derivative
    while act.derivative(np.float64(hi)) >= limit and hi < 1e6:
        hi *= 2
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if act.derivative(np.float64(mid)) >= limit else (lo, mid)
    return hi


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
    """Saturated fraction per epoch, per activation and initial weight scale."""
    names = check_names(activations, ["sigmoid", "tanh"])
    for n in names:
        act = actlab.get(n)
        if not act.elementwise or not act.max_derivative > 0:
            raise ValueError(f"{NAME}: {n} has no flat region to measure (needs an elementwise function with f' > 0)")
    scales = [positive_float("scale", s) for s in scales]
    if not scales:
        raise ValueError("scales must not be empty")
    threshold = positive_float("threshold", threshold)
    hidden = [positive_int("hidden width", h) for h in hidden]
    epochs = positive_int("epochs", epochs if epochs is not None else (3 if quick else 10))
    lr = positive_float("lr", lr)
    data = nn.datasets.load(dataset, seed=seed)
    loss = nn.loss_for("softmax" if data.task == "classification" else "identity")

    curves: dict[str, dict[str, list[float]]] = {}
    rows: list[list[Any]] = []
    for name in names:
        curves[name] = {}
        for scale in scales:
            model = nn.build_mlp(data.n_features, hidden, data.n_outputs, activation=name, seed=seed,
                                 output=loss.output)
            for layer in model.dense_layers[:-1]:
                layer.W *= scale
            frac = [saturated_fraction(model, data.X_test, threshold)]

            def callback(epoch: int, m: nn.Sequential, _f: list[float] = frac) -> None:
                _f.append(saturated_fraction(m, data.X_test, threshold))

            nn.fit(model, data.X_train, data.y_train, loss=loss, optimizer=nn.Adam(lr=lr), epochs=epochs,
                   batch_size=batch_size, seed=seed, callback=callback)
            curves[name][f"{scale:g}"] = frac
            rows.append([name, f"{model.dense_layers[0].init} ×{scale:g}", frac[0], frac[-1],
                         nn.score(model, data.X_test, data.y_test)])

    edges = {n: flat_edge(n, threshold) for n in names}
    findings = [f"saturated: f'(z) < {threshold:g}·max f', i.e. " +
                ", ".join(f"{n} |z| > {edges[n]:.3g}" for n in names)]
    for name in names:
        parts = [f"×{s} {100 * c[0]:.1f}% at init, {100 * c[-1]:.1f}% after {epochs} epochs"
                 for s, c in curves[name].items()]
        findings.append(f"{name}, weights at glorot " + "; ".join(parts))
    findings.append("test accuracy: " + ", ".join(f"{r[0]} {r[1]} {sig(r[4])}" for r in rows))
    return ExperimentResult(
        name=NAME, title=TITLE, claim=CLAIM,
        columns=["activation", "init", "saturated at init", "saturated after", "test acc"],
        rows=rows,
        data={"activations": names, "scales": [f"{s:g}" for s in scales], "epochs": epochs, "curves": curves,
              "threshold": threshold, "edges": edges},
        findings=findings,
        settings={"seed": seed, "quick": quick, "activations": names, "scales": scales, "threshold": threshold,
                  "hidden": hidden, "epochs": epochs, "lr": lr, "batch_size": batch_size, "dataset": dataset},
    )
