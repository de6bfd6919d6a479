"""fit's training step on preallocated buffers: the same bits as the layers' own methods,
no arrays allocated per batch, the checks once per fit; the flat optimiser state."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import actlab
from actlab import nn
from actlab.nn import losses as losses_module
from actlab.nn import train as train_module


def _layer_by_layer(model: nn.Sequential, X: np.ndarray, y: np.ndarray, *, loss: Any, optimizer: Any,
                    epochs: int, batch_size: int, seed: int) -> list[float]:
    """fit's loop through the public layer API: forward, the loss, backward, a step."""
    rng = np.random.default_rng(seed)
    Xa = np.asarray(X, dtype=model.dtype)
    pairs = model.parameters()
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(Xa))
        total = 0.0
        for lo in range(0, len(Xa), batch_size):
            idx = order[lo : lo + batch_size]
            value, grad = loss.value_and_gradient(model.forward(Xa[idx]), y[idx])
            total += value * len(idx)
            model.backward(grad)
            optimizer.step(pairs)
        history.append(total / len(Xa))
    return history


CASES = [
    # activation, dtype, optimizer, batch size (none divides 150 rows but 50), output
    ("relu", np.float64, "adam", 32, "softmax"),
    ("sigmoid", np.float32, "adam", 32, "softmax"),
    ("tanh", np.float64, "sgd", 7, "softmax"),
    ("selu", np.float32, "sgd", 50, "softmax"),
    ("maxout", np.float64, "adam", 16, "softmax"),
    ("gelu", np.float64, "adam", 11, "identity"),
    ("softmax", np.float32, "adam", 32, "identity"),
    (actlab.get("leaky_relu", slope=0.2), np.float64, "adam", 200, "softmax"),
]


@pytest.mark.parametrize("activation, dtype, opt, batch_size, output", CASES)
def test_fit_same_bits_as_the_layers_methods(activation: Any, dtype: type, opt: str, batch_size: int,
                                             output: str) -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, 5))
    y = rng.integers(0, 3, size=150) if output == "softmax" else rng.normal(size=(150, 2))
    runs = []
    for fused in (True, False):
        model = nn.build_mlp(5, [8, 6], 3 if output == "softmax" else 2, activation=activation, seed=1,
                             dtype=dtype, output=output)
        optimizer = nn.Adam(lr=0.01) if opt == "adam" else nn.SGD(lr=0.01)
        loss = nn.loss_for(output)
        if fused:
            hist = nn.fit(model, X, y, loss=loss, optimizer=optimizer, epochs=3, batch_size=batch_size, seed=5).loss
        else:
            hist = _layer_by_layer(model, X, y, loss=loss, optimizer=optimizer, epochs=3,
                                   batch_size=batch_size, seed=5)
        runs.append((model, hist))
    (a, ha), (b, hb) = runs
    assert ha == hb
    for la, lb in zip(a.dense_layers, b.dense_layers):
        for name in ("W", "b", "grad_W", "grad_b"):
            x, z = getattr(la, name), getattr(lb, name)
            assert x.dtype == z.dtype == np.dtype(dtype) and x.tobytes() == z.tobytes(), name


def test_fit_hand_built_layers_same_bits() -> None:
    # an activation first (no input gradient needed), Maxout after an activation, and a
    # function along the batch axis (softmax over axis 0 goes to the NumPy kernels)
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(45, 5)), rng.integers(0, 3, size=45)
    runs = []
    for fused in (True, False):
        model = nn.Sequential([nn.Activation("tanh"), nn.Dense(5, 8, rng=0), nn.Activation("relu"),
                               nn.Maxout(8, 4, pieces=3, rng=1), nn.Activation(actlab.get("softmax", axis=0)),
                               nn.Dense(4, 3, rng=2)])
        kw = dict(loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam(lr=0.05), epochs=3, batch_size=10, seed=1)
        hist = nn.fit(model, X, y, **kw).loss if fused else _layer_by_layer(model, X, y, **kw)  # type: ignore[arg-type]
        runs.append((b"".join(p.tobytes() + g.tobytes() for p, g in model.parameters()), hist))
    assert runs[0] == runs[1]


def test_fit_regression_one_output_1d_targets() -> None:
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    runs = []
    for fused in (True, False):
        model = nn.build_mlp(3, [4], 1, activation="tanh", seed=0, output="identity")
        kw = dict(loss=nn.MeanSquaredError(), optimizer=nn.Adam(lr=0.01), epochs=2, batch_size=6, seed=0)
        hist = nn.fit(model, X, y, **kw).loss if fused else _layer_by_layer(model, X, y, **kw)  # type: ignore[arg-type]
        runs.append((model.dense_layers[0].W.copy(), hist))
    assert runs[0][1] == runs[1][1] and runs[0][0].tobytes() == runs[1][0].tobytes()


def test_fit_allocates_no_array_per_batch() -> None:
    # Wide layers: one batch's activations are 32 × 256 doubles (64 KiB); an epoch of 40
    # batches that allocated them would lift the peak by at least that much.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(1280, 64)), rng.integers(0, 10, size=1280)
    model = nn.build_mlp(64, [256, 256], 10, activation="tanh", seed=0)
    peaks: list[int] = []

    def measure(epoch: int, m: nn.Sequential) -> None:
        current, peak = tracemalloc.get_traced_memory()
        if epoch > 1:
            peaks.append(peak - measure.start)  # type: ignore[attr-defined]
        tracemalloc.reset_peak()
        measure.start = tracemalloc.get_traced_memory()[0]  # type: ignore[attr-defined]

    # NumPy's ufuncs take an iterator buffer of up to bufsize elements for a broadcast
    # operand (the bias): shrunk here, so that what is measured is the arrays a step makes
    saved = np.getbufsize()
    np.setbufsize(16)
    tracemalloc.start()
    try:
        nn.fit(model, X, y, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam(), epochs=3, batch_size=32,
               callback=measure)
    finally:
        tracemalloc.stop()
        np.setbufsize(saved)
    assert len(peaks) == 2
    assert max(peaks) < 16 * 1024, peaks


def test_fit_checks_the_labels_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    checked = train_module.class_labels

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("what"))
        return checked(*args, **kwargs)

    monkeypatch.setattr(train_module, "class_labels", counting)
    monkeypatch.setattr(losses_module, "class_labels", counting)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 2, size=100)
    model = nn.build_mlp(3, [4], 2, activation="relu", seed=0)
    nn.fit(model, X, y, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam(), epochs=3, batch_size=10)
    assert calls == ["fit"]  # 30 batches, one check


def test_fit_gradients_are_one_flat_array() -> None:
    model = nn.build_mlp(3, [4, 5], 2, activation="relu", seed=0)
    nn.fit(model, np.ones((8, 3)), np.zeros(8, dtype=int), loss=nn.SoftmaxCrossEntropy(),
           optimizer=nn.Adam(), epochs=1)
    grads = [g for _, g in model.parameters()]
    flat = nn.optim.tiling(grads)
    assert flat is not None and flat.size == sum(g.size for g in grads) == 3 * 4 + 4 + 4 * 5 + 5 + 5 * 2 + 2
    assert nn.optim.tiling(grads[::-1]) is None
    assert nn.optim.tiling([g.copy() for g in grads]) is None


def _adam_textbook(p: np.ndarray, grads: list[np.ndarray], lr: float, b1: float, b2: float,
                   eps: float) -> np.ndarray:
    """Kingma & Ba's Algorithm 1, written as in the paper."""
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("tiled", [True, False])
def test_adam_matches_the_paper(tiled: bool) -> None:
    rng = np.random.default_rng(1)
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    params = [rng.normal(size=s) for s in shapes]
    start = [p.copy() for p in params]
    steps = [[rng.normal(size=s) for s in shapes] for _ in range(5)]
    flat = np.empty(sum(int(np.prod(s)) for s in shapes))
    if tiled:
        grads, at = [], 0
        for s in shapes:
            n = int(np.prod(s))
            grads.append(flat[at : at + n].reshape(s))
            at += n
    else:
        grads = [np.empty(s) for s in shapes]
    opt = nn.Adam(lr=0.1, beta1=0.8, beta2=0.99, eps=1e-3)
    pairs = list(zip(params, grads))
    for gs in steps:
        for dst, src in zip(grads, gs):
            dst[...] = src
        opt.step(pairs)
    for k, p in enumerate(params):
        want = _adam_textbook(start[k], [gs[k] for gs in steps], 0.1, 0.8, 0.99, 1e-3)
        np.testing.assert_allclose(p, want, rtol=1e-12, atol=1e-14)


def test_sgd_matches_the_formula() -> None:
    p = np.array([1.0, -2.0, 3.0])
    g = np.empty(3)
    want, v = p.copy(), np.zeros(3)
    opt = nn.SGD(lr=0.1, momentum=0.5)
    for grad in ([1.0, 2.0, -1.0], [0.5, 0.0, 4.0], [-3.0, 1.0, 1.0]):
        g[...] = grad
        opt.step([(p, g)])
        v = 0.5 * v - 0.1 * np.asarray(grad)
        want = want + v
    np.testing.assert_allclose(p, want, rtol=1e-15)


def test_optimizer_refuses_other_shapes_after_the_first_step() -> None:
    for opt in (nn.Adam(), nn.SGD()):
        opt.step([(np.zeros(3), np.ones(3))])
        opt.step([(np.zeros(3), np.ones(3))])  # new arrays of the same shapes continue the state
        with pytest.raises(ValueError, match=f"{type(opt).__name__}.step: the parameters' shapes or dtypes changed"):
            opt.step([(np.zeros(4), np.ones(4))])


def test_optimizer_mixed_dtypes_step_each_parameter() -> None:
    p32, p64 = np.ones(2, np.float32), np.ones(3)
    opt = nn.Adam(lr=0.5)
    opt.step([(p32, np.ones(2, np.float32)), (p64, np.ones(3))])
    # the first Adam step moves every parameter by lr·sign(g) (to within eps)
    np.testing.assert_allclose(p32, 0.5, rtol=1e-6)
    np.testing.assert_allclose(p64, 0.5, rtol=1e-7)
    assert p32.dtype == np.float32


def test_fit_logits_whose_difference_overflows() -> None:
    # logits [1e308, -1e308]: z - max overflows to -inf, which log_softmax takes as its
    # limit (softmax [1, 0]); with the label at the maximum the loss is 0 and so is every
    # gradient, and training carries on rather than reporting a divergence
    W = np.array([[1e308, -1e308]])
    model = nn.Sequential([nn.Dense.from_arrays(W.copy(), np.zeros(2))])
    hist = nn.fit(model, np.ones((3, 1)), np.zeros(3, dtype=int), loss=nn.SoftmaxCrossEntropy(),
                  optimizer=nn.Adam(), epochs=2, batch_size=2)
    assert hist.loss == [0.0, 0.0]
    assert np.array_equal(model.dense_layers[0].W, W)
    assert not model.dense_layers[0].grad_W.any()
    # the label at -1e308: its log-probability is -inf, the loss infinite: a divergence
    with pytest.raises(nn.DivergenceError, match="diverged in epoch 1 .the batch loss is inf"):
        nn.fit(model, np.ones((3, 1)), np.ones(3, dtype=int), loss=nn.SoftmaxCrossEntropy(),
               optimizer=nn.Adam(), epochs=1)
