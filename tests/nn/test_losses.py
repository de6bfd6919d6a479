"""The cross-entropy's gradient, (softmax(z) - onehot(y))/n, keeps its digits where the
label's probability rounds to 1 (against mpmath at 50 digits)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from actlab import nn


def _exact_gradient(row: list[float], label: int, n: int) -> list[mpmath.mpf]:
    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(v)) for v in row]
        total = mpmath.fsum(e)
        return [(e[j] / total - (1 if j == label else 0)) / n for j in range(len(row))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_gradient_at_a_confident_label(dtype: type) -> None:
    z = np.array([[30.0, 0.0, -30.0], [0.3, -1.2, 0.7], [-5.0, 40.0, 2.0]], dtype=dtype)
    y = np.array([0, 2, 1])
    value, grad = nn.SoftmaxCrossEntropy().value_and_gradient(z, y)
    assert grad.dtype == dtype
    eps = float(np.finfo(dtype).eps)
    for i in range(3):
        exact = _exact_gradient([float(v) for v in z[i]], int(y[i]), 3)
        for j in range(3):
            # relative to the entry itself, not to the row (-3e-14 at the label is not 0), in
            # softmax's bound: e^ℓ carries the rounding of ℓ = z_j - logsumexp, |ℓ| ULP
            spread = abs(float(z[i, j]) - float(z[i].max()))
            assert abs(float(grad[i, j]) - exact[j]) <= (4 + spread) * eps * abs(exact[j]), (i, j)
    assert grad[0, 0] < 0 and grad[2, 1] < 0  # the textbook p - 1 gives 0 there
    assert value == pytest.approx(float(-np.mean([
        np.log(np.exp(z[i, y[i]]) / np.exp(z[i]).sum()) for i in range(3)])), rel=1e-6)
