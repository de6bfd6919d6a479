"""The perceptron learning rule: converges on separable data, never on XOR."""

from __future__ import annotations

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
