"""Train the same network once per activation and measure it (no printing).

For each activation and seed: build ``build_mlp(hidden, activation)``, train with Adam, and
record the test score (accuracy, or R² for regression), the final training loss, the first
epoch whose test score reaches ``target``, the time per epoch, the fraction of dead hidden
units (output constant over the whole test set: never active), and
‖∂L/∂W_first‖ / ‖∂L/∂W_last‖ on one training batch after training (the vanishing gradient
in one number).  A step network cannot be trained by backprop: its row carries the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import actlab
from actlab import nn
from actlab.checks import SEED_MAX, finite_number, positive_int, positive_number, seed_int

from . import _checks

GRAD_BATCH = 256
#: What trains the networks: actlab.nn, or PyTorch with actlab.torch's modules.
ENGINES = ("numpy", "torch")


def default_activations(*, trainable: bool = False) -> list[str]:
    """The founding document's hidden-layer functions, read from the registry.

    ``trainable`` leaves out those whose derivative is 0 everywhere (``max_derivative``
    0: the step function), which backprop cannot train.
    """
    return activation_group("classic", trainable=trainable)


#: The named groups of hidden-layer functions compare accepts for ``activations``.
GROUPS = ("classic", "modern", "all")


def activation_group(group: str, *, trainable: bool = False) -> list[str]:
    """The hidden-layer functions an MLP can be built with (:func:`actlab.nn.can_build`),
    in registry order: ``classic`` (the founding document's), ``modern`` (the wider
    family) or ``all``.  ``trainable`` leaves out those with a zero derivative (step)."""
    if group not in GROUPS:
        raise ValueError(f"unknown activation group {group!r} (choose from {', '.join(GROUPS)})")
    names = [
        n
        for n in actlab.names()
        if "hidden layer" in actlab.get(n).use
        and nn.can_build(n)
        and group in ("all", "classic" if actlab.get(n).classic else "modern")
    ]
    if trainable:
        names = [n for n in names if actlab.get(n).trainable]
    return names


@dataclass
class RunResult:
    """One activation, one seed."""

    seed: int
    score: float
    final_loss: float
    epochs_to_target: int | None
    time_per_epoch: float
    dead_fraction: float
    grad_ratio: float
    scores: list[float] = field(default_factory=list)


@dataclass
class CompareResult:
    """One activation over all seeds: means and standard deviations."""

    activation: str
    metric: str
    score: float = math.nan
    score_sd: float = 0.0
    final_loss: float = math.nan
    final_loss_sd: float = 0.0
    epochs_to_target: float | None = None
    time_per_epoch: float = math.nan
    dead_fraction: float = math.nan
    grad_ratio: float = math.nan
    runs: list[RunResult] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sd(values: Sequence[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def run_one(
    data: nn.Dataset,
    activation: str,
    *,
    hidden: Sequence[int],
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    target: float,
    dtype: Any = np.float64,
    on_epoch: Callable[[int], Any] | None = None,
) -> RunResult:
    """Train and measure one network."""
    output = "softmax" if data.task == "classification" else "identity"
    model = nn.build_mlp(
        data.n_features,
        list(hidden),
        data.n_outputs,
        activation=activation,
        output=output,
        seed=seed,
        dtype=dtype,
    )
    loss = nn.loss_for(output)
    scores: list[float] = []

    def callback(epoch: int, m: nn.Sequential) -> None:
        scores.append(nn.score(m, data.X_test, data.y_test))
        if on_epoch is not None:
            on_epoch(epoch)

    history = nn.fit(
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
    reached = next((i + 1 for i, s in enumerate(scores) if s >= target), None)
    norms = nn.gradient_norms(model, data.X_train[:GRAD_BATCH], data.y_train[:GRAD_BATCH], loss)
    ratio = norms[0] / norms[-1] if norms[-1] > 0 else math.inf
    return RunResult(
        seed=seed,
        score=scores[-1],
        final_loss=history.loss[-1],
        epochs_to_target=reached,
        time_per_epoch=float(np.mean(history.epoch_time)),
        dead_fraction=model.dead_fraction(data.X_test),
        grad_ratio=float(ratio),
        scores=scores,
    )


def compare(
    *,
    dataset: str = "digits",
    activations: Sequence[str] | None = None,
    hidden: Sequence[int] = (64, 64),
    epochs: int = 30,
    lr: float = 1e-3,
    batch_size: int = 16,
    seed: int = 0,
    seeds: int = 1,
    target: float = 0.9,
    dtype: Any = np.float64,
    engine: str = "numpy",
    on_epoch: Callable[[str, int, int], Any] | None = None,
) -> list[CompareResult]:
    """Train the same network per activation over ``seeds`` seeds (seed, seed+1, ...).

    Returns one :class:`CompareResult` per activation, best first (highest mean score;
    untrainable ones last).  ``on_epoch(activation, seed, epoch)`` reports progress.
    Every setting is checked first: ``seed`` in [0, 2**32 - 1] with ``seed + seeds - 1``
    too; hidden widths ≤ 100000, epochs and seeds ≤ 100000, batch_size ≤ 1000000; and a
    network whose training would take more memory than the machine has available
    (:func:`actlab.lab._checks.training_bytes` against :func:`~actlab.lab._checks.memory_limit`)
    is refused before the first run.  ``engine`` is ``"numpy"`` (actlab.nn) or ``"torch"``
    (a PyTorch model of actlab.torch modules from the same initial weights, measured the
    same way: :mod:`actlab.lab._torch_engine`).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    names = _checks.activations(activations, default_activations())
    widths = _checks.hidden_widths(hidden)
    epochs = positive_int("epochs", epochs, maximum=_checks.MAX_STEPS)
    batch_size = positive_int("batch_size", batch_size, maximum=_checks.MAX_SAMPLES)
    seed = seed_int("seed", seed)
    seeds = positive_int("seeds", seeds, maximum=_checks.MAX_STEPS)
    if seed + seeds - 1 > SEED_MAX:  # the runs use seeds seed, seed + 1, ...
        raise ValueError(f"seeds: the last seed, seed + seeds - 1 = {seed + seeds - 1}, is above {SEED_MAX}")
    lr = positive_number("lr", lr)
    target = finite_number("target", target)
    if target > 1:
        raise ValueError(f"target must be a number at most 1, got {target!r}")
    datas = {s: nn.datasets.load(dataset, seed=s) for s in range(seed, seed + seeds)}
    first = datas[seed]
    rows = max(batch_size, len(first.X_test), min(GRAD_BATCH, len(first.X_train)))
    _checks.check_memory(
        f"hidden {widths}",
        _checks.training_bytes(
            first.n_features, widths, first.n_outputs, rows=rows, itemsize=np.dtype(dtype).itemsize
        ),
    )
    metric = "accuracy" if first.task == "classification" else "r2"
    results = []
    for name in names:
        res = CompareResult(activation=name, metric=metric)
        try:
            for s in range(seed, seed + seeds):
                cb = (lambda e, _n=name, _s=s: on_epoch(_n, _s, e)) if on_epoch else None
                if engine == "torch":
                    from . import _torch_engine

                    run = _torch_engine.run_one(
                        datas[s],
                        name,
                        hidden=widths,
                        epochs=epochs,
                        lr=lr,
                        batch_size=batch_size,
                        seed=s,
                        target=target,
                        grad_batch=GRAD_BATCH,
                        dtype=dtype,
                        on_epoch=cb,
                    )
                else:
                    run = run_one(
                        datas[s],
                        name,
                        hidden=widths,
                        epochs=epochs,
                        lr=lr,
                        batch_size=batch_size,
                        seed=s,
                        target=target,
                        dtype=dtype,
                        on_epoch=cb,
                    )
                res.runs.append(run)
        except nn.ZeroGradientError:
            res.error = (
                f"not trainable by backprop: {name}'s derivative is 0, so every gradient is "
                f"zero (use actlab.nn.Perceptron for step units)"
            )
            res.runs = []
        except nn.DivergenceError:
            # one function's run blowing up is a finding about it, not the end of the comparison
            res.error = f"diverged: the loss overflowed at lr={lr:g}; try a smaller learning rate"
            res.runs = []
        if res.runs:
            runs = res.runs
            res.score, res.score_sd = float(np.mean([r.score for r in runs])), _sd([r.score for r in runs])
            res.final_loss = float(np.mean([r.final_loss for r in runs]))
            res.final_loss_sd = _sd([r.final_loss for r in runs])
            reached = [r.epochs_to_target for r in runs]
            res.epochs_to_target = None if any(e is None for e in reached) else float(np.mean(reached))  # type: ignore[arg-type]
            res.time_per_epoch = float(np.mean([r.time_per_epoch for r in runs]))
            res.dead_fraction = float(np.mean([r.dead_fraction for r in runs]))
            res.grad_ratio = float(np.mean([r.grad_ratio for r in runs]))
        results.append(res)
    results.sort(key=lambda r: (r.error is not None, -(r.score if not math.isnan(r.score) else -math.inf)))
    return results
