"""The training step of :func:`actlab.nn.fit` on buffers allocated once per fit.

A batch of 32 rows through a network of width 64 is a few microseconds of arithmetic per
NumPy call, so what a step costs is the number of calls and the arrays they allocate.  A
:class:`Plan` checks the model, the loss and the data once, allocates every array a step
writes (the batch, each layer's output and input gradient, the loss's scratch space, one
set for the full batch and one for the last short batch) and the gradients as consecutive
pieces of one flat array (what the optimisers update in one call), and then runs each
batch as matrix products with ``out=``, the activations' compiled kernels with ``out=`` and
in-place ufuncs, with no checks inside.

Each value is computed by the same operations, in the same order and dtype, as the layers'
own ``forward`` and ``backward`` and the losses' ``value_and_gradient``, so a fit gives
the same bits either way.  Models with layers of other kinds, and other losses, train
through the layers' own methods (:func:`plan` returns None for them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..activations import get as _get_activation
from .layers import Activation, Dense, Maxout, Sequential
from .losses import MeanSquaredError, SoftmaxCrossEntropy

Array = NDArray[Any]

_F64 = np.dtype(np.float64)


class _DenseStep:
    """z = x W + b; backward: ∂W = xᵀ g, ∂b = Σ_rows g, ∂x = g Wᵀ."""

    def __init__(self, layer: Dense) -> None:
        self.layer = layer
        self.columns = layer.W.shape[1]

    def widths(self) -> list[int]:
        return [self.columns]

    def forward(self, x: Array, bufs: list[Array]) -> Array:
        z = bufs[0]
        np.dot(x, self.layer.W, out=z)
        np.add(z, self.layer.b, out=z)
        return z

    def backward(self, x: Array, bufs: list[Array], g: Array, gx: Array | None) -> None:
        layer = self.layer
        np.dot(x.T, g, out=layer.grad_W)
        np.add.reduce(g, axis=0, out=layer.grad_b)
        if gx is not None:
            np.dot(g, layer.W.T, out=gx)


class _ActivationStep:
    """y = f(z); backward: the activation's own vector-Jacobian product."""

    def __init__(self, layer: Activation, width: int) -> None:
        self.act = layer.act
        self.width = width

    def widths(self) -> list[int]:
        return [self.width]

    def forward(self, z: Array, bufs: list[Array]) -> Array:
        y = bufs[0]
        self.act(z, out=y)
        return y

    def backward(self, z: Array, bufs: list[Array], g: Array, gz: Array | None) -> None:
        if gz is not None:
            self.act.backward(z, g, y=bufs[0], out=gz)


class _MaxoutStep(_DenseStep):
    """z = x W + b, then each group's maximum; backward through the winners, then Dense."""

    def __init__(self, layer: Maxout) -> None:
        super().__init__(layer)
        self.act = layer.act
        self.n_out = layer.n_out

    def widths(self) -> list[int]:
        return [self.n_out, self.columns, self.columns]  # output, z, ∂z

    def forward(self, x: Array, bufs: list[Array]) -> Array:
        z = super().forward(x, bufs[1:])
        self.act(z, out=bufs[0])
        return bufs[0]

    def backward(self, x: Array, bufs: list[Array], g: Array, gx: Array | None) -> None:
        self.act.backward(bufs[1], g, out=bufs[2])
        super().backward(x, bufs[1:], bufs[2], gx)


_Step = _DenseStep | _ActivationStep | _MaxoutStep


class _Buffers:
    """Everything one step of ``rows`` rows writes."""

    def __init__(self, rows: int, plan: Plan) -> None:
        dt = plan.dtype
        self.rows = rows
        self.x = np.empty((rows, plan.n_features), dt)
        self.layer = [[np.empty((rows, w), dt) for w in s.widths()] for s in plan.steps]
        # ∂L/∂(input of layer i), for i ≥ 1 (the first layer's input gradient is not needed)
        hidden = [np.empty((rows, w), dt) for w in plan.widths_in[1:]]
        self.grad_in: list[Array | None] = [None, *hidden]
        self.grad_out = np.empty((rows, plan.n_out), dt)  # ∂L/∂logits
        inputs = [self.x] + [b[0] for b in self.layer]
        self.logits = inputs[-1]
        self.loss = plan.loss_kind(rows, plan, self.logits, self.grad_out)
        self.forward_calls = [(s.forward, x, b) for s, x, b in zip(plan.steps, inputs, self.layer)]
        grad_of_output = [*hidden, self.grad_out]
        # from the output layer down to the first, which writes no input gradient
        self.backward_calls = [
            (s.backward, x, b, g, gx)
            for s, x, b, g, gx in zip(plan.steps, inputs, self.layer, grad_of_output, self.grad_in)
        ][::-1]


_LOG_SOFTMAX = _get_activation("log_softmax")


class _CrossEntropy:
    """SoftmaxCrossEntropy's value and gradient, as ``value_and_gradient`` computes them:
    log_softmax in float64 (rounded to the model's dtype), its label entries, e^{ℓ} with
    expm1(ℓ_y) at the labels, divided by the rows."""

    def __init__(self, rows: int, plan: Plan, logits: Array, grad: Array) -> None:
        c, dt = plan.n_out, plan.dtype
        self.grad = grad
        self.grad_flat = grad.reshape(-1)
        self.logits = logits
        self.rows = rows
        self.y = np.empty(rows, np.intp)
        self.z64 = None if dt == _F64 else np.empty((rows, c), _F64)
        self.z_flat = (logits if self.z64 is None else self.z64).reshape(-1)
        self.shifted = np.empty((rows, c), _F64)
        self.e = np.empty((rows, c), _F64)
        self.e_flat = self.e.reshape(-1)
        self.top = np.empty((rows, 1), _F64)
        self.top_flat = self.top.reshape(-1)
        self.rest = np.empty((rows, 1), _F64)
        self.first_max = np.empty(rows, np.intp)
        self.row_start = np.arange(rows, dtype=np.intp) * c
        self.at = np.empty(rows, np.intp)
        self.lsm = self.shifted if dt == _F64 else np.empty((rows, c), dt)
        self.lsm_flat = self.lsm.reshape(-1)
        self.picked = np.empty(rows, dt)
        self.dtype = dt

    def value_and_gradient(self) -> float:
        """The mean loss of the logits; ∂L/∂logits written to the gradient buffer (the
        labels are in ``self.y``)."""
        z, grad = self.logits, self.grad
        s, at = self.shifted, self.at
        if self.z64 is None:
            # float64 logits: log_softmax itself (its compiled kernel where it has one), as
            # SoftmaxCrossEntropy computes it
            _LOG_SOFTMAX(z, out=s)
        else:
            np.copyto(self.z64, z)
            self._log_softmax64(self.z64)
            np.copyto(self.lsm, s)
        np.add(self.row_start, self.y, out=at)
        picked = self.picked
        np.take(self.lsm_flat, at, out=picked, mode="wrap")
        # np.mean's rounding: the sum in the dtype, divided in float64, rounded to the dtype
        value = -float(self.dtype.type(float(np.add.reduce(picked)) / self.rows))
        np.exp(self.lsm, out=grad)
        np.expm1(picked, out=picked)
        self.grad_flat[at] = picked
        np.divide(grad, self.rows, out=grad)
        return value

    def _log_softmax64(self, z: Array) -> None:
        """log_softmax of float64 z into self.shifted, as the NumPy kernel computes it:
        (z - max) - log1p(Σ e^{z - max} without the first maximal entry's 1), the maximum
        being the entry at the first maximum's index (NaN where a NaN is)."""
        s, e, at = self.shifted, self.e, self.at
        np.argmax(z, axis=1, out=self.first_max)
        np.add(self.row_start, self.first_max, out=at)
        np.take(z.reshape(-1), at, out=self.top_flat, mode="wrap")
        np.subtract(z, self.top, out=s)
        np.exp(s, out=e)
        self.e_flat[at] = 0.0
        np.add.reduce(e, axis=1, keepdims=True, out=self.rest)
        np.log1p(self.rest, out=self.rest)
        np.subtract(s, self.rest, out=s)


class _SquaredError:
    """MeanSquaredError's value and gradient, as ``value_and_gradient`` computes them."""

    def __init__(self, rows: int, plan: Plan, logits: Array, grad: Array) -> None:
        self.logits, self.grad = logits, grad
        self.y = np.empty((rows, plan.n_out), plan.dtype)
        self.square = np.empty((rows, plan.n_out), plan.dtype)
        self.dtype = plan.dtype

    def value_and_gradient(self) -> float:
        """The mean loss of the logits; ∂L/∂logits written to the gradient buffer."""
        z, grad = self.logits, self.grad
        with np.errstate(over="ignore"):  # an infinite loss is reported as such: divergence
            np.subtract(z, self.y, out=grad)
            np.multiply(grad, grad, out=self.square)
            value = float(self.dtype.type(float(np.add.reduce(self.square, axis=None)) / grad.size))
            np.multiply(grad, 2 / grad.size, out=grad)
        return value


class Plan:
    """One fit's training step: :meth:`forward` a batch to its loss, then :meth:`backward`
    to the layers' ``grad_W`` and ``grad_b``, which the plan has made consecutive pieces of
    one flat array (so that the optimiser reads them in place)."""

    def __init__(self, model: Sequential, loss: Any, X: Array, y: Array, batch_size: int) -> None:
        self.model = model
        self.dtype = model.dtype
        self.X = X
        self.n_features = X.shape[1]
        self.steps: list[_Step] = []
        self.widths_in: list[int] = []
        width = self.n_features
        for layer in model.layers:
            self.widths_in.append(width)
            if type(layer) is Maxout:
                step: _Step = _MaxoutStep(layer)
            elif type(layer) is Dense:
                step = _DenseStep(layer)
            else:
                assert type(layer) is Activation
                step = _ActivationStep(layer, width)
            self.steps.append(step)
            width = step.widths()[0]
        self.n_out = width
        self.loss_object = loss
        if type(loss) is SoftmaxCrossEntropy:
            self.loss_kind: Any = _CrossEntropy
            self.y = y.astype(np.intp, copy=False)
        else:
            self.loss_kind = _SquaredError
            self.y = y.reshape(y.shape[0], -1).astype(self.dtype, copy=False)
        n = X.shape[0]
        self.buffers = {rows: _Buffers(rows, self) for rows in {min(batch_size, n), n % batch_size} if rows}
        self._grads_flat(model)
        self.current: _Buffers | None = None

    def _grads_flat(self, model: Sequential) -> None:
        """Each Dense layer's grad_W and grad_b as consecutive pieces of one array,
        in the order of ``model.parameters()``."""
        dense = model.dense_layers
        total = sum(layer.W.size + layer.b.size for layer in dense)
        flat = np.zeros(total, self.dtype)
        at = 0
        for layer in dense:
            for name, param in (("grad_W", layer.W), ("grad_b", layer.b)):
                setattr(layer, name, flat[at : at + param.size].reshape(param.shape))
                at += param.size

    def forward(self, idx: Array) -> float:
        """The mean loss of the rows ``idx`` (the step's gradient is then ready for
        :meth:`backward`)."""
        bufs = self.current = self.buffers[idx.shape[0]]
        np.take(self.X, idx, axis=0, out=bufs.x, mode="wrap")  # idx is valid: no buffered check
        np.take(self.y, idx, axis=0, out=bufs.loss.y, mode="wrap")
        for forward, x, out in bufs.forward_calls:
            forward(x, out)
        try:
            return bufs.loss.value_and_gradient()
        except FloatingPointError:
            # an overflow or an infinite logit: the loss's own path, with its own limits
            value, grad = self.loss_object.value_and_gradient(bufs.logits, bufs.loss.y)
            np.copyto(bufs.grad_out, grad)
            return value

    def backward(self) -> None:
        """∂L/∂W and ∂L/∂b of every layer for the batch of the last :meth:`forward`."""
        assert self.current is not None
        for backward, x, bufs, g, gx in self.current.backward_calls:
            backward(x, bufs, g, gx)


def plan(model: Sequential, loss: Any, X: Array, y: Array, batch_size: int) -> Plan | None:
    """A :class:`Plan` for training ``model`` on checked ``X``, ``y``, or None when a layer
    or the loss is of a kind it does not know (those train through their own methods), or
    regression targets do not have the output's shape (the loss then says so)."""
    if not all(type(layer) in (Dense, Activation, Maxout) for layer in model.layers):
        return None
    if type(loss) not in (SoftmaxCrossEntropy, MeanSquaredError):
        return None
    if any(type(layer) is Activation and not layer.act.keeps_shape for layer in model.layers):
        return None
    n_out = model.dense_layers[-1].n_out if model.dense_layers else None
    if type(model.layers[-1]) is not Dense or n_out is None:
        return None
    if type(loss) is MeanSquaredError:
        ok = (y.ndim == 1 and n_out == 1) or (y.ndim == 2 and y.shape[1] == n_out)
        if not ok:
            return None
    return Plan(model, loss, X, y, batch_size)
