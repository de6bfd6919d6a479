"""Layers with backprop written out: Dense, Activation, Maxout, and Sequential.

Notation: X is a batch (n, n_in), z = X W + b the pre-activation, g the upstream gradient
∂L/∂(output).  Dense: ∂L/∂W = Xᵀ g, ∂L/∂b = Σ_rows g, ∂L/∂X = g Wᵀ.  Activation layers use
the activation object's own vector-Jacobian product ``act.backward(z, g, y=f(z))``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

import actlab

from ..checks import features, positive_int, seed_int
from . import _format
from .init import check_init, default_init, init_weights

Array = NDArray[Any]

_DTYPES = (np.float32, np.float64)


def check_dtype(dtype: Any) -> np.dtype[Any]:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype {dtype!r} is not supported: use float32 or float64") from None
    if dt not in [np.dtype(d) for d in _DTYPES]:
        raise ValueError(f"dtype {dt} is not supported: use float32 or float64")
    return dt


class ZeroGradientError(ValueError):
    """Backprop through a function whose derivative is 0 everywhere (the step function)."""


class Layer:
    """Base class: ``forward(X)``, ``backward(g)``, ``params`` and ``grads``."""

    def forward(self, X: ArrayLike, *, train: bool = True) -> Array:  # pragma: no cover
        raise NotImplementedError

    def backward(self, g: Array, *, need_input_grad: bool = True) -> Array | None:  # pragma: no cover
        """∂L/∂input from ∂L/∂output ``g``, filling ``grads``; None when not
        ``need_input_grad`` (a first layer has no use for it)."""
        raise NotImplementedError

    @property
    def params(self) -> dict[str, Array]:
        return {}

    @property
    def grads(self) -> dict[str, Array]:
        return {}

    def spec(self) -> dict[str, Any]:
        """What :func:`actlab.nn.save` writes to describe the layer (JSON-ready)."""
        raise ValueError(f"cannot save layer {self!r}")


def _check_rng(rng: Any) -> np.random.Generator:
    if not (
        rng is None
        or isinstance(rng, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence))
        or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0)
    ):
        raise ValueError(f"rng must be a numpy Generator, a non-negative int seed or None, got {rng!r}")
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


class _Gradient:
    """A gradient attribute: zeros shaped like the parameter it belongs to until a backward
    pass writes it, allocated on first use (a model that only predicts never holds one)."""

    def __init__(self, param: str) -> None:
        self.param = param

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, layer: Any, owner: type | None = None) -> Any:
        if layer is None:
            return self
        value = layer.__dict__.get(self.slot)
        if value is None:
            value = layer.__dict__[self.slot] = np.zeros_like(getattr(layer, self.param))
        return value

    def __set__(self, layer: Any, value: Array) -> None:
        layer.__dict__[self.slot] = value


class Dense(Layer):
    """A fully connected layer z = X W + b, W of shape (n_in, n_out)."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        init: str | None = None,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
        activation: str | actlab.Activation | None = None,
    ) -> None:
        self._setup(n_in, n_out, init=init, dtype=dtype, activation=activation)
        rng = _check_rng(rng)
        self.W: Array = init_weights(self.n_in, self._columns(), init=self.init, rng=rng, dtype=self.dtype)
        self.b: Array = np.zeros(self._columns(), dtype=self.dtype)

    def _setup(self, n_in: int, n_out: int, *, init: str | None, dtype: Any, activation: Any) -> None:
        """Everything but the weights: sizes, dtype and init checked; no gradient or input yet."""
        self.n_in = positive_int("n_in", n_in)
        self.n_out = positive_int("n_out", n_out)
        self.dtype = check_dtype(dtype)
        self.init = check_init(init) if init is not None else default_init(activation)
        self._grad_W: Array | None = None
        self._grad_b: Array | None = None
        self._X: Array | None = None

    @classmethod
    def from_arrays(cls, W: Array, b: Array, *, init: str | None = None, **options: Any) -> Dense:
        """A layer that holds ``W`` (n_in, columns) and ``b`` (columns,) themselves, not
        copies, with no weights drawn: the way :func:`actlab.nn.load` builds a model.
        ``options`` are the class's other keywords (``pieces`` for :class:`Maxout`);
        ``n_out`` is the number of columns (divided by ``pieces`` for Maxout)."""
        W, b = np.asarray(W), np.asarray(b)
        if W.ndim != 2 or b.shape != (W.shape[1],) or W.dtype != b.dtype:
            raise ValueError(
                f"{cls.__name__}.from_arrays: W must be 2-d and b 1-d with one entry per column of W, "
                f"of one dtype; got shapes {W.shape}/{b.shape}, dtypes {W.dtype}/{b.dtype}"
            )
        layer = cls.__new__(cls)
        layer._setup_arrays(W, b, init=init, **options)
        return layer

    def _setup_arrays(self, W: Array, b: Array, *, init: str | None) -> None:
        self._setup(W.shape[0], W.shape[1], init=init, dtype=W.dtype, activation=None)
        self.W, self.b = W, b

    grad_W = _Gradient("W")
    grad_b = _Gradient("b")

    def spec(self) -> dict[str, Any]:
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out, "init": self.init}

    def _columns(self) -> int:
        return self.n_out

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out}, init={self.init!r}, dtype={self.dtype.name})"

    def forward(self, X: ArrayLike, *, train: bool = True) -> Array:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"{type(self).__name__}: input has shape {X.shape}, expected (n, {self.n_in})")
        if train:
            self._X = X
        z = X @ self.W
        z += self.b
        return z

    def backward(self, g: Array, *, need_input_grad: bool = True) -> Array | None:
        if self._X is None:
            raise ValueError("backward called before forward")
        g = np.asarray(g)
        if g.shape != (self._X.shape[0], self.W.shape[1]):
            raise ValueError(
                f"{type(self).__name__}: gradient has shape {g.shape}, "
                f"expected {(self._X.shape[0], self.W.shape[1])} (the shape of its output)"
            )
        np.matmul(self._X.T, g, out=self.grad_W)
        np.sum(g, axis=0, out=self.grad_b)
        return g @ self.W.T if need_input_grad else None

    @property
    def params(self) -> dict[str, Array]:
        return {"W": self.W, "b": self.b}

    @property
    def grads(self) -> dict[str, Array]:
        return {"W": self.grad_W, "b": self.grad_b}


class Activation(Layer):
    """Applies a registered actlab activation; backprop through its own ``backward``.

    ``name_or_act`` is a name (``"relu"``), an alias, or an ``actlab.Activation`` (with
    parameters bound, e.g. ``actlab.get("leaky_relu", slope=0.2)``).  Maxout changes the
    width, so it is a layer of its own: :class:`Maxout`.
    """

    def __init__(self, name_or_act: str | actlab.Activation, **params: Any) -> None:
        self.act = actlab.get(name_or_act, **params)
        if not self.act.keeps_shape:
            raise ValueError(
                f"{self.act.name} changes the layer width: use a layer of its own "
                f"(nn.Maxout for maxout), not Activation({self.act.name!r})"
            )
        self._z: ArrayLike | None = None
        self._y: Array | None = None

    @property
    def name(self) -> str:
        return self.act.name

    def __repr__(self) -> str:
        return f"Activation({self.act!r})"

    def spec(self) -> dict[str, Any]:
        return {"type": "Activation", "name": self.act.name, "params": dict(self.act.values)}

    def forward(self, X: ArrayLike, *, train: bool = True) -> Array:
        y = self.act(X)
        if train:
            self._z, self._y = X, y
        return y

    def backward(self, g: Array, *, need_input_grad: bool = True) -> Array:
        if not self.act.trainable:
            raise ZeroGradientError(
                f"{self.act.name}'s derivative is 0 everywhere, so the gradient through its "
                "layer is zero and gradient descent cannot train it; use "
                "actlab.nn.Perceptron (the perceptron learning rule) for step units"
            )
        if self._z is None:
            raise ValueError("backward called before forward")
        return self.act.backward(self._z, g, y=self._y)


class Maxout(Dense):
    """A maxout layer: n_out units, each the maximum of ``pieces`` linear functions.

    z = X W + b with W of shape (n_in, n_out·k); unit j outputs max(z[jk], ..., z[jk+k-1])
    (actlab's maxout with pieces=k).  The gradient goes to each group's first maximum.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        pieces: int = 2,
        init: str | None = None,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self._set_pieces(pieces)
        super().__init__(n_in, n_out, init=init, rng=rng, dtype=dtype, activation="maxout")

    #: The width-changing activation this layer computes.
    ACTIVATION = "maxout"

    def _set_pieces(self, pieces: int) -> None:
        self.pieces = positive_int("pieces", pieces)
        self.act = actlab.get(self.ACTIVATION, pieces=self.pieces)
        self._z: Array | None = None

    def _setup_arrays(self, W: Array, b: Array, *, init: str | None, pieces: int = 2) -> None:
        self._set_pieces(pieces)
        if W.shape[1] % self.pieces:
            raise ValueError(
                f"Maxout.from_arrays: W has {W.shape[1]} columns, not a multiple of pieces={self.pieces}"
            )
        self._setup(W.shape[0], W.shape[1] // self.pieces, init=init, dtype=W.dtype, activation="maxout")
        self.W, self.b = W, b

    def spec(self) -> dict[str, Any]:
        return {
            "type": "Maxout",
            "n_in": self.n_in,
            "n_out": self.n_out,
            "pieces": self.pieces,
            "init": self.init,
        }

    def _columns(self) -> int:
        return self.n_out * self.pieces

    @property
    def name(self) -> str:
        return "maxout"

    def __repr__(self) -> str:
        return f"Maxout({self.n_in}, {self.n_out}, pieces={self.pieces}, init={self.init!r}, dtype={self.dtype.name})"

    def forward(self, X: ArrayLike, *, train: bool = True) -> Array:
        z = super().forward(X, train=train)
        if train:
            self._z = z
        return self.act(z)

    def backward(self, g: Array, *, need_input_grad: bool = True) -> Array | None:
        if self._z is None:
            raise ValueError("backward called before forward")
        return super().backward(self.act.backward(self._z, g), need_input_grad=need_input_grad)


def _check_chain(layers: list[Any]) -> None:
    """Every item a Layer, and each Dense's n_in the width of what comes before it."""
    width: int | None = None
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a Layer (Dense, Activation, Maxout), got {layer!r}")
        if isinstance(layer, Dense):
            if width is not None and layer.n_in != width:
                raise ValueError(
                    f"layers[{i}] {layer!r} takes {layer.n_in} inputs, "
                    f"but the layers before it output {width}"
                )
            width = layer.n_out
        elif not isinstance(layer, Activation):
            width = None  # a layer of another kind: its width is unknown


class Sequential:
    """Layers applied in order.  ``forward`` returns logits (the output activation is fused
    into the loss); ``backward(grad_logits)`` fills every layer's ``grads``."""

    def __init__(self, layers: list[Layer], *, output: str = "softmax") -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        if output not in ("softmax", "identity"):
            raise ValueError(f"output must be 'softmax' or 'identity', got {output!r}")
        _check_chain(layers)
        self.layers = layers
        self.output = output
        dts = {layer.dtype for layer in self.layers if isinstance(layer, Dense)}
        if len(dts) > 1:
            raise ValueError(f"layers mix dtypes {sorted(d.name for d in dts)}")
        self.dtype: np.dtype[Any] = dts.pop() if dts else np.dtype(np.float64)

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n], output={self.output!r})"

    @property
    def dense_layers(self) -> list[Dense]:
        """The layers with weights (Dense and Maxout), input to output."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def untrainable_layers(self) -> list[Activation]:
        """The activation layers whose derivative is 0 everywhere (step)."""
        return [l for l in self.layers if isinstance(l, Activation) and not l.act.trainable]

    def _input(self, X: ArrayLike, what: str) -> Array:
        """X checked (finite, 2-d, real) and cast to the model's dtype."""
        return features(X, dtype=self.dtype, what=what)

    def _run(self, h: Array, *, train: bool) -> Array:
        """The logits of an input already checked by :meth:`_input`."""
        for layer in self.layers:
            h = layer.forward(h, train=train)
        return h

    def forward(self, X: ArrayLike, *, train: bool = True) -> Array:
        """The logits; X must be finite (as for :func:`actlab.nn.fit`)."""
        return self._run(self._input(X, "forward"), train=train)

    def backward(self, grad_logits: Array, *, need_input_grad: bool = False) -> Array | None:
        """Backprop ∂L/∂logits through every layer, filling ``grads``; returns ∂L/∂X when
        ``need_input_grad`` (otherwise the first layer skips that product)."""
        for layer in self.untrainable_layers:
            layer.backward(grad_logits)  # raises ZeroGradientError naming the step function
        g: Array | None = np.asarray(grad_logits, dtype=self.dtype)
        for i in range(len(self.layers) - 1, -1, -1):
            step: Layer = self.layers[i]
            assert g is not None
            if i == 0 and isinstance(step, Dense) and not need_input_grad:
                return step.backward(g, need_input_grad=False)
            g = step.backward(g)
        return g

    def predict_proba(self, X: ArrayLike) -> Array:
        """Class probabilities softmax(logits) (classification models)."""
        if self.output != "softmax":
            raise ValueError("predict_proba needs a softmax output; this model is a regressor")
        return actlab.get("softmax")(self._run(self._input(X, "predict_proba"), train=False))

    def predict(self, X: ArrayLike) -> Array:
        """Class labels (argmax of the logits) or, for identity output, the values (1 column → 1-d)."""
        return self._predict(self._input(X, "predict"))

    def _predict(self, X: Array) -> Array:
        out = self._run(X, train=False)
        if self.output == "softmax":
            return np.argmax(out, axis=1)
        return out[:, 0] if out.shape[1] == 1 else out

    def hidden_outputs(self, X: ArrayLike) -> list[Array]:
        """Each hidden activation layer's output (Activation and Maxout layers), in order."""
        h = self._input(X, "hidden_outputs")
        outs = []
        for layer in self.layers:
            h = layer.forward(h, train=False)
            if isinstance(layer, (Activation, Maxout)):
                outs.append(h)
        return outs

    def dead_fraction(self, X: ArrayLike) -> float:
        """The fraction of hidden units that are dead on the rows of X.

        A unit is dead when its activation's derivative is 0 at its pre-activation on every
        row, so no gradient reaches its incoming weights and nothing can revive it (relu
        with z < 0 everywhere).  A maxout unit passes the gradient to its largest piece
        with slope 1, so it is never dead.
        """
        h = self._input(X, "dead_fraction")
        dead = total = 0
        for layer in self.layers:
            if isinstance(layer, Activation):
                dead += int(np.sum(np.all(layer.act.derivative(h) == 0, axis=0)))
                total += h.shape[1]
            h = layer.forward(h, train=False)
            if isinstance(layer, Maxout):
                total += h.shape[1]
        return dead / total if total else 0.0

    def parameters(self) -> list[tuple[Array, Array]]:
        """(parameter, gradient) pairs, input to output."""
        pairs = []
        for layer in self.dense_layers:
            pairs += [(layer.W, layer.grad_W), (layer.b, layer.grad_b)]
        return pairs

    def save(self, path: Any) -> None:
        """Save architecture and weights to ``path`` (.npz); see :func:`actlab.nn.load`."""
        _format.write(self, path)


def can_build(activation: str | actlab.Activation) -> bool:
    """Whether :func:`build_mlp` builds hidden layers of ``activation``: one that keeps its
    input's shape, or maxout (its own layer); not another width-changing one (glu)."""
    act = actlab.get(activation)
    return act.keeps_shape or act.name == Maxout.ACTIVATION


def build_mlp(
    n_in: int,
    hidden: Any,
    n_out: int,
    *,
    activation: str | actlab.Activation,
    output: str = "softmax",
    init: str | None = None,
    seed: int = 0,
    dtype: Any = np.float64,
    pieces: int = 2,
) -> Sequential:
    """A multilayer perceptron: Dense + activation per hidden width, then a Dense output.

    ``hidden`` is a list of widths (``[]`` for none).  ``activation="maxout"`` builds Maxout
    layers of ``pieces`` linear pieces per unit.  The output activation (softmax or
    identity) is fused into the loss.
    """
    if (
        isinstance(hidden, (str, bytes))
        or not isinstance(hidden, Iterable)
        or (isinstance(hidden, np.ndarray) and hidden.ndim != 1)
    ):
        raise ValueError(f"hidden must be a list of layer widths such as [64, 64], got {hidden!r}")
    widths = [positive_int("hidden width", h) for h in hidden]
    pieces = positive_int("pieces", pieces)
    rng = np.random.default_rng(seed_int("seed", seed))
    act = actlab.get(activation)
    if not can_build(act):
        raise ValueError(
            f"build_mlp: {act.name} changes the layer width and has no layer of its "
            "own here; build the layers by hand (a Dense of twice the width, then the function)"
        )
    layers: list[Layer] = []
    width = positive_int("n_in", n_in)
    for h in widths:
        if not act.keeps_shape:
            layers.append(Maxout(width, h, pieces=pieces, init=init, rng=rng, dtype=dtype))
        else:
            layers.append(Dense(width, h, init=init, rng=rng, dtype=dtype, activation=act.name))
            layers.append(Activation(act))
        width = h
    layers.append(
        Dense(
            width, positive_int("n_out", n_out), init="glorot" if init is None else init, rng=rng, dtype=dtype
        )
    )
    return Sequential(layers, output=output)
