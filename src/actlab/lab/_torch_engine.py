"""compare's torch engine: the same network trained as a PyTorch model with actlab.torch's
modules, measured as the NumPy engine measures it.

The torch model starts from the weights :func:`actlab.nn.build_mlp` draws for the same seed
(a Linear per Dense layer, an ``actlab.torch`` module per activation), trains with
``torch.optim.Adam`` on the same shuffled mini-batches, and after each epoch its weights are
copied back into that NumPy model, so that the score, the dead units and the gradient ratio
are computed by the same functions for both engines.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import actlab
from actlab import nn


def _require_torch() -> Any:
    try:
        import torch

        import actlab.torch  # noqa: F401  (registers the operators)
    except ImportError as exc:
        raise ValueError("engine='torch' needs PyTorch: pip install 'actlab[torch]'") from exc
    return torch


def _torch_model(model: nn.Sequential, torch: Any) -> tuple[Any, list[tuple[nn.Dense, Any]]]:
    """A torch.nn.Sequential with ``model``'s weights, and the (Dense, Linear) pairs."""
    import actlab.torch as at

    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    layers, pairs = [], []
    for layer in model.layers:
        if isinstance(layer, nn.Dense):  # Maxout is a Dense of n_out·pieces columns
            linear = torch.nn.Linear(layer.W.shape[0], layer.W.shape[1], dtype=dtype)
            pairs.append((layer, linear))
            layers.append(linear)
        if isinstance(layer, nn.Maxout):
            layers.append(at.Activation("maxout", pieces=layer.pieces))
        elif isinstance(layer, nn.Activation):
            layers.append(at.Activation(layer.act.name, **layer.act.values))
    with torch.no_grad():
        for dense, linear in pairs:
            linear.weight.copy_(torch.from_numpy(dense.W.T.copy()))
            linear.bias.copy_(torch.from_numpy(dense.b.copy()))
    return torch.nn.Sequential(*layers), pairs


def _copy_back(pairs: list[tuple[nn.Dense, Any]]) -> None:
    for dense, linear in pairs:
        dense.W[...] = linear.weight.detach().numpy().T
        dense.b[...] = linear.bias.detach().numpy()


def run_one(
    data: nn.Dataset,
    activation: str,
    *,
    hidden: Sequence[int],
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    target: float,
    grad_batch: int,
    dtype: Any = np.float64,
    on_epoch: Callable[[int], Any] | None = None,
) -> Any:
    """Train and measure one network with torch; a :class:`actlab.lab.compare.RunResult`."""
    torch = _require_torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these networks are small: a second thread only waits
    try:
        return _train(
            torch,
            data,
            activation,
            hidden=hidden,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            target=target,
            grad_batch=grad_batch,
            dtype=dtype,
            on_epoch=on_epoch,
        )
    finally:
        torch.set_num_threads(threads)


def _train(
    torch: Any,
    data: nn.Dataset,
    activation: str,
    *,
    hidden: Sequence[int],
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    target: float,
    grad_batch: int,
    dtype: Any,
    on_epoch: Callable[[int], Any] | None,
) -> Any:
    from .compare import RunResult

    output = "softmax" if data.task == "classification" else "identity"
    model = nn.build_mlp(
        data.n_features,
        list(hidden),
        data.n_outputs,
        activation=activation,
        output=output,
        seed=seed,
        dtype=dtype,
    )
    if not actlab.get(activation).trainable:
        raise nn.ZeroGradientError(f"{activation}'s derivative is 0 everywhere")
    net, pairs = _torch_model(model, torch)
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    classify = output == "softmax"
    loss_fn = torch.nn.CrossEntropyLoss() if classify else torch.nn.MSELoss()
    X = torch.from_numpy(np.ascontiguousarray(data.X_train, dtype=dtype))
    y = (
        torch.from_numpy(np.asarray(data.y_train))
        if classify
        else torch.from_numpy(np.asarray(data.y_train, dtype=dtype).reshape(len(data.y_train), -1))
    )
    rng = np.random.default_rng(seed)
    scores: list[float] = []
    losses: list[float] = []
    times: list[float] = []
    for epoch in range(epochs):
        start = time.perf_counter()
        order = torch.from_numpy(rng.permutation(len(X)))
        total = 0.0
        for i in range(0, len(X), batch_size):
            idx = order[i : i + batch_size]
            optimiser.zero_grad()
            loss = loss_fn(net(X[idx]), y[idx])
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        times.append(time.perf_counter() - start)
        if not math.isfinite(total):
            raise nn.DivergenceError(f"the loss overflowed in epoch {epoch + 1}")
        losses.append(total / len(X))
        _copy_back(pairs)
        scores.append(nn.score(model, data.X_test, data.y_test))
        if on_epoch is not None:
            on_epoch(epoch)
    reached = next((i + 1 for i, s in enumerate(scores) if s >= target), None)
    norms = nn.gradient_norms(
        model, data.X_train[:grad_batch], data.y_train[:grad_batch], nn.loss_for(output)
    )
    ratio = norms[0] / norms[-1] if norms[-1] > 0 else math.inf
    return RunResult(
        seed=seed,
        score=scores[-1],
        final_loss=losses[-1],
        epochs_to_target=reached,
        time_per_epoch=float(np.mean(times)),
        dead_fraction=model.dead_fraction(data.X_test),
        grad_ratio=float(ratio),
        scores=scores,
    )
