"""actlab: activation functions with exact derivatives, and a lab to compare them.

>>> import actlab
>>> "sigmoid" in actlab.names()
True
>>> float(actlab.get("sigmoid").derivative(0.0))
0.25
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from .activations import Activation, Kink, Param, aliases, canonical_name, get, names

__version__ = "0.1.0"


def _shortcut(name: str) -> Any:
    act = get(name)

    def call(x: ArrayLike, /, *, out: Any = None, **params: Any) -> Any:
        return (act.with_params(**params) if params else act)(x, out=out)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = act.forward_kernel.__doc__
    return call


# Module-level shortcuts, one per registered activation: actlab.sigmoid(x),
# actlab.leaky_relu(x, slope=0.1), actlab.softmax(x, axis=0), ...
for _name in names():
    globals()[_name] = _shortcut(_name)
del _name

__all__ = ["Activation", "Kink", "Param", "aliases", "canonical_name", "get", "names", *names()]
