"""Training mechanics: reproducibility, dtypes, early stopping, the step network, init."""

from __future__ import annotations

import math
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


# --- argument checks and numerical edge cases (review of the public API) ---------------------


@pytest.fixture
def small() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 4)), rng.integers(0, 3, 20)


def test_score_checks_y(small: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = small
    model = nn.build_mlp(4, [5], 3, activation="tanh", seed=0)
    assert nn.score(model, X, y) == np.mean(np.argmax(model.forward(X), axis=1) == y)
    # (n, 1) labels used to broadcast against (n,) predictions into an n×n comparison
    with pytest.raises(ValueError, match=re.escape("score: y must be 1-d class labels, got shape (20, 1)")):
        nn.score(model, X, y[:, None])
    with pytest.raises(ValueError, match="score: X has 20 rows but y has 5"):
        nn.score(model, X, y[:5])
    with pytest.raises(ValueError, match="score: y must be whole-number class labels, got dtype <U"):
        nn.score(model, X, y.astype(str))
    reg = nn.build_mlp(4, [5], 1, activation="tanh", output="identity", seed=0)
    t = np.random.default_rng(1).normal(size=20)
    with pytest.raises(ValueError, match="score: X has 20 rows but y has 5"):
        nn.score(reg, X, t[:5])
    with pytest.raises(ValueError, match=re.escape("score: y has shape (20, 2), expected (20,)")):
        nn.score(reg, X, np.ones((20, 2)))
    assert nn.score(reg, X, t[:, None]) == nn.score(reg, X, t)


def test_cross_entropy_minus_inf_logit() -> None:
    # logits [0, -inf, 1], label 0: softmax = [1, 0, e]/(1+e), so L = log(1+e) and
    # ∂L/∂z = softmax - onehot = [1/(1+e) - 1, 0, e/(1+e)].
    z = np.array([[0.0, -np.inf, 1.0]])
    loss = nn.SoftmaxCrossEntropy()
    e = math.e
    assert loss.value(z, [0]) == pytest.approx(math.log(1 + e), rel=1e-15)
    value, grad = loss.value_and_gradient(z, [0])
    assert value == pytest.approx(math.log(1 + e), rel=1e-15)
    np.testing.assert_allclose(grad, [[1 / (1 + e) - 1, 0.0, e / (1 + e)]], rtol=1e-14)
    assert np.isfinite(grad).all()


def test_cross_entropy_checks_labels() -> None:
    loss = nn.SoftmaxCrossEntropy()
    z = np.zeros((2, 3))
    for y, match in (([np.nan, 0.0], "y must be whole-number class labels, got nan"),
                     ([0.5, 0.0], "y must be whole-number class labels, got 0.5"),
                     ([0, 3], "labels must be in [0, 3), got 0..3"),
                     ([-1, 0], "labels must be in [0, 3), got -1..0"),
                     ([0], "y has 1 labels, expected 2")):
        with pytest.raises(ValueError, match=re.escape(f"SoftmaxCrossEntropy: {match}")):
            loss.value(z, np.array(y))
        with pytest.raises(ValueError, match=re.escape(match)):
            loss.value_and_gradient(z, np.array(y))
    # whole numbers in a float array are labels: L = log 3 for equal logits
    assert loss.value(z, np.array([2.0, 0.0])) == pytest.approx(math.log(3), rel=1e-15)
    with pytest.raises(ValueError, match="SoftmaxCrossEntropy: logits has no rows"):
        loss.value(np.zeros((0, 3)), np.array([], int))
    with pytest.raises(ValueError, match="MeanSquaredError: logits has no rows"):
        nn.MeanSquaredError().value(np.zeros((0, 1)), np.zeros(0))


def test_fit_with_no_training_rows(small: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = small
    model = nn.build_mlp(4, [5], 3, activation="tanh", seed=0)
    kw = dict(loss=nn.SoftmaxCrossEntropy(), optimizer=nn.SGD(), epochs=1)
    with pytest.raises(ValueError, match="fit: X has no rows"):
        nn.fit(model, X[:0], y[:0], **kw)
    with pytest.raises(ValueError, match=r"validation=0.5 leaves no training rows \(X has 1\)"):
        nn.fit(model, X[:1], y[:1], validation=0.5, **kw)
    with pytest.raises(ValueError, match="validation: X has no rows"):
        nn.fit(model, X, y, validation=(X[:0], y[:0]), **kw)


def test_fit_argument_checks(small: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = small
    model = nn.build_mlp(4, [5], 3, activation="tanh", seed=0)
    loss, opt = nn.SoftmaxCrossEntropy(), nn.SGD()
    kw = dict(loss=loss, optimizer=opt, epochs=1)
    cases = [
        (dict(y=5), ValueError, "fit: X has 20 rows but y has shape ()"),
        (dict(X=X + 1j), ValueError, "fit: X must hold real numbers, got dtype complex128"),
        (dict(X=X.astype(str)), ValueError, "fit: X must hold real numbers, got dtype <U"),
        (dict(validation=0), ValueError, "validation must be a fraction in (0, 1), got 0"),
        (dict(validation=(X,)), ValueError, "or a pair (X_val, y_val), got a tuple of length 1"),
        (dict(validation=0.2, early_stopping=True), ValueError, "early_stopping must be a positive integer, got True"),
        (dict(seed=-1), ValueError, "seed must be an integer from 0 to 4294967295, got -1"),
        (dict(loss=None), TypeError, "fit: loss must be a loss object"),
        (dict(optimizer=None), TypeError, "fit: optimizer must be an optimizer"),
    ]
    for change, exc, match in cases:
        args = {"X": X, "y": y, **kw, **change}
        with pytest.raises(exc, match=re.escape(match)):
            nn.fit(model, args.pop("X"), args.pop("y"), **args)
    # NumPy integers are accepted wherever Python ints are
    hist = nn.fit(model, X, y, validation=0.2, early_stopping=np.int64(2), seed=np.int64(1), **kw)
    assert hist.epochs == 1


def test_inference_refuses_non_finite_X(small: tuple[np.ndarray, np.ndarray]) -> None:
    # fit refuses NaN/inf in X; so do forward, predict, predict_proba and score (they used to
    # warn "invalid value encountered in matmul").
    X, y = small
    model = nn.build_mlp(4, [5, 5], 3, activation="relu", seed=0)
    bad = np.array([[np.inf, 0, 0, 0], [0, 0, 0, 0]])
    for name, call in (("forward", lambda A: model.forward(A)), ("predict", model.predict),
                       ("predict_proba", model.predict_proba), ("score", lambda A: nn.score(model, A, [0, 1])),
                       ("hidden_outputs", model.hidden_outputs)):
        with pytest.raises(ValueError, match=f"{name}: X contains NaN or infinity"):
            call(bad)
        with pytest.raises(ValueError, match=f"{name}: X contains NaN or infinity"):
            call(bad * np.nan)
    with pytest.raises(ValueError, match="predict: X must hold real numbers, got dtype complex128"):
        model.predict(X + 1j)


def test_diverging_training_raises(small: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = small
    model = nn.build_mlp(4, [5], 3, activation="relu", seed=0)
    with pytest.raises(nn.DivergenceError, match=r"diverged in epoch \d+.*smaller learning rate than lr=1000000.0"):
        nn.fit(model, X, y, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.SGD(lr=1e6), epochs=60)
    assert issubclass(nn.DivergenceError, ValueError) and issubclass(nn.DivergenceError, FloatingPointError)
    reg = nn.build_mlp(4, [5], 1, activation="relu", output="identity", seed=0)
    t = np.random.default_rng(0).normal(size=20) * 1e300  # (z - t)² overflows
    with pytest.raises(nn.DivergenceError, match="diverged in epoch 1"):
        nn.fit(reg, X, t, loss=nn.MeanSquaredError(), optimizer=nn.SGD(), epochs=1)
    # the loss itself: inf (the true value is beyond the largest double), no warning
    assert nn.MeanSquaredError().value(np.zeros((1, 1)), [1e300]) == math.inf


def test_layer_api_shapes(small: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = small
    model = nn.build_mlp(4, [5], 3, activation="tanh", seed=0)
    model.forward(X)
    with pytest.raises(ValueError, match=re.escape("Dense: gradient has shape (20, 2), expected (20, 3)")):
        model.backward(np.ones((20, 2)))
    dense = nn.Dense(2, 3, rng=0)
    np.testing.assert_array_equal(dense.forward([[1.0, 2.0]]), np.array([[1.0, 2.0]]) @ dense.W + dense.b)
    with pytest.raises(ValueError, match=r"layers\[1\] Dense\(4, 3.*takes 4 inputs, but the layers before it output 3"):
        nn.Sequential([nn.Dense(2, 3), nn.Dense(4, 3)])
    with pytest.raises(ValueError, match=r"layers\[2\] Dense\(6, 3.*output 5"):
        nn.Sequential([nn.Dense(4, 5), nn.Activation("tanh"), nn.Dense(6, 3)])
    with pytest.raises(TypeError, match=r"layers\[0\] must be a Layer .* got 1"):
        nn.Sequential([1, 2])  # type: ignore[list-item]
    nn.Sequential([nn.Maxout(4, 5, pieces=3), nn.Dense(5, 3)])  # Maxout outputs n_out, not n_out·k


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nn.SGD(lr="0.1"), "lr must be a finite number > 0, got '0.1'"),
        (lambda: nn.SGD(lr=None), "lr must be a finite number > 0, got None"),
        (lambda: nn.SGD(lr=True), "lr must be a finite number > 0, got True"),
        (lambda: nn.SGD(momentum="0.9"), "momentum must be a number in [0, 1), got '0.9'"),
        (lambda: nn.Adam(lr=np.array([0.1, 0.2])), "lr must be a finite number > 0, got array("),
        (lambda: nn.Adam(beta2=None), "beta2 must be a number in [0, 1), got None"),
    ],
)
def test_optimizer_checks(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=re.escape(match)):
        call()  # type: ignore[operator]


def test_optimizer_accepts_numpy_numbers() -> None:
    assert nn.SGD(lr=np.float32(0.5), momentum=np.float64(0.25)).lr == 0.5
    assert nn.Adam(lr=1).lr == 1.0


def test_default_init_from_activation_object() -> None:
    assert nn.default_init(actlab.get("selu")) == nn.default_init("selu") == "lecun"
    assert nn.default_init(actlab.get("leaky_relu", slope=0.2)) == "he"
    assert nn.default_init(actlab.get("tanh")) == "glorot"
    assert nn.Dense(2, 3, activation=actlab.get("relu")).init == "he"
    assert nn.Dense(2, 3, activation="relu").init == "he"
    with pytest.raises(TypeError, match="activation must be a name, an actlab.Activation or None, got 3"):
        nn.default_init(3)


def test_small_api_slips() -> None:
    assert type(nn.loss_for("softmax")) is nn.SoftmaxCrossEntropy
    assert type(nn.loss_for("identity")) is nn.MeanSquaredError
    with pytest.raises(ValueError, match="output must be one of 'softmax', 'identity', got 'bogus'"):
        nn.loss_for("bogus")
    # the 1-d logits are at fault, not y
    with pytest.raises(ValueError, match=re.escape("MeanSquaredError: logits must be 2-d (samples, outputs), got shape (3,)")):
        nn.MeanSquaredError().value(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=re.escape("MeanSquaredError: y has shape (3, 2), expected (3,) or (3, 1)")):
        nn.MeanSquaredError().value(np.zeros((3, 1)), np.zeros((3, 2)))
    for hidden in (5, None, "64"):
        with pytest.raises(ValueError, match=f"hidden must be a list of layer widths .* got {re.escape(repr(hidden))}"):
            nn.build_mlp(2, hidden, 3, activation="relu")
    assert len(nn.build_mlp(2, (w for w in [3, 4]), 3, activation="relu").dense_layers) == 3
    with pytest.raises(ValueError, match="pieces must be a positive integer, got 0"):
        nn.build_mlp(2, [3], 3, activation="relu", pieces=0)
    with pytest.raises(ValueError, match="seed must be an integer from 0 to 4294967295, got -1"):
        nn.build_mlp(2, [3], 3, activation="relu", seed=-1)
    with pytest.raises(ValueError, match="test_size must be a fraction in \\(0, 1\\), got '0.2'"):
        nn.datasets.load("iris", test_size="0.2")  # type: ignore[arg-type]
