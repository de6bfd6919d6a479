"""The activation functions: the registry and the definitions, one family a module."""

from . import seed, vector  # noqa: F401  (importing a family registers its functions)
from ._registry import Activation, Kink, Param, aliases, canonical_name, get, names

__all__ = ["Activation", "Kink", "Param", "aliases", "canonical_name", "get", "names"]
