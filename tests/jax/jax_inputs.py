"""Inputs for every registered activation, read from its facts: points at least ``GAP``
from every kink, rows on which a piecewise-linear vector function keeps its pieces nearby,
and every axis of a 2-d input for vector functions; plus the x64 switch, kept to a block."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

import actlab

#: How far the test points keep from a kink: check_grads' step is 1e-4, nested twice.
GAP = 0.05
SHAPE = (4, 6)


@contextlib.contextmanager
def x64(enabled: bool = True) -> Iterator[None]:
    """jax_enable_x64 set inside the block only."""
    switch = getattr(jax, "enable_x64", None)
    if switch is None:  # jax before the top-level context manager
        from jax.experimental import disable_x64, enable_x64
        switch_cm = enable_x64() if enabled else disable_x64()
    else:
        switch_cm = switch(enabled)
    with switch_cm:
        yield


def away_from_kinks(name: str, x: np.ndarray) -> np.ndarray:
    """x with every point within GAP of one of the activation's kinks moved to GAP away."""
    x = np.array(x, dtype=np.float64)
    for kink in actlab.get(name).kinks:
        offset = x - kink.x
        side = np.where(offset >= 0, 1.0, -1.0)
        x = np.where(np.abs(offset) < GAP, kink.x + side * GAP, x)
    return x


def _pieces_hold(act: actlab.Activation, x: np.ndarray, rng: np.random.Generator) -> bool:
    """True when the Jacobian hardly moves within GAP of x: no support change (sparsemax)
    or near tie (maxout) that finite differences would straddle."""
    if act.elementwise:
        return True
    jac = act.jacobian(x)
    for _ in range(8):
        nearby = act.jacobian(x + rng.uniform(-GAP, GAP, x.shape))
        if np.max(np.abs(nearby - jac)) > 0.5:
            return False
    return True


def sample(name: str, shape: tuple[int, ...] = SHAPE, *, seed: int = 0, scale: float = 3.0,
           **params: Any) -> np.ndarray:
    """Uniform points in [-scale, scale], kept away from the kinks and the places where a
    piecewise-linear function changes pieces."""
    act = actlab.get(name, **params)
    rng = np.random.default_rng(seed)
    for _ in range(100):
        x = away_from_kinks(name, rng.uniform(-scale, scale, shape))
        if _pieces_hold(act, x, rng):
            return x
    raise AssertionError(f"no stable sample for {name} {params}")


def takes_axis(name: str) -> bool:
    return any(p.name == "axis" for p in actlab.get(name).params)


def cases() -> list[tuple[str, dict[str, Any]]]:
    """(name, parameters): every activation with its defaults, and every vector function
    along each axis of a 2-d input (maxout in pieces of 2)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name in actlab.names():
        extra = {"pieces": 2} if any(p.name == "pieces" for p in actlab.get(name).params) else {}
        if takes_axis(name):
            found += [(name, {**extra, "axis": 0}), (name, {**extra, "axis": -1})]
        else:
            found.append((name, {}))
    return found


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, params = case
    return name + "".join(f"-{k}{v}" for k, v in params.items())
