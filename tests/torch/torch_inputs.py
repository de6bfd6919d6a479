"""Inputs for every registered activation, read from its facts: points at least ``GAP``
from every kink (finite differences straddling a kink measure nothing), and for vector
functions every dim of a 2-d input."""

from __future__ import annotations

from typing import Any

import numpy as np

import actlab

#: How far the test points keep from a kink; gradcheck's step is 1e-6.
GAP = 0.05


def away_from_kinks(name: str, x: np.ndarray) -> np.ndarray:
    """x with every point within GAP of one of the activation's kinks moved to GAP away."""
    x = np.array(x, dtype=np.float64)
    for kink in actlab.get(name).kinks:
        offset = x - kink.x
        side = np.where(offset >= 0, 1.0, -1.0)
        x = np.where(np.abs(offset) < GAP, kink.x + side * GAP, x)
    return x


def sample(name: str, shape: tuple[int, ...], *, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    """Uniform points in [-scale, scale], kept away from the kinks."""
    rng = np.random.default_rng(seed)
    return away_from_kinks(name, rng.uniform(-scale, scale, shape))


def takes_dim(name: str) -> bool:
    return any(p.name == "axis" for p in actlab.get(name).params)


def cases() -> list[tuple[str, dict[str, Any]]]:
    """(name, torch-side parameters): every activation with its defaults, and every vector
    function along each dim of a 2-d input."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name in actlab.names():
        if takes_dim(name):
            found += [(name, {"dim": 0}), (name, {"dim": -1})]
        else:
            found.append((name, {}))
    return found


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, params = case
    return name + "".join(f"-{k}{v}" for k, v in params.items())
