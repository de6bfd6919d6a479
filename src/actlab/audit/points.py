"""The inputs an accuracy measurement runs over, in every range of a float dtype.

:func:`sample_points` is the accuracy tests' sweep (a few thousand points per dtype);
:func:`audit_points` a smaller one of the same ranges whose float32 points are all among
its float64 points, so that one mpmath evaluation per input serves both dtypes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["HARD_POINTS", "LANDMARKS", "audit_points", "sample_points"]

#: Inputs where a derivative formed from a product of rounded terms lands near 4 ULP off
#: in float64 (found by PyTorch's OpInfo sample inputs; 3.89 and 3.97 ULP with the square
#: of a rounded 1 + e as the denominator, about 2 with 1 + e·(2 + e)): regression points of
#: the sweep.
HARD_POINTS = {"tanh": 3.812154468142862, "sigmoid": 4.847930347763491}

#: Where peers fail, where exp over- and underflows in each dtype, and where PyTorch's own
#: test inputs find tanh' and sigmoid' near 4 ULP off in float64 (each is taken with both
#: signs): 5.55 (gelu's tail underflows to 0 in float32 when formed as x·Φ(x)), 20.5
#: (past softplus' threshold of 20, where log1p(e^-x) is dropped), 37 (σ(x) rounds to 1 in
#: float64, so σ(1 - σ) is 0).
LANDMARKS = (
    5.55,
    19.0,
    20.5,
    37.0,
    37.73,
    40.0,
    87.3,
    88.7,
    89.0,
    103.0,
    104.0,
    709.78,
    710.0,
    740.0,
    745.0,
    746.0,
    *HARD_POINTS.values(),
)


def _with_both_zeros(positive: np.ndarray, dtype: Any) -> np.ndarray:
    points = np.unique(np.concatenate([positive, -positive]))
    points = points[points != 0]  # unique() merges ±0: put both back
    return np.concatenate([points, np.array([0.0, -0.0], dtype=dtype)])


def sample_points(dtype: Any) -> np.ndarray:
    """A few thousand inputs of ``dtype``, symmetric about 0, spanning every range."""
    fi = np.finfo(dtype)
    rng = np.random.default_rng(20261125)
    nmant = fi.nmant

    def log_uniform(lo_exp: int, hi_exp: int, n: int) -> np.ndarray:
        # |x| in [2^lo, 2^hi), mantissas on the dtype's own grid, so every value is exact.
        mantissa = 1.0 + rng.integers(0, 2**nmant, n) / 2.0**nmant
        return np.ldexp(mantissa, rng.integers(lo_exp, hi_exp, n)).astype(dtype)

    sub = fi.smallest_subnormal
    with np.errstate(under="ignore"):
        subnormals = (rng.integers(1, 2**nmant, 150).astype(dtype) * dtype(sub)).astype(dtype)
    specials = np.array(
        [
            0.0,
            sub,
            2 * sub,
            3 * sub,
            fi.smallest_normal - sub,
            fi.smallest_normal,
            1.0,
            0.5,
            2.0,
            np.nextafter(fi.max, dtype(0)),
            fi.max,
            np.inf,
        ],
        dtype=dtype,
    )
    landmarks = np.array(LANDMARKS, dtype=dtype)
    # Where e^{-x} and e^{-2x} underflow gradually: sigmoid, its derivatives and tanh'
    # have subnormal results there.
    low, high = -np.log(fi.smallest_normal), -np.log(sub)
    underflow = np.concatenate(
        [rng.uniform(low - 1, high + 1, 150), rng.uniform(low / 2 - 1, high / 2 + 1, 150)]
    ).astype(dtype)
    positive = np.concatenate(
        [
            specials,
            landmarks,
            underflow,
            subnormals,
            log_uniform(fi.minexp, -10, 300),  # tiny normals
            log_uniform(-10, 0, 200),
            np.linspace(0, 40, 1601, dtype=dtype),  # dense where the functions bend
            rng.uniform(0, 40, 600).astype(dtype),
            log_uniform(5, fi.maxexp, 300),  # large, up to the largest finite float
        ]
    )
    return _with_both_zeros(positive, dtype)


def _one_dtype(dtype: Any, size: int, rng: np.random.Generator) -> np.ndarray:
    """About ``size`` points of ``dtype`` (both signs) over its ranges."""
    fi = np.finfo(dtype)
    nmant = fi.nmant
    n = max(size // 2, 60)

    def part(share: float) -> int:
        return max(int(n * share), 4)

    def log_uniform(lo_exp: int, hi_exp: int, count: int) -> np.ndarray:
        mantissa = 1.0 + rng.integers(0, 2**nmant, count) / 2.0**nmant
        return np.ldexp(mantissa, rng.integers(lo_exp, hi_exp, count)).astype(dtype)

    sub = fi.smallest_subnormal
    with np.errstate(under="ignore"):
        subnormals = (rng.integers(1, 2**nmant, part(0.04)).astype(dtype) * dtype(sub)).astype(dtype)
    specials = np.array(
        [
            0.0,
            sub,
            2 * sub,
            3 * sub,
            fi.smallest_normal - sub,
            fi.smallest_normal,
            1.0,
            0.5,
            2.0,
            3.0,
            6.0,
            np.nextafter(fi.max, dtype(0)),
            fi.max,
            np.inf,
        ],
        dtype=dtype,
    )
    low, high = -np.log(fi.smallest_normal), -np.log(sub)
    underflow = np.concatenate(
        [rng.uniform(low - 1, high + 1, part(0.04)), rng.uniform(low / 2 - 1, high / 2 + 1, part(0.04))]
    ).astype(dtype)
    return np.concatenate(
        [
            specials,
            np.array(LANDMARKS, dtype=dtype),
            underflow,
            subnormals,
            log_uniform(fi.minexp, -10, part(0.08)),
            log_uniform(-10, 0, part(0.08)),
            np.linspace(0, 40, part(0.40), dtype=dtype),
            rng.uniform(0, 40, part(0.16)).astype(dtype),
            log_uniform(5, fi.maxexp, part(0.12)),
        ]
    )


def audit_points(dtype: Any, size: int = 2000) -> np.ndarray:
    """About ``size`` inputs of ``dtype`` (float32 or float64), both signs, ±0 and ±inf,
    from the subnormals to the largest float, dense where activations bend (|x| < 40).

    The float64 points hold every float32 point (each float32 is a float64) plus as many
    of float64's own; a NaN is not among them (the audit checks it apart).

    >>> x32, x64 = audit_points(np.float32, 500), audit_points(np.float64, 500)
    >>> bool(np.isin(x32.astype(np.float64), x64).all())
    True
    """
    try:
        kind = None if dtype is None else np.dtype(dtype)  # np.dtype(None) is float64
    except TypeError:
        kind = None
    if kind not in (np.float32, np.float64):
        raise ValueError(f"audit_points: dtype must be float32 or float64, got {dtype!r}")
    if size < 100:
        raise ValueError(f"audit_points: size must be >= 100, got {size!r}")
    rng = np.random.default_rng(20261126)
    positive32 = _one_dtype(np.float32, size, rng)
    if kind == np.float32:
        return _with_both_zeros(positive32, np.float32)
    positive64 = np.concatenate([positive32.astype(np.float64), _one_dtype(np.float64, size, rng)])
    return _with_both_zeros(positive64, np.float64)
