"""Helpers the experiments share: one BLAS thread, pre-activations, number formats.

The settings' checks are in :mod:`actlab.lab._checks`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

import actlab
from actlab import nn

F = TypeVar("F", bound=Callable[..., Any])


def one_blas_thread(run: F) -> F:
    """Run ``run`` with the BLAS limited to one thread.

    The experiments multiply small matrices (64 to 512 wide), where a second BLAS thread
    gains nothing, and on a shared machine a busy-waiting second thread made runs up to 8×
    slower.  threadpoolctl comes with scikit-learn (the lab's data sets); without it the
    BLAS is left as it is.
    """

    @functools.wraps(run)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover
            return run(*args, **kwargs)
        with threadpool_limits(limits=1, user_api="blas"):
            return run(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def pre_activations(model: nn.Sequential, X: Any) -> list[tuple[actlab.Activation, NDArray[Any]]]:
    """For each hidden activation layer, (its activation, its input z) on X, no training state."""
    h = np.asarray(X, dtype=model.dtype)
    out = []
    for layer in model.layers:
        if isinstance(layer, nn.Activation):
            out.append((layer.act, h))
        h = layer.forward(h, train=False)
    return out


def sig(x: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, for findings."""
    return format(x, f".{digits}g")


def check_training_memory(data: Any, hidden: list[int], batch_size: int) -> None:
    """ValueError, before any training, when an MLP of these ``hidden`` widths on ``data``
    would need more memory than the machine has (float64, the experiments' dtype)."""
    from .. import _checks

    rows = max(batch_size, len(data.X_test), len(data.X_train))
    _checks.check_memory(
        f"hidden {hidden}",
        _checks.training_bytes(data.n_features, hidden, data.n_outputs, rows=rows, itemsize=8),
    )
