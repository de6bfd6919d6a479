"""actlab's activations in PyTorch models (the optional extra ``actlab[torch]``).

- :mod:`actlab.torch.functional`: one function per registered activation,
  ``functional.leaky_relu(t, slope=0.1)``, ``functional.softmax(t, dim=-1)``;
- one ``nn.Module`` per activation, ``SELU()``, ``LeakyReLU(slope=0.1)``, and the generic
  ``Activation("leaky_relu", slope=0.1)``; none holds a parameter or buffer;
- ``torch.library`` custom operators ``torch.ops.actlab.<name>`` (with fake kernels and
  autograd), so that ``torch.compile(model, fullgraph=True)`` traces them.

CPU float32 and float64 tensors are computed by actlab's kernels, on the tensors' own
memory.  Other devices (CUDA, MPS) and float16 and bfloat16 tensors are computed by the same
stable forms written in torch operations (:mod:`actlab.portable`; float16 and bfloat16 in
float32, rounded once); ``set_path("ops")`` or ``ACTLAB_TORCH_PATH=ops`` sends every tensor
that way.  Integer, complex and boolean tensors are a TypeError naming the function.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("actlab.torch needs PyTorch; install it with: pip install 'actlab[torch]'") from exc

from actlab import activations as _activations

from . import functional
from ._api import Activation, class_name, make_module_class
from ._ops import KERNEL_DTYPES, get_path, ops_for, portable_ops_for, set_path

# every operator is defined here: torch.compile cannot define one while it traces
for _name in _activations.names():
    ops_for(_name)
    portable_ops_for(_name)
    globals()[class_name(_name)] = make_module_class(_name)
del _name


def __getattr__(name: str) -> type[Activation]:
    """The module class of an activation registered after this package was imported."""
    for act_name in _activations.names():
        if class_name(act_name) == name:
            ops_for(act_name)
            portable_ops_for(act_name)
            cls = globals()[name] = make_module_class(act_name)
            return cls
    raise AttributeError(f"module 'actlab.torch' has no attribute {name!r}")


__all__ = [
    "Activation",
    "KERNEL_DTYPES",
    "functional",
    "get_path",
    "set_path",
    *(class_name(n) for n in _activations.names()),
]
