"""Argument checks shared by actlab.nn, actlab.lab and the CLI: each names the parameter and the bad value.

This is the one place for the general checks (seeds, counts with an optional bound, finite
and positive numbers, fractions, flags, strings, lists of any of these) and for a model's
inputs (finite 2-d X, class labels); :mod:`actlab.lab._checks` adds only the lab's own
bounds and settings on top of them.  A range helper is named by its interval:
:func:`fraction_open` is (0, 1), :func:`fraction_closed_open` is [0, 1).

Every check is O(1) or one pass over its input, and runs once at a public entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[Any]
T = TypeVar("T")


def is_real(value: Any) -> bool:
    """A real scalar (Python or NumPy int/float), not a bool, str or array."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


#: The largest seed: NumPy's legacy seeding and scikit-learn take unsigned 32-bit integers.
SEED_MAX = 2**32 - 1


def seed_int(name: str, value: Any) -> int:
    """A seed: an int in [0, :data:`SEED_MAX`] (NumPy integers accepted, bools refused)."""
    if not _is_int(value) or not 0 <= value <= SEED_MAX:
        raise ValueError(f"{name} must be an integer from 0 to {SEED_MAX}, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any, *, maximum: int | None = None) -> int:
    """``value`` as an int in [1, ``maximum``] (no upper bound if None; NumPy integers
    accepted, bools refused)."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value!r}")
    return int(value)


def finite_number(name: str, value: Any) -> float:
    """``value`` as a finite float (Python or NumPy int/float, bools refused)."""
    if not is_real(value) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def positive_number(name: str, value: Any) -> float:
    """``value`` as a finite float > 0."""
    if not is_real(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def fraction_closed_open(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1): 0 allowed, 1 not (momentum, Adam's betas)."""
    if not is_real(value) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def fraction_open(name: str, value: Any) -> float:
    """``value`` as a float in (0, 1): neither 0 nor 1 (a share of the rows, a threshold)."""
    if not is_real(value) or not 0 < value < 1:
        raise ValueError(f"{name} must be a fraction in (0, 1), got {value!r}")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """True or False (NumPy bools accepted); TypeError for anything else, so that a
    truthy string such as "no" does not silently switch a configuration."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def text(name: str, value: Any) -> str:
    """A str (TypeError for anything else)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {value!r}")
    return value


def list_of(
    name: str, value: Any, check: Callable[[str, Any], T], what: str, *, allow_empty: bool = False
) -> list[T]:
    """A list (or tuple, range, 1-d array) of ``what``, each passed through
    ``check(f"{name}[i]", item)``; empty only with ``allow_empty``.  A scalar or a str is
    refused, not iterated."""
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, (Sequence, np.ndarray))
        or (isinstance(value, np.ndarray) and value.ndim != 1)
    ):
        raise ValueError(f"{name} must be a list of {what}, got {value!r}")
    if len(value) == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty: give a list of {what}")
    return [check(f"{name}[{i}]", v) for i, v in enumerate(value)]


def positive_ints(name: str, value: Any, *, maximum: int, what: str) -> list[int]:
    """A non-empty list of ints in [1, ``maximum``]."""
    return list_of(name, value, lambda n, v: positive_int(n, v, maximum=maximum), what)


def positive_numbers(name: str, value: Any, *, what: str) -> list[float]:
    """A non-empty list of finite numbers > 0."""
    return list_of(name, value, positive_number, what)


def features(X: ArrayLike, *, dtype: Any, what: str, n_features: int | None = None) -> Array:
    """A finite 2-d array of real numbers, cast to ``dtype``: the input of a model."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{what}: X must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{what}: X must be 2-d (samples, features), got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{what}: X has shape {arr.shape}, expected (n, {n_features})")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{what}: X contains NaN or infinity")
    return arr.astype(dtype, copy=False)


def class_labels(
    y: ArrayLike, *, what: str, n: int | None = None, n_classes: int | None = None
) -> NDArray[np.intp]:
    """Class labels as intp: a 1-d array of whole numbers (length ``n``, in [0, n_classes)),
    so that 1.5 or NaN is refused rather than truncated or cast."""
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ValueError(f"{what}: y must be 1-d class labels, got shape {labels.shape}")
    if n is not None and labels.shape[0] != n:
        raise ValueError(f"{what}: y has {labels.shape[0]} labels, expected {n} (one per row)")
    if labels.dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.round(labels))
        if bad.any():
            raise ValueError(f"{what}: y must be whole-number class labels, got {labels[bad][0].item()!r}")
    elif labels.dtype.kind not in "biu":
        raise ValueError(f"{what}: y must be whole-number class labels, got dtype {labels.dtype}")
    if n_classes is not None and labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{what}: labels must be in [0, {n_classes}), got {labels.min()}..{labels.max()}")
    return labels.astype(np.intp, copy=False)
