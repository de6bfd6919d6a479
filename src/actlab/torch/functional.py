"""The functional form of every registered activation: ``functional.sigmoid(t)``,
``functional.leaky_relu(t, slope=0.1)``, ``functional.softmax(t, dim=-1)``.

Each function is generated from the registry (its parameters, defaults and documentation
are the activation's; a vector function's ``axis`` is ``dim``).  The forward pass, the
gradient and the second derivative are actlab's kernels, run on the tensor's own memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actlab import activations

from ._api import make_function


def __getattr__(name: str) -> Callable[..., Any]:
    """An activation registered after this module was imported."""
    if name in activations.names():
        function = globals()[name] = make_function(name)
        return function
    raise AttributeError(f"module 'actlab.torch.functional' has no attribute {name!r}")


for _name in activations.names():
    globals()[_name] = make_function(_name)
del _name

__all__ = list(activations.names())
