"""vanishing-gradient: the weight-gradient norm of every layer of a deep network.

A deep MLP (``depth`` hidden layers of ``width`` units, each activation's default
initialisation: glorot for sigmoid/tanh/arctan, he for the relu family, lecun for selu and
maxout, or the scheme given as ``init``) is
measured on digits at initialisation and after ``epochs`` epochs of Adam.  For each Dense
layer, input to output, the Frobenius norm ‖∂L/∂W‖ is taken on ``batches`` random training
batches of ``batch`` rows and the median kept, so one odd batch does not decide the
number.  The ratio first/last = ‖∂L/∂W_1‖ / ‖∂L/∂W_out‖ is the vanishing gradient in one
number: σ' ≤ 1/4 makes sigmoid's shrink geometrically with depth.

The opposite failure shows with ``init="he"`` for maxout: He's variance 2/n is made for
relu, which halves E[h²], but the larger of two zero-mean Gaussian pieces keeps E[h²] = σ²,
so E[h²] doubles per layer and the gradient norms grow with depth.  A finding says so when a
layer's norm passes :data:`EXPLODING` at initialisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import actlab
from actlab import nn
from actlab.checks import positive_int, positive_ints, positive_number, text
from actlab.lab._registry import ExperimentResult, experiment
from actlab.nn.init import check_init

from .. import _checks
from ..compare import default_activations
from ._common import one_blas_thread, sig

#: A layer gradient norm above this at initialisation is reported as exploding.
EXPLODING = 1e3

NAME = "vanishing-gradient"
TITLE = "Vanishing gradients in deep networks"
CLAIM = (
    "In a deep sigmoid network the gradient shrinks layer by layer towards the input "
    "(σ' ≤ 1/4); relu and selu keep it the same order of magnitude in every layer."
)


def _norms(
    model: nn.Sequential, data: nn.Dataset, loss: Any, rng: np.random.Generator, batches: int, batch: int
) -> np.ndarray:
    n = data.X_train.shape[0]
    size = min(batch, n)
    per = [
        nn.gradient_norms(model, data.X_train[idx], data.y_train[idx], loss)
        for idx in (rng.choice(n, size, replace=False) for _ in range(batches))
    ]
    return np.median(np.asarray(per), axis=0)


@experiment(NAME, title=TITLE, claim=CLAIM)
@one_blas_thread
def run(
    *,
    seed: int = 0,
    quick: bool = False,
    depths: Sequence[int] | None = None,
    width: int = 64,
    activations: Sequence[str] | None = None,
    epochs: int | None = None,
    lr: float = 1e-3,
    batches: int = 5,
    batch: int = 128,
    dataset: str = "digits",
    init: str | None = None,
) -> ExperimentResult:
    """Gradient norm per layer, per activation and depth, at init and after training.

    ``init`` None gives each activation its default scheme and the output layer glorot;
    a scheme applies to every layer.  Bounds: depths ≤ 1000, width ≤ 100000, epochs ≤ 100000,
    batches ≤ 100000, batch ≤ 1000000.
    """
    depths = positive_ints(
        "depths",
        depths if depths is not None else ((10,) if quick else (10, 30)),
        maximum=_checks.MAX_DEPTH,
        what="network depths such as [10, 30]",
    )
    width = positive_int("width", width, maximum=_checks.MAX_WIDTH)
    epochs = positive_int(
        "epochs", epochs if epochs is not None else (1 if quick else 3), maximum=_checks.MAX_STEPS
    )
    lr = positive_number("lr", lr)
    batches = positive_int("batches", batches, maximum=_checks.MAX_STEPS)
    batch = positive_int("batch", batch, maximum=_checks.MAX_SAMPLES)
    if init is not None:
        init = check_init(text("init", init))
    requested = _checks.activations(activations, default_activations(trainable=True))
    skipped = [n for n in requested if not actlab.get(n).trainable]
    names = [n for n in requested if n not in skipped]
    if not names:
        raise ValueError(
            f"{NAME}: no trainable activation left in activations={requested!r}: "
            f"{', '.join(skipped)} ha{'s' if len(skipped) == 1 else 've'} derivative 0 everywhere"
        )
    data = _checks.classification_data(NAME, dataset, seed)
    loss = nn.SoftmaxCrossEntropy()

    norms: dict[int, dict[str, dict[str, list[float]]]] = {}
    rows: list[list[Any]] = []
    for depth in depths:
        norms[depth] = {}
        for name in names:
            model = nn.build_mlp(
                data.n_features, [width] * depth, data.n_classes, activation=name, init=init, seed=seed
            )
            rng = np.random.default_rng([seed, depth, 7])
            at_init = _norms(model, data, loss, rng, batches, batch)
            ratios = [float(at_init[0] / at_init[-1])]

            def callback(
                epoch: int, m: nn.Sequential, _rng: np.random.Generator = rng, _ratios: list[float] = ratios
            ) -> None:
                if epoch < epochs:
                    n_ = _norms(m, data, loss, _rng, batches, batch)
                    _ratios.append(float(n_[0] / n_[-1]))

            nn.fit(
                model,
                data.X_train,
                data.y_train,
                loss=loss,
                optimizer=nn.Adam(lr=lr),
                epochs=epochs,
                batch_size=64,
                seed=seed,
                callback=callback,
            )
            trained = _norms(model, data, loss, rng, batches, batch)
            ratios.append(float(trained[0] / trained[-1]))
            acc = nn.score(model, data.X_test, data.y_test)
            norms[depth][name] = {"init": at_init.tolist(), "trained": trained.tolist(), "ratio": ratios}
            rows.append([name, depth, float(at_init[0]), float(at_init[-1]), ratios[0], ratios[-1], acc])

    findings = []
    for depth in depths:
        parts = [f"{n} {sig(norms[depth][n]['ratio'][0], 2)}" for n in names]
        findings.append(f"depth {depth}, first/last layer gradient norm at init: " + ", ".join(parts))
        parts = [f"{n} {sig(norms[depth][n]['ratio'][-1], 2)}" for n in names]
        findings.append(f"depth {depth}, after {epochs} epoch{'s' * (epochs > 1)}: " + ", ".join(parts))
    if "sigmoid" in names:
        d = depths[0]
        r = norms[d]["sigmoid"]["ratio"][0]
        findings.append(
            f"sigmoid at depth {d}: the first layer's gradient is {sig(1 / r, 2)}× smaller than the "
            f"last layer's (compare (1/4)^{d} = {0.25**d:.1e}: σ' ≤ 1/4, compounded over {d} layers)"
        )
    for depth in depths:
        for n in names:
            peak = max(norms[depth][n]["init"])
            if peak > EXPLODING:
                findings.append(
                    f"{n} at depth {depth}: gradient norms reach {peak:.2g} at initialisation with its "
                    f"{init or 'default'} init ({init or nn.default_init(n)}): they explode rather than vanish"
                )
    for n in skipped:
        findings.append(f"{n}: left out, its derivative is 0 everywhere so every gradient is 0")
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        columns=[
            "activation",
            "depth",
            "‖∇W₁‖ init",
            "‖∇W_out‖ init",
            "first/last init",
            f"first/last {epochs} ep",
            "test acc",
        ],
        rows=rows,
        data={"depths": depths, "activations": names, "norms": norms, "epochs": epochs},
        findings=findings,
        settings={
            "seed": seed,
            "quick": quick,
            "depths": depths,
            "width": width,
            "activations": requested,
            "epochs": epochs,
            "lr": lr,
            "batches": batches,
            "batch": batch,
            "dataset": dataset,
            "init": init,
        },
    )
