"""The vector built-ins' portable forms (filled below)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: name -> (f, jvp, vjp), each with keyword-only axis (and the function's parameters).
VECTOR: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {}
