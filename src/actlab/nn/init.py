"""Weight initialisation: Glorot, He and LeCun (normal), and the default per activation.

For a Dense layer with ``n_in`` inputs and ``n_out`` outputs, W ~ N(0, σ²) with

- glorot: σ² = 2 / (n_in + n_out)   (Glorot & Bengio 2010; sigmoid, tanh, arctan, ...)
- he:     σ² = 2 / n_in             (He et al. 2015; relu family: keeps E[h²] constant)
- lecun:  σ² = 1 / n_in             (LeCun 1998; selu's self-normalisation needs it)

Each activation names its scheme in its ``init`` fact.  Maxout with two pieces takes lecun: the larger of two independent N(0, σ²) values has
E[max²] = σ² (max² and min² have the same law by symmetry and sum to z₁² + z₂²), so unlike
relu it loses no second moment and He's factor 2 would double E[h²] at every layer.

Biases start at 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

INITS = ("glorot", "he", "lecun")


def default_init(activation: Any) -> str:
    """The default scheme for weights followed by ``activation`` (a name, an alias, an
    ``actlab.Activation`` or None): the activation's ``init`` fact, glorot for None.

    >>> default_init("selu"), default_init("relu"), default_init("tanh")
    ('lecun', 'he', 'glorot')
    """
    if activation is None:
        return "glorot"
    import actlab

    if isinstance(activation, str):
        return actlab.get(activation).init
    if isinstance(activation, actlab.Activation):
        return activation.init
    raise TypeError(f"activation must be a name, an actlab.Activation or None, got {activation!r}")


def check_init(init: str) -> str:
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}: expected one of {', '.join(INITS)}")
    return init


def init_weights(
    n_in: int, n_out: int, *, init: str, rng: np.random.Generator, dtype: Any = np.float64
) -> NDArray[Any]:
    """A (n_in, n_out) weight matrix drawn from N(0, σ²) for the scheme ``init``."""
    check_init(init)
    if init == "glorot":
        var = 2.0 / (n_in + n_out)
    elif init == "he":
        var = 2.0 / n_in
    else:
        var = 1.0 / n_in
    return (rng.standard_normal((n_in, n_out)) * np.sqrt(var)).astype(dtype)
