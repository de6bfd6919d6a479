"""Training: mini-batch gradient descent with a seeded shuffle, validation and early stopping.

One epoch: shuffle the training rows with the run's generator, then for each batch
forward → loss gradient → backward → optimiser step.  The same seed, data, model and
dtype give the same weights bit for bit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

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


def score(model: Sequential, X: ArrayLike, y: ArrayLike) -> float:
    """Accuracy for a softmax model; R² = 1 - Σ(y-ŷ)²/Σ(y-ȳ)² for an identity model."""
    pred = model.predict(X)
    t = np.asarray(y)
    if model.output == "softmax":
        return float(np.mean(pred == t))
    t = t.astype(np.float64).reshape(pred.shape)
    ss_res = float(np.sum((t - pred) ** 2))
    ss_tot = float(np.sum((t - t.mean(axis=0)) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def _check_step(model: Sequential) -> None:
    if model.step_layers:
        raise ZeroGradientError(
            "this network has step hidden units: the step function's derivative is 0 "
            "everywhere, so every gradient is zero and backprop cannot train it; use "
            "actlab.nn.Perceptron (the perceptron learning rule) for a layer of step units"
        )


def _check_xy(model: Sequential, X: ArrayLike, y: ArrayLike, what: str) -> tuple[NDArray[Any], NDArray[Any]]:
    Xa = np.asarray(X)
    ya = np.asarray(y)
    if Xa.ndim != 2:
        raise ValueError(f"{what}: X must be 2-d, got shape {Xa.shape}")
    if ya.shape[0] != Xa.shape[0]:
        raise ValueError(f"{what}: X has {Xa.shape[0]} rows but y has {ya.shape[0]}")
    if not np.all(np.isfinite(Xa)):
        raise ValueError(f"{what}: X contains NaN or infinity")
    if model.output == "softmax":
        _check_labels(ya, what)
    elif ya.dtype.kind not in "biuf":
        raise ValueError(f"{what}: y must be real numbers, got dtype {ya.dtype}")
    elif not np.all(np.isfinite(ya)):
        raise ValueError(f"{what}: y contains NaN or infinity")
    return Xa.astype(model.dtype, copy=False), ya


def _check_labels(y: NDArray[Any], what: str) -> None:
    """Class labels: a 1-d array of whole numbers (their range is the loss's to check),
    so that 1.5 is refused rather than truncated to class 1."""
    if y.ndim != 1:
        raise ValueError(f"{what}: y must be 1-d class labels, got shape {y.shape}")
    if y.dtype.kind in "biu":
        return
    if y.dtype.kind != "f":
        raise ValueError(f"{what}: y must be whole-number class labels, got dtype {y.dtype}")
    bad = ~np.isfinite(y) | (y != np.round(y))
    if bad.any():
        raise ValueError(f"{what}: y must be whole-number class labels, got {y[bad][0].item()!r}")


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
    its time is not counted in ``epoch_time``.
    """
    _check_step(model)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if early_stopping is not None and (not isinstance(early_stopping, int) or early_stopping < 1):
        raise ValueError(f"early_stopping must be a positive integer patience, got {early_stopping!r}")
    if getattr(loss, "output", model.output) != model.output:
        raise ValueError(f"loss {type(loss).__name__} does not match the model's {model.output!r} output")
    Xa, ya = _check_xy(model, X, y, "fit")
    rng = np.random.default_rng(seed)
    Xv = yv = None
    if isinstance(validation, float):
        if not 0 < validation < 1:
            raise ValueError(f"validation fraction must be in (0, 1), got {validation!r}")
        order = rng.permutation(Xa.shape[0])
        n_val = max(1, int(round(validation * Xa.shape[0])))
        Xv, yv = Xa[order[:n_val]], ya[order[:n_val]]
        Xa, ya = Xa[order[n_val:]], ya[order[n_val:]]
    elif validation is not None:
        Xv, yv = _check_xy(model, validation[0], validation[1], "validation")
    if early_stopping is not None and Xv is None:
        raise ValueError("early_stopping needs validation data (validation=...)")

    history = History()
    pairs = model.parameters()
    best = float("inf")
    best_weights: list[NDArray[Any]] | None = None
    since_best = 0
    n = Xa.shape[0]
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n)
        total = 0.0
        for lo in range(0, n, batch_size):
            idx = order[lo : lo + batch_size]
            xb, yb = Xa[idx], ya[idx]
            value, grad = loss.value_and_gradient(model.forward(xb), yb)
            total += value * len(idx)
            model.backward(grad)
            optimizer.step(pairs)
        history.epoch_time.append(time.perf_counter() - start)
        history.loss.append(total / n)
        if Xv is not None:
            vl = loss.value(model.forward(Xv, train=False), yv)
            history.val_loss.append(vl)
            history.val_accuracy.append(score(model, Xv, yv))
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
    Xa, ya = _check_xy(model, X, y, "gradient_norms")
    logits = model.forward(Xa)
    model.backward(loss.gradient(logits, ya))
    return [float(np.linalg.norm(layer.grad_W)) for layer in model.dense_layers]
