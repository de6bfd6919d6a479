"""The perceptron learning rule: converges on separable data, never on XOR."""

from __future__ import annotations

import re

import numpy as np
import pytest

from actlab import nn


def test_converges_on_separable() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    w = np.array([1.0, -2.0, 0.5])
    keep = np.abs(X @ w + 0.3) > 0.1  # a margin
    X = X[keep]
    y = (X @ w + 0.3 > 0).astype(int)
    p = nn.Perceptron(3).fit(X, y, epochs=200)
    assert p.converged and p.errors[-1] == 0
    np.testing.assert_array_equal(p.predict(X), y)


def test_and_gate() -> None:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    p = nn.Perceptron(2).fit(X, [0, 0, 0, 1], epochs=50)
    assert p.converged
    np.testing.assert_array_equal(p.predict(X), [0, 0, 0, 1])


def test_never_converges_on_xor() -> None:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    p = nn.Perceptron(2).fit(X, [0, 1, 1, 0], epochs=500)
    assert not p.converged
    assert min(p.errors) >= 1
    assert np.mean(p.predict(X) == [0, 1, 1, 0]) <= 0.75


def test_several_units() -> None:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0, 0], [0, 1], [0, 1], [1, 1]])  # AND, OR
    p = nn.Perceptron(2, 2).fit(X, Y, epochs=50)
    assert p.converged
    np.testing.assert_array_equal(p.predict(X), Y)


def test_bad_targets() -> None:
    with pytest.raises(ValueError, match="0 or 1"):
        nn.Perceptron(2).fit(np.zeros((2, 2)), [0, 2])
    with pytest.raises(ValueError, match="n_in"):
        nn.Perceptron(0)


@pytest.fixture
def separable() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(10, 2))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr="1"), "lr must be a finite number > 0, got '1'"),
        (dict(lr=None), "lr must be a finite number > 0, got None"),
        (dict(dtype=int), "dtype int64 is not supported"),
        (dict(dtype="foo"), "dtype 'foo' is not supported"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=re.escape(match)):
        nn.Perceptron(2, **kwargs)  # type: ignore[arg-type]


def test_fit_checks(separable: tuple[np.ndarray, np.ndarray]) -> None:
    X, t = separable
    p = nn.Perceptron(2)
    for epochs in (-1, 0, 1.5):
        with pytest.raises(ValueError, match=f"epochs must be a positive integer, got {epochs}"):
            p.fit(X, t, epochs=epochs)  # type: ignore[arg-type]
    for bad in (X * np.nan, X * np.inf):
        with pytest.raises(ValueError, match="Perceptron.fit: X contains NaN or infinity"):
            p.fit(bad, t)
    with pytest.raises(ValueError, match="seed must be an integer from 0 to 4294967295, got -1"):
        p.fit(X, t, seed=-1)
    assert not p.W.any()  # nothing was learned from refused input


def test_predict_checks(separable: tuple[np.ndarray, np.ndarray]) -> None:
    X, t = separable
    p = nn.Perceptron(2).fit(X, t)
    with pytest.raises(ValueError, match=re.escape("Perceptron.predict: X has shape (3, 5), expected (n, 2)")):
        p.predict(np.ones((3, 5)))
    with pytest.raises(ValueError, match=re.escape("Perceptron.predict: X must be 2-d (samples, features), got shape (2,)")):
        p.predict(np.ones(2))
    with pytest.raises(ValueError, match="Perceptron.predict: X contains NaN or infinity"):
        p.predict(np.array([[np.inf, -np.inf]]))
    np.testing.assert_array_equal(p.predict(X), (X @ p.W + p.b > 0)[:, 0])
