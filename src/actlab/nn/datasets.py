"""Data bundled with scikit-learn (no download) and generated sets, split and standardised.

Classification: digits (1,797 8×8 images, 10 classes), iris, breast_cancer; generated
moons, spirals, xor.  Regression: diabetes (targets standardised too).  Features are
standardised with the training split's mean and standard deviation; classification
splits are stratified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..checks import fraction_open, seed_int

NAMES = ("digits", "iris", "breast_cancer", "diabetes", "moons", "spirals", "xor")


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: NDArray[Any]
    X_test: NDArray[Any]
    y_train: NDArray[Any]
    y_test: NDArray[Any]
    task: str
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == "classification" else 1


def _spirals(rng: np.random.Generator, n: int = 300, classes: int = 3) -> tuple[NDArray[Any], NDArray[Any]]:
    per = n // classes
    X, y = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1, per)
        t = np.linspace(c * 4, (c + 1) * 4, per) + rng.normal(0, 0.2, per)
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(per, c))
    return np.vstack(X), np.concatenate(y)


def _xor(rng: np.random.Generator, n: int = 400) -> tuple[NDArray[Any], NDArray[Any]]:
    X = rng.uniform(-1, 1, (n, 2))
    return X, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)


def _raw(name: str, seed: int) -> tuple[NDArray[Any], NDArray[Any], str]:
    import sklearn.datasets as skd

    if name == "digits":
        X, y = skd.load_digits(return_X_y=True)
    elif name == "iris":
        X, y = skd.load_iris(return_X_y=True)
    elif name == "breast_cancer":
        X, y = skd.load_breast_cancer(return_X_y=True)
    elif name == "diabetes":
        X, y = skd.load_diabetes(return_X_y=True)
        return X, y, "regression"
    elif name == "moons":
        X, y = skd.make_moons(n_samples=400, noise=0.2, random_state=seed)
    elif name == "spirals":
        X, y = _spirals(np.random.default_rng(seed))
    else:
        X, y = _xor(np.random.default_rng(seed))
    return X, y, "classification"


def load(name: str, *, seed: int = 0, test_size: float = 0.25) -> Dataset:
    """Load ``name`` (one of :data:`NAMES`), split with ``seed`` and standardise."""
    if not isinstance(name, str) or name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(NAMES)}")
    test_size = fraction_open("test_size", test_size)
    seed = seed_int("seed", seed)
    from sklearn.model_selection import train_test_split

    X, y, task = _raw(name, seed)
    X = np.asarray(X, dtype=np.float64)
    stratify = y if task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
    mu, sd = X_tr.mean(axis=0), X_tr.std(axis=0)
    sd[sd == 0] = 1.0
    X_tr, X_te = (X_tr - mu) / sd, (X_te - mu) / sd
    if task == "regression":
        ym, ys = y_tr.mean(), y_tr.std()
        y_tr, y_te = (y_tr - ym) / ys, (y_te - ym) / ys
        n_classes = 0
    else:
        y_tr, y_te = y_tr.astype(np.int64), y_te.astype(np.int64)
        n_classes = int(max(y_tr.max(), y_te.max()) + 1)
    return Dataset(name, X_tr, X_te, y_tr, y_te, task, n_classes)
