"""The activation functions: the registry and the definitions, one family a module."""

from . import elementwise, vector, modern  # noqa: F401  (importing a family registers its functions)
from ._fast import check_kernel_names
from ._registry import Activation, Facts, Kink, Param, aliases, canonical_name, get, names


def check_fast_names() -> None:
    """Every ``fast=`` name of the registry is a compiled kernel and every compiled kernel is
    named by one activation (ImportError otherwise; run when actlab is imported)."""
    check_kernel_names(fast for n in names() if (fast := get(n).fast) is not None)


check_fast_names()

__all__ = ["Activation", "Facts", "Kink", "Param", "aliases", "canonical_name", "get", "names"]
