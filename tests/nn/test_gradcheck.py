"""Backprop agrees with central differences (float64) for every activation and both losses."""

from __future__ import annotations

import re

import numpy as np
import pytest

import actlab
from actlab import nn

TRAINABLE = [n for n in actlab.names() if actlab.get(n).trainable and nn.can_build(n)]


@pytest.fixture
def batch() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.standard_normal((6, 4)), rng.integers(0, 3, 6), rng.standard_normal(6)


@pytest.mark.parametrize("name", TRAINABLE)
def test_cross_entropy(name: str, batch: tuple[np.ndarray, ...]) -> None:
    X, y, _ = batch
    model = nn.build_mlp(4, [5, 5], 3, activation=name, seed=3)
    assert nn.gradcheck(model, X, y, nn.SoftmaxCrossEntropy()) < 1e-6


@pytest.mark.parametrize("name", TRAINABLE)
def test_mean_squared_error(name: str, batch: tuple[np.ndarray, ...]) -> None:
    X, _, t = batch
    model = nn.build_mlp(4, [5], 1, activation=name, output="identity", seed=4)
    assert nn.gradcheck(model, X, t, nn.MeanSquaredError()) < 1e-6


def test_float32_model_checked_in_float64(batch: tuple[np.ndarray, ...]) -> None:
    X, y, _ = batch
    model = nn.build_mlp(4, [5], 3, activation="tanh", dtype=np.float32)
    assert nn.gradcheck(model, X, y) < 1e-6
    assert model.dense_layers[0].W.dtype == np.float32  # the model itself is untouched


def test_maxout_pieces_3(batch: tuple[np.ndarray, ...]) -> None:
    X, y, _ = batch
    model = nn.Sequential([nn.Maxout(4, 3, pieces=3, rng=1), nn.Dense(3, 3, rng=2)])
    assert nn.gradcheck(model, X, y) < 1e-6


def test_leaky_relu_with_bound_slope(batch: tuple[np.ndarray, ...]) -> None:
    X, y, _ = batch
    model = nn.Sequential([nn.Dense(4, 5, rng=1), nn.Activation("leaky_relu", slope=0.3), nn.Dense(5, 3, rng=2)])
    assert nn.gradcheck(model, X, y) < 1e-6


def test_nan_is_not_reported_as_agreement(batch: tuple[np.ndarray, ...]) -> None:
    # max(0.0, nan) is 0.0: NaN gradients used to come out as a perfect 0.0.
    X, y, _ = batch
    model = nn.build_mlp(4, [5], 3, activation="tanh", seed=0)
    with pytest.raises(ValueError, match="gradcheck: X contains NaN or infinity"):
        nn.gradcheck(model, X * np.nan, y, nn.SoftmaxCrossEntropy())
    model.layers[0].W[0, 0] = np.nan
    with pytest.raises(ValueError, match="weights of dense layer 0 contain NaN"):
        nn.gradcheck(model, X, y)


@pytest.mark.parametrize("h", [float("nan"), 0, -1e-6, float("inf"), "1e-6", None])
def test_h_must_be_a_finite_positive_number(batch: tuple[np.ndarray, ...], h: object) -> None:
    X, y, _ = batch
    model = nn.build_mlp(4, [5], 3, activation="tanh", seed=0)
    with pytest.raises(ValueError, match=r"h must be a finite number > 0, got " + re.escape(repr(h))):
        nn.gradcheck(model, X, y, h=h)  # type: ignore[arg-type]


def test_wrong_batch_or_loss(batch: tuple[np.ndarray, ...]) -> None:
    X, y, t = batch
    model = nn.build_mlp(4, [5], 3, activation="tanh", seed=0)
    with pytest.raises(ValueError, match="gradcheck: X has 6 rows but y has 3"):
        nn.gradcheck(model, X, y[:3])
    with pytest.raises(ValueError, match="does not match the model's 'softmax' output"):
        nn.gradcheck(model, X, t, nn.MeanSquaredError())


def test_still_detects_a_wrong_backward(batch: tuple[np.ndarray, ...]) -> None:
    # A backward pass off by a factor of 2 in one layer: the error stays large, not NaN or 0.
    class Doubled(nn.Activation):
        def backward(self, g: np.ndarray) -> np.ndarray:
            return 2 * super().backward(g)

    X, y, _ = batch
    model = nn.Sequential([nn.Dense(4, 5, rng=1), Doubled("tanh"), nn.Dense(5, 3, rng=2)])
    assert nn.gradcheck(model, X, y) > 0.1
