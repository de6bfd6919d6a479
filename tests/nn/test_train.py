"""Training mechanics: reproducibility, dtypes, early stopping, the step network, init."""

from __future__ import annotations

import re

import numpy as np
import pytest

import actlab
from actlab import nn


@pytest.fixture(scope="module")
def moons() -> nn.Dataset:
    return nn.datasets.load("moons", seed=0)


def _train(data: nn.Dataset, *, seed: int, dtype: type = np.float64, epochs: int = 5,
           opt: str = "adam") -> tuple[nn.Sequential, nn.History]:
    model = nn.build_mlp(2, [16, 16], 2, activation="relu", seed=seed, dtype=dtype)
    optimizer = nn.Adam(lr=0.01) if opt == "adam" else nn.SGD(lr=0.05, momentum=0.9)
    hist = nn.fit(model, data.X_train, data.y_train, loss=nn.SoftmaxCrossEntropy(), optimizer=optimizer,
                  epochs=epochs, batch_size=16, seed=seed)
    return model, hist


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", ["adam", "sgd"])
def test_same_seed_bit_for_bit(moons: nn.Dataset, dtype: type, opt: str) -> None:
    a, ha = _train(moons, seed=3, dtype=dtype, opt=opt)
    b, hb = _train(moons, seed=3, dtype=dtype, opt=opt)
    for la, lb in zip(a.dense_layers, b.dense_layers):
        assert la.W.tobytes() == lb.W.tobytes() and la.b.tobytes() == lb.b.tobytes()
    assert ha.loss == hb.loss
    c, _ = _train(moons, seed=4, dtype=dtype, opt=opt)
    assert not np.array_equal(a.dense_layers[0].W, c.dense_layers[0].W)


def test_float32_stays_float32(moons: nn.Dataset) -> None:
    model, _ = _train(moons, seed=0, dtype=np.float32)
    for layer in model.dense_layers:
        assert layer.W.dtype == layer.b.dtype == layer.grad_W.dtype == np.float32
    X = moons.X_test  # float64 input is cast to the model's dtype
    assert model.forward(X).dtype == np.float32
    assert model.predict_proba(X).dtype == np.float32
    assert all(h.dtype == np.float32 for h in model.hidden_outputs(X))
    loss = nn.SoftmaxCrossEntropy()
    assert loss.gradient(model.forward(X), moons.y_test).dtype == np.float32


def test_learns_moons(moons: nn.Dataset) -> None:
    model, hist = _train(moons, seed=0, epochs=30)
    assert hist.loss[-1] < hist.loss[0]
    assert nn.score(model, moons.X_test, moons.y_test) > 0.9


def test_early_stopping_restores_best(moons: nn.Dataset) -> None:
    model = nn.build_mlp(2, [32], 2, activation="tanh", seed=0)
    hist = nn.fit(model, moons.X_train, moons.y_train, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam(lr=0.05),
                  epochs=200, batch_size=16, validation=0.25, early_stopping=3, seed=0)
    assert hist.stopped_early and hist.epochs < 200
    assert hist.best_epoch == int(np.argmin(hist.val_loss)) + 1
    assert len(hist.val_accuracy) == len(hist.val_loss) == len(hist.loss) == len(hist.epoch_time)


def test_callback_each_epoch(moons: nn.Dataset) -> None:
    seen: list[int] = []
    model = nn.build_mlp(2, [4], 2, activation="sigmoid")
    nn.fit(model, moons.X_train, moons.y_train, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam(), epochs=3,
           callback=lambda e, m: seen.append(e))
    assert seen == [1, 2, 3]


def test_step_network_says_gradient_is_zero(moons: nn.Dataset) -> None:
    model = nn.build_mlp(2, [8], 2, activation="step")
    with pytest.raises(nn.ZeroGradientError, match="step.*derivative is 0.*Perceptron"):
        nn.fit(model, moons.X_train, moons.y_train, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.SGD(), epochs=1)
    logits = model.forward(moons.X_train[:4])
    with pytest.raises(nn.ZeroGradientError, match="step"):
        model.backward(nn.SoftmaxCrossEntropy().gradient(logits, moons.y_train[:4]))
    with pytest.raises(nn.ZeroGradientError, match="step"):
        nn.gradcheck(model, moons.X_train[:4], moons.y_train[:4])


def test_regression_diabetes() -> None:
    data = nn.datasets.load("diabetes")
    assert data.task == "regression"
    model = nn.build_mlp(data.n_features, [16], 1, activation="tanh", output="identity")
    nn.fit(model, data.X_train, data.y_train, loss=nn.MeanSquaredError(), optimizer=nn.Adam(lr=0.01), epochs=20)
    assert nn.score(model, data.X_test, data.y_test) > 0.3


def test_default_init() -> None:
    assert nn.default_init("selu") == nn.default_init("maxout") == "lecun"
    for name in ("relu", "leaky_relu"):
        assert nn.default_init(name) == "he"
    for name in ("sigmoid", "tanh", "arctan", "identity"):
        assert nn.default_init(name) == "glorot"
    model = nn.build_mlp(4, [3, 3], 2, activation="selu")
    assert [d.init for d in model.dense_layers] == ["lecun", "lecun", "glorot"]


@pytest.mark.parametrize("activation", ["relu", "maxout", "selu"])
def test_default_init_keeps_second_moment_through_depth(activation: str) -> None:
    # 20 hidden layers at the default init: E[h²] neither explodes nor collapses
    # (He for relu, LeCun for maxout and selu). He weights before maxout double it per layer.
    model = nn.build_mlp(256, [256] * 20, 2, activation=activation, seed=0)
    X = np.random.default_rng(1).standard_normal((512, 256))
    first, last = (np.mean(h**2) for h in model.hidden_outputs(X)[:: 19])
    assert 0.25 < last / first < 4


def test_he_variance() -> None:
    W = nn.init_weights(500, 400, init="he", rng=np.random.default_rng(0))
    assert abs(W.var() - 2 / 500) < 0.05 * 2 / 500


def test_gradient_norms_one_per_dense(moons: nn.Dataset) -> None:
    model = nn.build_mlp(2, [8, 8, 8], 2, activation="sigmoid")
    norms = nn.gradient_norms(model, moons.X_train[:64], moons.y_train[:64], nn.SoftmaxCrossEntropy())
    assert len(norms) == 4 and all(n > 0 for n in norms)


@pytest.mark.parametrize("name", ["digits", "iris", "breast_cancer", "diabetes", "moons", "spirals", "xor"])
def test_datasets(name: str) -> None:
    d = nn.datasets.load(name)
    assert d.X_train.shape[1] == d.X_test.shape[1]
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-9)
    assert np.isfinite(d.X_test).all()
    assert (d.task == "regression") == (name == "diabetes")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nn.datasets.load("mnist"), "mnist"),
        (lambda: nn.Dense(0, 3), "n_in"),
        (lambda: nn.Dense(3, 3, init="xavier"), "xavier"),
        (lambda: nn.Dense(3, 3, dtype=np.int32), "int32"),
        (lambda: nn.Activation("relux"), "relux"),
        (lambda: nn.Activation("maxout"), "Maxout"),
        (lambda: nn.Adam(lr=-1), "-1"),
        (lambda: nn.SGD(momentum=1.5), "1.5"),
        (lambda: nn.build_mlp(2, [0], 2, activation="relu"), "hidden width"),
        (lambda: nn.Dense(3, 3, rng="x"), "rng must be .* got 'x'"),
        (lambda: nn.Dense(3, 3, rng=-1), "rng must be .* got -1"),
    ],
)
def test_bad_values(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_fit_bad_values(moons: nn.Dataset) -> None:
    model = nn.build_mlp(2, [4], 2, activation="relu")
    kw = dict(loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam())
    with pytest.raises(ValueError, match="epochs"):
        nn.fit(model, moons.X_train, moons.y_train, epochs=0, **kw)
    with pytest.raises(ValueError, match="batch_size"):
        nn.fit(model, moons.X_train, moons.y_train, epochs=1, batch_size=0, **kw)
    with pytest.raises(ValueError, match="rows"):
        nn.fit(model, moons.X_train, moons.y_train[:5], epochs=1, **kw)
    with pytest.raises(ValueError, match="labels"):
        nn.fit(model, moons.X_train, moons.y_train + 5, epochs=1, **kw)
    # labels that are not class indices are refused, not truncated or cast
    for y, match in ((moons.y_train + 0.5, "whole-number class labels, got 0.5"),
                     (np.where(moons.y_train == 1, np.nan, 0.0), "whole-number class labels, got nan"),
                     (moons.y_train.astype(str), "whole-number class labels, got dtype <U"),
                     (np.eye(2)[moons.y_train], "1-d class labels, got shape")):
        with pytest.raises(ValueError, match=re.escape(match)):
            nn.fit(model, moons.X_train, y, epochs=1, **kw)
    # whole numbers in a float array are labels like any other
    nn.fit(model, moons.X_train, moons.y_train.astype(np.float64), epochs=1, **kw)
    with pytest.raises(ValueError, match="validation"):
        nn.fit(model, moons.X_train, moons.y_train, epochs=1, early_stopping=2, **kw)


def test_fit_regression_targets_must_be_finite() -> None:
    model = nn.build_mlp(3, [4], 1, activation="tanh", output="identity")
    X = np.ones((10, 3))
    kw = dict(loss=nn.MeanSquaredError(), optimizer=nn.Adam(), epochs=1)
    with pytest.raises(ValueError, match="fit: y contains NaN or infinity"):
        nn.fit(model, X, np.r_[np.ones(9), np.inf], **kw)
    with pytest.raises(ValueError, match="y must be real numbers"):
        nn.fit(model, X, np.array(["a"] * 10), **kw)


def test_activation_layer_uses_registered_objects() -> None:
    layer = nn.Activation(actlab.get("leaky_relu", slope=0.5))
    x = np.array([[-2.0, 3.0]])
    np.testing.assert_array_equal(layer.forward(x), [[-1.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(np.ones((1, 2))), [[0.5, 1.0]])
