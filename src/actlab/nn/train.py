"""Training: mini-batch gradient descent with a seeded shuffle, validation and early stopping.

One epoch: shuffle the training rows with the run's generator, then for each batch
forward → loss gradient → backward → optimiser step.  The same seed, data, model and
dtype give the same weights bit for bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..checks import class_labels, features, fraction_open, is_real, positive_int, seed_int
from . import _fused
from .layers import Sequential, ZeroGradientError
from .losses import MeanSquaredError, SoftmaxCrossEntropy

Loss = SoftmaxCrossEntropy | MeanSquaredError


@dataclass
class History:
    """Per-epoch figures of a run."""

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.loss)


class DivergenceError(ValueError, FloatingPointError):
    """Training overflowed: the loss, the gradients or the weights became inf or NaN."""


def score(model: Sequential, X: ArrayLike, y: ArrayLike) -> float:
    """Accuracy for a softmax model; R² = 1 - Σ(y-ŷ)²/Σ(y-ȳ)² for an identity model."""
    Xa, ya = _check_xy(model, X, y, "score")
    return _score(model, Xa, ya)


def _score(model: Sequential, Xa: NDArray[Any], ya: NDArray[Any]) -> float:
    """:func:`score` of arguments already checked by ``_check_xy``."""
    pred = model._predict(Xa)
    if model.output == "softmax":
        return float(np.mean(pred == ya))
    if ya.shape != pred.shape and not (pred.ndim == 1 and ya.shape == (pred.shape[0], 1)):
        raise ValueError(f"score: y has shape {ya.shape}, expected {pred.shape} (the model's output)")
    t = ya.astype(np.float64).reshape(pred.shape)
    ss_res = float(np.sum((t - pred) ** 2))
    ss_tot = float(np.sum((t - t.mean(axis=0)) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def _check_step(model: Sequential) -> None:
    if model.untrainable_layers:
        name = model.untrainable_layers[0].act.name
        raise ZeroGradientError(
            f"this network has {name} hidden units: {name}'s derivative is 0 everywhere, "
            "so every gradient is zero and backprop cannot train it; use "
            "actlab.nn.Perceptron (the perceptron learning rule) for a layer of step units"
        )


def _check_loss(model: Sequential, loss: Any, what: str) -> None:
    """``loss`` a loss object whose output activation is the model's."""
    if not all(callable(getattr(loss, m, None)) for m in ("value", "gradient", "value_and_gradient")):
        raise TypeError(
            f"{what}: loss must be a loss object such as SoftmaxCrossEntropy() or "
            f"MeanSquaredError(), got {loss!r}"
        )
    if getattr(loss, "output", model.output) != model.output:
        raise ValueError(f"loss {type(loss).__name__} does not match the model's {model.output!r} output")


def _n_outputs(model: Sequential) -> int | None:
    dense = model.dense_layers
    return dense[-1].n_out if dense else None


def _check_xy(model: Sequential, X: ArrayLike, y: ArrayLike, what: str) -> tuple[NDArray[Any], NDArray[Any]]:
    """X (finite, 2-d, at least one row) in the model's dtype, and y: class labels as intp for
    a softmax model, finite real targets for an identity one."""
    Xa = features(X, dtype=model.dtype, what=what)
    if Xa.shape[0] == 0:
        raise ValueError(f"{what}: X has no rows")
    ya = np.asarray(y)
    if ya.ndim == 0 or ya.shape[0] != Xa.shape[0]:
        raise ValueError(
            f"{what}: X has {Xa.shape[0]} rows but y has {'shape ()' if ya.ndim == 0 else ya.shape[0]}"
        )
    if model.output == "softmax":
        ya = class_labels(ya, what=what, n_classes=_n_outputs(model))
    elif ya.dtype.kind not in "biuf":
        raise ValueError(f"{what}: y must be real numbers, got dtype {ya.dtype}")
    elif not np.all(np.isfinite(ya)):
        raise ValueError(f"{what}: y contains NaN or infinity")
    return Xa, ya


@contextmanager
def _diverging(epoch: int, optimizer: Any) -> Iterator[None]:
    """Floating-point overflow or invalid operations during an epoch raise a DivergenceError."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield
    except FloatingPointError as exc:
        if isinstance(exc, DivergenceError):
            raise
        raise _diverged(epoch, optimizer, f"NumPy: {exc}") from None


def _diverged(epoch: int, optimizer: Any, why: str) -> DivergenceError:
    lr = getattr(optimizer, "lr", None)
    return DivergenceError(
        f"fit: training diverged in epoch {epoch} ({why}): the loss or the weights overflowed; "
        f"try a smaller learning rate{f' than lr={lr!r}' if lr is not None else ''}, or standardise X and y"
    )


def fit(
    model: Sequential,
    X: ArrayLike,
    y: ArrayLike,
    *,
    loss: Loss,
    optimizer: Any,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    validation: tuple[ArrayLike, ArrayLike] | float | None = None,
    early_stopping: int | None = None,
    callback: Callable[[int, Sequential], Any] | None = None,
) -> History:
    """Train ``model`` in place by mini-batch backprop; return the :class:`History`.

    ``validation`` is (X_val, y_val) or a fraction of the training rows held out (seeded).
    ``early_stopping=p`` stops after p epochs without a lower validation loss and restores
    the best weights.  ``callback(epoch, model)`` runs after each epoch (epoch from 1), and
    its time is not counted in ``epoch_time``.  A run whose loss or weights overflow raises
    :class:`DivergenceError` naming the epoch (the weights are left as they were then).
    """
    _check_step(model)
    epochs = positive_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size)
    if early_stopping is not None:
        early_stopping = positive_int("early_stopping", early_stopping)
    seed = seed_int("seed", seed)
    _check_loss(model, loss, "fit")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"fit: optimizer must be an optimizer such as Adam() or SGD(), got {optimizer!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"fit: callback must be callable, got {callback!r}")
    Xa, ya = _check_xy(model, X, y, "fit")
    rng = np.random.default_rng(seed)
    Xv = yv = None
    if is_real(validation):
        frac = fraction_open("validation", validation)
        order = rng.permutation(Xa.shape[0])
        n_val = max(1, int(round(frac * Xa.shape[0])))
        if n_val >= Xa.shape[0]:
            raise ValueError(f"fit: validation={validation!r} leaves no training rows (X has {Xa.shape[0]})")
        Xv, yv = Xa[order[:n_val]], ya[order[:n_val]]
        Xa, ya = Xa[order[n_val:]], ya[order[n_val:]]
    elif isinstance(validation, (tuple, list)) and len(validation) == 2:
        Xv, yv = _check_xy(model, validation[0], validation[1], "validation")
    elif validation is not None:
        got = (
            f"a {type(validation).__name__} of length {len(validation)}"
            if isinstance(validation, (tuple, list))
            else repr(validation)
        )
        raise ValueError(f"validation must be a fraction in (0, 1) or a pair (X_val, y_val), got {got}")
    if early_stopping is not None and Xv is None:
        raise ValueError("early_stopping needs validation data (validation=...)")

    history = History()
    steps = _fused.plan(model, loss, Xa, ya, batch_size)
    pairs = model.parameters()  # after the plan, which lays the gradients out flat
    best = float("inf")
    best_weights: list[NDArray[Any]] | None = None
    since_best = 0
    n = Xa.shape[0]
    rows = np.arange(n)
    order = np.empty_like(rows)
    batches = [(lo, min(lo + batch_size, n)) for lo in range(0, n, batch_size)]
    step = optimizer.step
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        np.copyto(order, rows)
        rng.shuffle(order)  # what rng.permutation(n) draws, into the same array each epoch
        total = 0.0
        with _diverging(epoch, optimizer):
            for lo, hi in batches:
                idx = order[lo:hi]
                if steps is not None:
                    value = steps.forward(idx)
                else:
                    value, grad = loss.value_and_gradient(model._run(Xa[idx], train=True), ya[idx])
                if not math.isfinite(value):
                    raise _diverged(epoch, optimizer, f"the batch loss is {value}")
                total += value * (hi - lo)
                if steps is not None:
                    steps.backward()
                else:
                    model.backward(grad)
                step(pairs)
            history.epoch_time.append(time.perf_counter() - start)
            history.loss.append(total / n)
            if Xv is not None:
                assert yv is not None  # checked with Xv
                vl = loss.value(model._run(Xv, train=False), yv)
                if not math.isfinite(vl):
                    raise _diverged(epoch, optimizer, f"the validation loss is {vl}")
                history.val_loss.append(vl)
                history.val_accuracy.append(_score(model, Xv, yv))
                if vl < best:
                    best, since_best, history.best_epoch = vl, 0, epoch
                    if early_stopping is not None:
                        best_weights = [p.copy() for p, _ in pairs]
                else:
                    since_best += 1
        if callback is not None:
            callback(epoch, model)
        if early_stopping is not None and since_best >= early_stopping:
            history.stopped_early = True
            break
    if history.stopped_early and best_weights is not None:
        for (p, _), w in zip(pairs, best_weights):
            p[...] = w
    return history


def gradient_norms(model: Sequential, X: ArrayLike, y: ArrayLike, loss: Loss) -> list[float]:
    """‖∂L/∂W‖ (Frobenius) of each Dense layer on one batch (X, y), input to output."""
    _check_step(model)
    _check_loss(model, loss, "gradient_norms")
    Xa, ya = _check_xy(model, X, y, "gradient_norms")
    logits = model._run(Xa, train=True)
    model.backward(loss.gradient(logits, ya))
    return [float(np.linalg.norm(layer.grad_W)) for layer in model.dense_layers]
