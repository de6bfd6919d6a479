"""Argument checks shared by the nn package: each names the parameter and the bad value.

Every check is O(1) or one pass over its input, and runs once at a public entry point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[Any]


def is_real(value: Any) -> bool:
    """A real scalar (Python or NumPy int/float), not a bool, str or array."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1 (NumPy integers accepted, bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


#: The largest seed: NumPy's legacy seeding and scikit-learn take unsigned 32-bit integers.
SEED_MAX = 2**32 - 1


def seed_int(name: str, value: Any) -> int:
    """A seed: an int in [0, :data:`SEED_MAX`] (NumPy integers accepted, bools refused)."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))
            or not 0 <= value <= SEED_MAX):
        raise ValueError(f"{name} must be an integer from 0 to {SEED_MAX}, got {value!r}")
    return int(value)


def positive_number(name: str, value: Any) -> float:
    """``value`` as a finite float > 0."""
    if not is_real(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def unit_interval(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1)."""
    if not is_real(value) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def fraction(name: str, value: Any) -> float:
    """``value`` as a float in (0, 1)."""
    if not is_real(value) or not 0 < value < 1:
        raise ValueError(f"{name} must be a fraction in (0, 1), got {value!r}")
    return float(value)


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


def class_labels(y: ArrayLike, *, what: str, n: int | None = None, n_classes: int | None = None) -> NDArray[np.intp]:
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
