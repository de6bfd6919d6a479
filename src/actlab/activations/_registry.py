"""The registry: one decorated definition per activation, read by everything else.

An activation is defined once, in a family module, as a forward kernel decorated with
:func:`activation`, which carries its facts and registers it; the derivative kernels are
attached right below it with ``@<name>.derivative_rule`` and friends.  The CLI, the error
messages, the plots, the report and the tests all iterate over :func:`names`.

Kernels see a floating-point NumPy array of the *working* dtype (float64 for float16,
float32 and float64 input; longdouble for longdouble) and the bound parameters as
keywords.  The :class:`Activation` wrapper converts the input, picks the working dtype,
casts the result back to the input's dtype, and handles ``out=``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _fast

__all__ = [
    "Activation",
    "Facts",
    "Kink",
    "Param",
    "activation",
    "get",
    "names",
    "aliases",
    "canonical_name",
]

Use = Literal["hidden layer", "regression output", "classification output"]
Kind = Literal["elementwise", "vector"]

_REGISTRY: dict[str, Activation] = {}
_ALIASES: dict[str, str] = {}


# --------------------------------------------------------------------------- params
@dataclass(frozen=True)
class Param:
    """A parameter an activation accepts, with its default and its validation."""

    name: str
    default: Any
    doc: str
    validate: Callable[[str, str, Any], Any]

    def check(self, activation_name: str, value: Any) -> Any:
        return self.validate(activation_name, self.name, value)


def _real(activation_name: str, param: str, value: Any) -> float:
    """value as a finite float; the ValueError names the value as it was given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{activation_name}: {param} must be a finite real number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{activation_name}: {param} must be finite, got {value!r}")
    return number


def finite_real(activation_name: str, param: str, value: Any) -> float:
    """Validate a finite real number (bools are refused: ``slope=True`` is a typo)."""
    return _real(activation_name, param, value)


def unit_interval(activation_name: str, param: str, value: Any) -> float:
    """Validate a real number in [0, 1]."""
    number = _real(activation_name, param, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{activation_name}: {param} must lie in [0, 1], got {value!r}")
    return number


def positive_real(activation_name: str, param: str, value: Any) -> float:
    """Validate a finite real number > 0."""
    number = _real(activation_name, param, value)
    if number <= 0:
        raise ValueError(f"{activation_name}: {param} must be > 0, got {value!r}")
    return number


def axis_int(activation_name: str, param: str, value: Any) -> int:
    """Validate an integer (its bounds are the array's, checked at the call)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{activation_name}: {param} must be an integer, got {value!r}")
    return int(value)


def optional_positive_int(activation_name: str, param: str, value: Any) -> int | None:
    """Validate None or an integer >= 1."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{activation_name}: {param} must be a positive integer or None, got {value!r}")
    if value < 1:
        raise ValueError(f"{activation_name}: {param} must be >= 1, got {value!r}")
    return int(value)


def one_of(*choices: Any) -> Callable[[str, str, Any], Any]:
    """A validator taking one of ``choices`` (of the same type: an array, a bool for an
    int, a numpy string is none of them)."""

    def validate(activation_name: str, param: str, value: Any) -> Any:
        for choice in choices:
            if type(value) is type(choice) and value == choice:
                return choice
        raise ValueError(f"{activation_name}: {param} must be one of {choices!r}, got {value!r}")

    return validate


# --------------------------------------------------------------------------- facts
@dataclass(frozen=True)
class Kink:
    """A point where the function, or its derivative, is not differentiable, and the
    derivative's value chosen there (the right-hand side's; f'' takes the right-hand side's
    too where only f' has the kink)."""

    x: float
    derivative: float
    note: str = ""


# --------------------------------------------------------------------------- dtype
def _refuse_masked(a: Any, what: str, activation_name: str) -> None:
    """A masked array's mask would be dropped without a word: refused instead."""
    if isinstance(a, np.ma.MaskedArray):
        raise ValueError(
            f"{activation_name}: {what} is a masked array; masked arrays are not supported; "
            f"pass {what}.filled(...) or {what}.data"
        )


def _as_input_array(x: ArrayLike, what: str, activation_name: str) -> NDArray[Any]:
    _refuse_masked(x, what, activation_name)
    if x is None:
        raise ValueError(f"{activation_name}: {what} is None, expected an array of real numbers")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{activation_name}: {what} is not convertible to a numeric array ({exc})") from None
    kind = arr.dtype.kind
    if kind in "fiub":
        return arr
    if kind == "c":
        raise ValueError(f"{activation_name}: {what} is complex; only real input is supported")
    raise ValueError(f"{activation_name}: {what} has dtype {arr.dtype}, expected real numbers")


def result_dtype(arr: NDArray[Any]) -> np.dtype[Any]:
    """The dtype NumPy's ``np.exp`` would return for this input."""
    if arr.dtype.kind == "f":
        return arr.dtype
    return np.exp(np.zeros((), dtype=arr.dtype)).dtype


def working_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype the kernels compute in.

    float16 and float32 are computed in float64 and rounded once at the end: the result is
    then correctly rounded except in rare double-rounding ties, well inside 1 ULP.
    """
    if dtype == np.longdouble and np.finfo(np.longdouble).nmant > 52:
        return np.dtype(np.longdouble)
    return np.dtype(np.float64)


def _finish(
    result: NDArray[Any],
    dtype: np.dtype[Any],
    out: NDArray[Any] | None,
    scalar: bool,
    shape: tuple[int, ...] | None = None,
) -> Any:
    if shape is not None and result.shape != shape:
        result = result.reshape(shape)
    # Rounding the working-dtype result to the output dtype may overflow to ±inf or
    # underflow to a subnormal or 0: those are the correctly rounded values, not errors.
    with np.errstate(over="ignore", under="ignore"):
        # Rounded to the result's dtype first, also when out= is wider: like np.exp,
        # act(x, out=buf) holds act(x), whatever buf's dtype.
        result = np.asarray(result, dtype=dtype)
        if out is not None:
            np.copyto(out, result, casting="same_kind")
            return out
    return result[()] if scalar else result


#: The NumPy kernels of elementwise functions run over blocks of this many elements, so
#: that their temporaries stay cache-sized whatever the size of the array.
BLOCK = 1 << 15


def _blockwise(rule: Callable[..., Any], arrays: tuple[Any, ...], dtype: np.dtype[Any], **values: Any) -> Any:
    """``rule(*arrays, **values)`` for an elementwise rule, computed block by block into one
    array of ``dtype`` (each block rounded to it as a whole result would be); ``None``
    entries of ``arrays`` (no saved output) pass through."""
    size = arrays[0].size
    if size <= BLOCK:
        return rule(*arrays, **values)
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    result = np.empty(size, dtype)
    with np.errstate(over="ignore", under="ignore"):
        for start in range(0, size, BLOCK):
            part = slice(start, start + BLOCK)
            result[part] = rule(*(None if a is None else a[part] for a in flat), **values)
    return result.reshape(arrays[0].shape)


def _check_out(
    out: Any,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    activation_name: str,
    what: str = "out",
) -> None:
    if out is None:
        return
    _refuse_masked(out, what, activation_name)
    if not isinstance(out, np.ndarray):
        raise ValueError(f"{activation_name}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{activation_name}: out has shape {out.shape}, the result has shape {shape}")
    if not np.can_cast(dtype, out.dtype, casting="same_kind"):
        raise ValueError(f"{activation_name}: out has dtype {out.dtype}, the result is {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{activation_name}: out is read-only")


def _plain(a: Any, what: str, activation_name: str) -> Any:
    """An array as the dispatch takes it: a base-class ndarray in native byte order, so
    that a memmap, a subclass or a big-endian array gives the bits of the plain call."""
    if isinstance(a, np.ndarray):
        _refuse_masked(a, what, activation_name)
        if type(a) is not np.ndarray:
            a = a.view(np.ndarray)
        if not a.dtype.isnative:
            # np.dtype(type) is the canonical dtype object the fast path recognises
            dt = np.dtype(a.dtype.type) if a.dtype.kind in "fiubc" else a.dtype.newbyteorder("=")
            a = a.astype(dt)
    return a


def _dtype_of(x: Any) -> np.dtype[Any] | None:
    """The dtype of the result for input x, None when x is no array of real numbers (the
    call then raises its own error)."""
    if type(x) is np.ndarray and x.dtype.kind == "f" and x.dtype.isnative:
        return x.dtype  # the common case, without a new dtype object
    try:
        dt = x.dtype if isinstance(x, np.ndarray) else np.asarray(x).dtype
    except Exception:
        return None
    if dt.kind == "f":
        return dt.newbyteorder("=")
    if dt.kind in "iub":
        return np.exp(np.zeros((), dtype=dt)).dtype
    return None


def _foreign(out: Any, dtype: np.dtype[Any] | None, what: str, activation_name: str) -> bool:
    """Whether ``out`` is an array the call should not compute into: a subclass (memmap),
    another byte order or another dtype than the result's.  The result is then computed
    as the plain call computes it, and copied in."""
    if type(out) is np.ndarray and out.dtype.isnative:
        return dtype is not None and out.dtype != dtype
    if out is None or not isinstance(out, np.ndarray):
        return False  # None, or refused with a message by _check_out
    _refuse_masked(out, what, activation_name)
    return True  # a subclass (memmap), or another byte order


# --------------------------------------------------------------------------- activation
Init = Literal["glorot", "he", "lecun"]


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What is known of an activation function, as its decorator states it.

    ``init`` is the weight initialisation that suits the weights feeding it, ``classic``
    marks the ten functions of the founding document (with their common companions), and
    ``keeps_shape`` is False for a function whose output is narrower than its input (maxout).
    """

    name: str
    kind: Kind = "elementwise"
    formula: str
    plain_formula: str
    derivative_formula: str
    output_range: tuple[float, float]
    monotonic: bool
    zero_centered: bool
    max_derivative: float | None
    use: tuple[Use, ...]
    problems: tuple[str, ...]
    reference: str
    summary: str
    aliases: tuple[str, ...] = ()
    second_derivative_formula: str = ""
    kinks: tuple[Kink, ...] = ()
    params: tuple[Param, ...] = ()
    classic: bool = False
    exact: bool = False
    fast: str | None = None
    family: str = ""
    init: Init = "glorot"
    keeps_shape: bool = True

    @property
    def elementwise(self) -> bool:
        return self.kind == "elementwise"

    @property
    def trainable(self) -> bool:
        """False when the derivative is 0 everywhere, so backprop gets no signal (step)."""
        return self.max_derivative != 0


@dataclass(frozen=True, kw_only=True, eq=False)
class Activation(Facts):
    """An activation function with its derivatives and its facts.

    Get one with :func:`actlab.get`; call it for the forward pass.  Elementwise functions
    have :meth:`derivative` and :meth:`second_derivative`; vector functions (softmax,
    log_softmax, maxout) have :meth:`jacobian`.  All have :meth:`backward`, the
    vector-Jacobian product that backpropagation needs.  The facts are those of
    :class:`Facts`; ``values`` holds the bound parameters.
    """

    forward_kernel: Callable[..., Any]
    values: Mapping[str, Any] = field(default_factory=dict)
    _rules: dict[str, Callable[..., Any]] = field(default_factory=dict, repr=False)

    # -- definition helpers (used once, in the family modules) ------------------------
    def _rule(self, key: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def attach(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._rules[key] = fn
            return fn

        return attach

    @property
    def derivative_rule(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator attaching f'(x) (elementwise kernel ``(x, y, **params)``)."""
        return self._rule("derivative")

    @property
    def second_derivative_rule(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator attaching f''(x) (elementwise kernel ``(x, **params)``)."""
        return self._rule("second_derivative")

    @property
    def backward_rule(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator attaching the vector-Jacobian product ``(x, grad, y, **params)``."""
        return self._rule("backward")

    @property
    def parameter_gradient_rule(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator attaching the gradient with respect to the learned parameters
        ``(x, grad, **params) -> {name: value}`` (prelu's slope ``a``)."""
        return self._rule("parameter_gradient")

    @property
    def jacobian_rule(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator attaching the Jacobian ``(x, **params) -> (..., n_out, n_in)``."""
        return self._rule("jacobian")

    # -- parameters --------------------------------------------------------------------
    def with_params(self, **params: Any) -> Activation:
        """A copy with the given parameters bound (validated; unknown names refused)."""
        known = {p.name: p for p in self.params}
        values = dict(self.values)
        for key, value in params.items():
            if key not in known:
                hint = _closest(key, known)
                accepted = ", ".join(known) or "no parameters"
                raise ValueError(
                    f"{self.name}: unknown parameter {key!r}"
                    + (f"; did you mean {hint!r}?" if hint else f" (it takes {accepted})")
                )
            values[key] = known[key].check(self.name, value)
        return dataclasses.replace(self, values=values)

    def __repr__(self) -> str:
        bound = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"<activation {self.name}({bound})>"

    # -- computing ---------------------------------------------------------------------
    def _prepare(
        self, x: ArrayLike, what: str = "x"
    ) -> tuple[NDArray[Any], np.dtype[Any], bool, tuple[int, ...]]:
        arr = _as_input_array(x, what, self.name)
        dtype = result_dtype(arr)
        # Exact functions (max, compare, one multiply) are computed in the input's own
        # dtype, so leaky_relu's product is rounded once, to that dtype.
        # Vector kinds in C order: NumPy's sums along an axis then add in the same order
        # for every layout (elementwise ufuncs give the same bits in any layout).
        work = arr.astype(
            dtype if self.exact else working_dtype(dtype), order="K" if self.elementwise else "C", copy=False
        )
        if work.ndim == 0 and self.elementwise:
            # Kernels write into their temporaries with out=, which 0-d results refuse.
            work = work.reshape(1)
        return work, dtype, arr.ndim == 0 and not isinstance(x, np.ndarray), arr.shape

    def __call__(self, x: ArrayLike, *, out: NDArray[Any] | None = None) -> Any:
        """f(x): the forward pass."""
        if type(x) is not np.ndarray or not x.dtype.isnative:
            x = _plain(x, "x", self.name)
        if out is not None and _foreign(out, _dtype_of(x), "out", self.name):
            return self._store(self(x), out)
        if self.fast is not None and (fast := _fast.forward(self, x, out)) is not None:
            return fast
        work, dtype, scalar, shape = self._prepare(x)
        if self.elementwise:
            _check_out(out, shape, dtype, self.name)
        with np.errstate(under="ignore"):
            if self.elementwise:
                result = _blockwise(self.forward_kernel, (work,), dtype, **self.values)
            else:
                result = self.forward_kernel(work, **self.values)
        if not self.elementwise and out is not None:
            # a vector function's result shape is known once it is computed (maxout's
            # last axis shrinks); computed apart from out, so out may be x itself
            _check_out(out, result.shape, dtype, self.name)
        return _finish(result, dtype, out, scalar, shape if self.elementwise else None)

    def derivative(self, x: ArrayLike, *, y: ArrayLike | None = None, out: NDArray[Any] | None = None) -> Any:
        """f'(x) elementwise; ``y``, when given, is the saved output f(x)."""
        if not self.elementwise:
            raise ValueError(
                f"{self.name} is not elementwise: its derivative is a Jacobian matrix; "
                f"use .jacobian(x) for the matrix or .backward(x, grad) for backprop"
            )
        if type(x) is not np.ndarray or not x.dtype.isnative:
            x = _plain(x, "x", self.name)
        if y is not None and (type(y) is not np.ndarray or not y.dtype.isnative):
            y = _plain(y, "y", self.name)
        if out is not None and _foreign(out, _dtype_of(x), "out", self.name):
            return self._store(self.derivative(x, y=y), out)
        if self.fast is not None and (fast := _fast.derivative(self, x, y, out)) is not None:
            return fast
        work, dtype, scalar, shape = self._prepare(x)
        _check_out(out, shape, dtype, self.name)
        saved = self._saved_output(y, work, shape)
        with np.errstate(under="ignore"):
            result = _blockwise(self._rules["derivative"], (work, saved), dtype, **self.values)
        return _finish(result, dtype, out, scalar, shape if self.elementwise else None)

    def second_derivative(self, x: ArrayLike, *, out: NDArray[Any] | None = None) -> Any:
        """f''(x) elementwise."""
        if not self.elementwise or "second_derivative" not in self._rules:
            raise ValueError(f"{self.name} has no elementwise second derivative")
        work, dtype, scalar, shape = self._prepare(x)
        _check_out(out, shape, dtype, self.name)
        with np.errstate(under="ignore"):
            result = _blockwise(self._rules["second_derivative"], (work,), dtype, **self.values)
        return _finish(result, dtype, out, scalar, shape if self.elementwise else None)

    def backward(
        self,
        x: ArrayLike,
        grad: ArrayLike,
        *,
        y: ArrayLike | None = None,
        out: NDArray[Any] | None = None,
    ) -> Any:
        """The vector-Jacobian product grad_x = grad · ∂f/∂x (one backprop step).

        ``grad`` has the shape of f(x); the result has the shape of x.  ``y`` is the saved
        output f(x), used where it saves work without losing accuracy.
        """
        if type(x) is not np.ndarray or not x.dtype.isnative:
            x = _plain(x, "x", self.name)
        if type(grad) is not np.ndarray or not grad.dtype.isnative:
            grad = _plain(grad, "grad", self.name)
        if y is not None and (type(y) is not np.ndarray or not y.dtype.isnative):
            y = _plain(y, "y", self.name)
        if out is not None:
            dx, dg = _dtype_of(x), _dtype_of(grad)
            dtype = None if dx is None or dg is None else dx if dx is dg else np.result_type(dx, dg)
            if _foreign(out, dtype, "out", self.name):
                return self._store(self.backward(x, grad, y=y), out)
        if self.fast is not None and (fast := _fast.backward(self, x, grad, y, out)) is not None:
            return fast
        work, dtype, scalar, shape = self._prepare(x)
        g = _as_input_array(grad, "grad", self.name)
        gdtype = result_dtype(g)
        dtype = np.result_type(dtype, gdtype)
        g = g.astype(
            dtype if self.exact else working_dtype(dtype), order="K" if self.elementwise else "C", copy=False
        )
        work = work.astype(g.dtype, copy=False)
        saved = self._saved_output(y, work, shape)
        if self.elementwise:
            if g.shape != shape:
                raise ValueError(f"{self.name}: grad has shape {g.shape}, expected the shape of x {shape}")
            g = g.reshape(work.shape)
            _check_out(out, shape, dtype, self.name)
            # an infinite grad times a zero derivative is NaN, and a huge one may overflow:
            # results, not warnings (SPEC: none for any input)
            with np.errstate(all="ignore"):
                result = _blockwise(self._elementwise_backward, (work, g, saved), dtype)
        else:
            _check_out(out, shape, dtype, self.name)  # grad_x has the shape of x
            with np.errstate(all="ignore"):  # as above
                result = self._rules["backward"](work, g, saved, **self.values)
            # the rule has checked that grad has the shape of f(x); y must have it too
            if saved is not None and saved.shape != g.shape:
                raise ValueError(
                    f"{self.name}: the saved output y has shape {saved.shape}, expected "
                    f"the shape of f(x) {g.shape}"
                )
        return _finish(result, dtype, out, scalar, shape if self.elementwise else None)

    def parameter_gradient(self, x: ArrayLike, grad: ArrayLike) -> dict[str, Any]:
        """The gradient of Σ grad·f(x) with respect to the learned parameters, by name.

        ``grad`` has the shape of f(x); each value is summed over every element for a
        shared parameter (prelu: ``{"a": Σ grad·min(x, 0)}``).  ValueError for an
        activation with no learned parameter.
        """
        rule = self._rules.get("parameter_gradient")
        if rule is None:
            raise ValueError(f"{self.name} has no learned parameters: it has no parameter gradient")
        if type(x) is not np.ndarray or not x.dtype.isnative:
            x = _plain(x, "x", self.name)
        if type(grad) is not np.ndarray or not grad.dtype.isnative:
            grad = _plain(grad, "grad", self.name)
        work, dtype, _scalar, shape = self._prepare(x)
        g = _as_input_array(grad, "grad", self.name)
        dtype = np.result_type(dtype, result_dtype(g))
        if g.shape != shape:
            raise ValueError(f"{self.name}: grad has shape {g.shape}, expected the shape of x {shape}")
        g = g.astype(working_dtype(dtype), copy=False).reshape(work.shape)
        work = work.astype(g.dtype, copy=False)
        with np.errstate(all="ignore"):
            result = rule(work, g, **self.values)
        return {k: np.asarray(v).astype(dtype)[()] for k, v in result.items()}

    def _elementwise_backward(self, x: Any, g: Any, saved: Any) -> Any:
        """g·f'(x) from the backward rule, or from the derivative rule times g."""
        if "backward" in self._rules:
            return self._rules["backward"](x, g, saved, **self.values)
        result = self._rules["derivative"](x, saved, **self.values)
        result *= g
        return result

    def forward_with_derivative(
        self,
        x: ArrayLike,
        *,
        out: NDArray[Any] | None = None,
        derivative_out: NDArray[Any] | None = None,
    ) -> tuple[Any, Any]:
        """(f(x), f'(x)) in one pass over x, for elementwise functions.

        What a layer needs to save for its backward step, for the price of about one
        forward pass; the same values as ``act(x)`` and ``act.derivative(x)``.  ``out`` and
        ``derivative_out`` receive them when given (``out`` may be x itself).
        """
        if (
            isinstance(out, np.ndarray)
            and isinstance(derivative_out, np.ndarray)
            and np.shares_memory(out, derivative_out)
        ):
            raise ValueError(
                f"{self.name}: out and derivative_out share memory; f(x) and f'(x) need separate arrays"
            )
        if type(x) is not np.ndarray or not x.dtype.isnative:
            x = _plain(x, "x", self.name)
        dtype = _dtype_of(x)
        if _foreign(out, dtype, "out", self.name) or _foreign(
            derivative_out, dtype, "derivative_out", self.name
        ):
            f, d = self.forward_with_derivative(x)
            if out is not None:
                f = self._store(f, out)
            if derivative_out is not None:
                d = self._store(d, derivative_out, "derivative_out")
            return f, d
        if self.fast is not None:
            fast = _fast.forward_with_derivative(self, x, out, derivative_out)
            if fast is not None:
                return fast
        f = self(x)  # fresh arrays first: out or derivative_out may be x itself
        d = self.derivative(x)
        if out is not None:
            f = self._store(f, out)
        if derivative_out is not None:
            d = self._store(d, derivative_out, "derivative_out")
        return f, d

    def _store(self, value: Any, out: Any, what: str = "out") -> Any:
        dtype = np.asarray(value).dtype
        _check_out(out, np.shape(value), dtype, self.name, what)
        with np.errstate(over="ignore", under="ignore"):  # as in _finish: rounding, not errors
            np.copyto(out, value, casting="same_kind")
        return out

    def jacobian(self, x: ArrayLike) -> Any:
        """The Jacobian ∂f_i/∂x_j, shape (..., n_out, n_in) for vector functions.

        The function's axis is moved last before the matrix is formed.  For elementwise
        functions the Jacobian is diagonal: use :meth:`derivative`.
        """
        if "jacobian" not in self._rules:
            raise ValueError(f"{self.name} is elementwise: its Jacobian is diagonal; use .derivative(x)")
        work, dtype, _, _ = self._prepare(x)
        with np.errstate(under="ignore"):
            result = self._rules["jacobian"](work, **self.values)
            return np.asarray(result, dtype=dtype)

    def _saved_output(
        self, y: ArrayLike | None, work: NDArray[Any], shape: tuple[int, ...]
    ) -> NDArray[Any] | None:
        """y as the kernels take it; ``shape`` is x's shape before _prepare."""
        if y is None:
            return None
        saved = _as_input_array(y, "y", self.name).astype(
            work.dtype, order="K" if self.elementwise else "C", copy=False
        )
        if self.elementwise:
            if saved.shape != shape:
                raise ValueError(
                    f"{self.name}: the saved output y has shape {saved.shape}, "
                    f"expected the shape of x {shape}"
                )
            saved = saved.reshape(work.shape)
        return saved


# --------------------------------------------------------------------------- decorator
def activation(name: str, **facts: Any) -> Callable[[Callable[..., Any]], Activation]:
    """Register the decorated forward kernel as an activation with these facts.

    ``facts`` are the fields of :class:`Facts` (a misspelt one is a TypeError).  ``fast``
    names the compiled kernel (``actlab.activations._kernels``) that computes the same
    function, its derivative and its backward step in one pass; it is used for contiguous
    float32/float64 arrays when the extension is built (see ``_fast``).  Where the kernel
    depends on a bound parameter, ``fast`` names the family and ``_fast.VARIANTS`` maps the
    parameter's values to kernels (gelu: ``approximate`` picks gelu or gelu_tanh); a
    numeric parameter reaches its kernel as ``_fast.PARAMS`` says.
    """
    init = facts.get("init", "glorot")
    if init not in typing.get_args(Init):
        raise ValueError(f"{name}: init must be one of {typing.get_args(Init)}, got {init!r}")

    def register(kernel: Callable[..., Any]) -> Activation:
        for key in (name, *facts.get("aliases", ())):
            if key in _REGISTRY or key in _ALIASES:
                raise RuntimeError(f"activation name {key!r} registered twice")
        act = Activation(
            name=name,
            forward_kernel=kernel,
            family=kernel.__module__.rsplit(".", 1)[-1],
            values={p.name: p.default for p in facts.get("params", ())},
            **facts,
        )
        _REGISTRY[name] = act
        for alias in act.aliases:
            _ALIASES[alias] = name
        return act

    return register


# --------------------------------------------------------------------------- lookup
def _closest(word: str, candidates: Any) -> str | None:
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return match[0] if match else None


def names(*, classic_only: bool = False) -> list[str]:
    """The canonical names of all registered activations, in definition order
    (``classic_only``: those marked ``classic``, the founding document's functions)."""
    return [n for n, a in _REGISTRY.items() if a.classic or not classic_only]


def aliases() -> dict[str, str]:
    """Every accepted alias and the canonical name it stands for."""
    return dict(_ALIASES)


def canonical_name(name: str) -> str:
    """The canonical name for a name or alias; ValueError with a suggestion otherwise."""
    if not isinstance(name, str):
        raise ValueError(f"activation name must be a string, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    if key in _REGISTRY:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    hint = _closest(key, [*_REGISTRY, *_ALIASES])
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    raise ValueError(f"unknown activation {name!r}{suggestion} (known: {', '.join(_REGISTRY)})")


def get(name: str | Activation, **params: Any) -> Activation:
    """The activation called ``name`` (or an alias), with ``params`` bound and validated.

    >>> import actlab
    >>> actlab.get("logistic").name
    'sigmoid'
    >>> actlab.get("leaky_relu", slope=0.2)(-1.0)
    np.float64(-0.2)
    """
    if isinstance(name, Activation):
        return name.with_params(**params) if params else name
    act = _REGISTRY[canonical_name(name)]
    return act.with_params(**params) if params else act
