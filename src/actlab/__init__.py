"""actlab: activation functions with exact derivatives, and a lab to compare them.

>>> import actlab
>>> "sigmoid" in actlab.names()
True
>>> float(actlab.get("sigmoid").derivative(0.0))
0.25
"""

from __future__ import annotations

import importlib
from typing import Any

from numpy.typing import ArrayLike

from .activations import Activation, Facts, Kink, Param, _fast, aliases, canonical_name, get, names

__version__ = "0.1.0"


def kernel_status() -> str:
    """Which kernels compute: the compiled ones with their instruction set and threads, or
    NumPy's alone (``actlab --version`` prints it).

    >>> "kernels" in kernel_status()
    True
    """
    return _fast.status()


def info() -> dict[str, Any]:
    """What this installation computes with, as a dict:

    - ``version``: actlab's; ``numpy``: NumPy's;
    - ``compiled``: whether the compiled kernels are in use (else NumPy's kernels do all);
    - ``isa``: their instruction set (``baseline``, ``avx2+fma``, ``avx512``), or None;
    - ``isas``: each instruction set they are built for, with None where this CPU runs it
      and otherwise the first feature it lacks (``ACTLAB_ISA`` forces one of them);
    - ``threads``: how many threads a large call is split over;
    - ``kernels``: the compiled kernels in use, by name (``gelu_tanh`` is gelu's tanh form);
    - ``float32_lanes``: those whose float32 forward is computed in float32 lanes.

    >>> import actlab
    >>> facts = actlab.info()
    >>> facts["compiled"] == (facts["isa"] is not None)
    True
    >>> set(facts["float32_lanes"]) <= set(facts["kernels"])
    True
    """
    import numpy

    compiled = _fast.available()
    return {
        "version": __version__,
        "numpy": numpy.__version__,
        "compiled": compiled,
        "isa": _fast.isa(),
        "isas": _fast.isas(),
        "threads": _fast.get_num_threads() if compiled else 1,
        "kernels": _fast.kernel_names(),
        "float32_lanes": _fast.float32_lanes(),
    }


def _shortcut(name: str) -> Any:
    act = get(name)

    def call(x: ArrayLike, /, *, out: Any = None, **params: Any) -> Any:
        return (act.with_params(**params) if params else act)(x, out=out)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = act.forward_kernel.__doc__
    return call


# Module-level shortcuts, one per registered activation: actlab.sigmoid(x),
# actlab.leaky_relu(x, slope=0.1), actlab.softmax(x, axis=0), ...
step = _shortcut("step")
sigmoid = _shortcut("sigmoid")
tanh = _shortcut("tanh")
arctan = _shortcut("arctan")
relu = _shortcut("relu")
leaky_relu = _shortcut("leaky_relu")
selu = _shortcut("selu")
identity = _shortcut("identity")
softmax = _shortcut("softmax")
log_softmax = _shortcut("log_softmax")
maxout = _shortcut("maxout")
elu = _shortcut("elu")
celu = _shortcut("celu")
gelu = _shortcut("gelu")
silu = _shortcut("silu")
mish = _shortcut("mish")
softplus = _shortcut("softplus")
log_sigmoid = _shortcut("log_sigmoid")
softsign = _shortcut("softsign")
hardtanh = _shortcut("hardtanh")
relu6 = _shortcut("relu6")
hard_sigmoid = _shortcut("hard_sigmoid")
hard_swish = _shortcut("hard_swish")
prelu = _shortcut("prelu")
sparsemax = _shortcut("sparsemax")
glu = _shortcut("glu")

if _missing := [n for n in names() if n not in globals()]:
    raise ImportError(f"actlab: no module shortcut for {', '.join(_missing)}; add it above")

__all__ = [
    "Activation",
    "Facts",
    "Kink",
    "Param",
    "aliases",
    "canonical_name",
    "get",
    "info",
    "kernel_status",
    "names",
    *names(),
]

#: Subpackages imported on first access, so that ``import actlab`` stays cheap; each maps
#: to the submodules its documented entry points live in (``actlab.plots.experiments``).
_SUBPACKAGES: dict[str, tuple[str, ...]] = {
    "nn": (),
    "lab": (),
    "plots": ("experiments", "gallery"),
    "report": (),
    "audit": (),
}


def __getattr__(name: str) -> Any:
    """``actlab.nn``, ``actlab.lab``, ``actlab.plots``, ``actlab.report`` and
    ``actlab.audit``, imported on first access (after which they are ordinary attributes),
    and ``actlab.define`` (:func:`actlab.symbolic.define`, which needs SymPy)."""
    if name in ("define", "undefine"):
        from . import symbolic

        return getattr(symbolic, name)
    if name not in _SUBPACKAGES:
        raise AttributeError(f"module 'actlab' has no attribute {name!r}")
    module = importlib.import_module(f".{name}", __name__)
    for sub in _SUBPACKAGES[name]:
        importlib.import_module(f".{name}.{sub}", __name__)
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBPACKAGES})
