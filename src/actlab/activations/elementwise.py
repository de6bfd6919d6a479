"""The elementwise activation functions of the founding document.

Each function is defined once: the forward kernel with its facts in the decorator, its
derivatives right below it.  The values at kinks and limits follow docs/numerics.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._registry import Kink, Param, activation, unit_interval
from ._stable import (
    backward_product,
    exp_neg_abs,
    keep_nan,
    logistic,
    logistic_derivative,
    ones_keeping_nan,
    scaled_exp,
    sech2,
    zeros_keeping_nan,
)

Array = NDArray[Any]

#: SELU's constants (Klambauer et al. 2017), the solution of E[selu(z)] = 0 and
#: E[selu(z)^2] = 1 for z ~ N(0, 1).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_LAMBDA_ALPHA = 1.7580993408473768599402175208123  # λα to 32 digits


# ----------------------------------------------------------------------------- step
@activation(
    "step",
    plain_formula="0 if x < 0 else 1",
    aliases=("perceptron", "heaviside"),
    formula=r"f(x) = \begin{cases} 0 & x < 0 \\ 1 & x \ge 0 \end{cases}",
    derivative_formula=r"f'(x) = 0 \quad (\text{also at } x = 0)",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(0.0, 1.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=0.0,
    kinks=(Kink(0.0, 0.0, "jump from 0 to 1; f(0) = 1, f'(0) taken as 0"),),
    use=("hidden layer",),
    problems=(
        "Its derivative is 0 wherever it exists, so gradient descent gets no signal: "
        "a network of step units cannot be trained by backpropagation.",
        "Trained instead by the perceptron learning rule, which only converges when the "
        "classes are linearly separable.",
    ),
    reference="Rosenblatt, F. (1958). The perceptron. Psychological Review 65(6).",
    summary="The perceptron's threshold unit: fires 1 at or above zero, 0 below.",
    classic=True,
    exact=True,
    fast="step",
)
def step(x: Array) -> Array:
    """Heaviside step: 1 for x >= 0, 0 for x < 0, NaN for NaN.

    >>> import actlab
    >>> actlab.step([-2.0, 0.0, 3.0])
    array([0., 1., 1.])
    """
    return np.heaviside(x, 1.0)


@step.derivative_rule
def _step_derivative(x: Array, y: Array | None) -> Array:
    return zeros_keeping_nan(x)


@step.second_derivative_rule
def _step_second_derivative(x: Array) -> Array:
    return zeros_keeping_nan(x)


# ----------------------------------------------------------------------------- sigmoid
@activation(
    "sigmoid",
    plain_formula="1/(1 + e^-x)",
    aliases=("logistic",),
    formula=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
    derivative_formula=r"\sigma'(x) = \sigma(x)\,\sigma(-x) = \sigma(x)(1 - \sigma(x))",
    second_derivative_formula=r"\sigma''(x) = \sigma'(x)\,(1 - 2\sigma(x))",
    output_range=(0.0, 1.0),
    monotonic=True,
    zero_centered=False,
    max_derivative=0.25,
    use=("hidden layer",),
    problems=(
        "Vanishing gradient: σ' is at most 1/4, so each sigmoid layer shrinks the error "
        "signal by 4× or more on its way back to the input.",
        "Saturation: for |x| beyond a few units σ' is nearly 0 and the unit stops learning.",
        "Outputs are all positive, not centred on 0, which slows gradient descent.",
    ),
    reference="Rumelhart, Hinton & Williams (1986). Learning representations by "
    "back-propagating errors. Nature 323.",
    summary="The logistic curve: squashes any input into (0, 1).",
    classic=True,
    fast="sigmoid",
)
def sigmoid(x: Array) -> Array:
    """σ(x) = 1/(1+e^{-x}), computed as e^x/(1+e^x) for x < 0 so that it never overflows.

    >>> import actlab
    >>> float(actlab.sigmoid(0.0)), float(actlab.sigmoid(-1000.0))
    (0.5, 0.0)
    """
    return logistic(x)


@sigmoid.derivative_rule
def _sigmoid_derivative(x: Array, y: Array | None) -> Array:
    # Computed from x: σ(1-σ) from a saved σ loses every digit once σ rounds to 1.
    return logistic_derivative(x)


@sigmoid.backward_rule
def _sigmoid_backward(x: Array, g: Array, y: Array | None) -> Array:
    # σ'(x) = e^{-|x|} where it is below the smallest normal (the denominator is 1 there)
    a = np.abs(x)
    return backward_product(logistic_derivative(x), g, np.isfinite(x), lambda m: -a[m])


@sigmoid.second_derivative_rule
def _sigmoid_second_derivative(x: Array) -> Array:
    # 1 - 2σ(x) = -tanh(x/2), which keeps its digits where σ is near 1/2 or 1.
    return -logistic_derivative(x) * np.tanh(x * 0.5)


# ----------------------------------------------------------------------------- tanh
@activation(
    "tanh",
    plain_formula="tanh x",
    formula=r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
    derivative_formula=r"\tanh'(x) = 1 - \tanh^2(x) = \operatorname{sech}^2(x)",
    second_derivative_formula=r"\tanh''(x) = -2\tanh(x)\operatorname{sech}^2(x)",
    output_range=(-1.0, 1.0),
    monotonic=True,
    zero_centered=True,
    max_derivative=1.0,
    use=("hidden layer",),
    problems=(
        "Vanishing gradient at the edges: tanh' falls off like 4e^{-2|x|}, so saturated "
        "units pass almost no error back.",
    ),
    reference="LeCun, Bottou, Orr & Müller (1998). Efficient BackProp.",
    summary="A sigmoid rescaled to (-1, 1), centred on 0.",
    classic=True,
    fast="tanh",
)
def tanh(x: Array) -> Array:
    """tanh(x).

    >>> import actlab
    >>> float(actlab.tanh(float("inf")))
    1.0
    """
    return np.tanh(x)


@tanh.derivative_rule
def _tanh_derivative(x: Array, y: Array | None) -> Array:
    return sech2(x)


@tanh.backward_rule
def _tanh_backward(x: Array, g: Array, y: Array | None) -> Array:
    # sech²(x) = 4e^{-2|x|} where it is below the smallest normal
    a = np.abs(x)

    def z(m: Array) -> Array:
        with np.errstate(over="ignore"):  # -inf past max/2: e^-inf = 0, the limit
            return -(a[m] + a[m])

    return backward_product(sech2(x), g, np.isfinite(x), z, 4.0)


@tanh.second_derivative_rule
def _tanh_second_derivative(x: Array) -> Array:
    d = sech2(x, scale=-2.0)
    d *= np.tanh(x)
    return d


# ----------------------------------------------------------------------------- arctan
def _arctan_derivative_parts(x: Array) -> tuple[Array, Array]:
    """(1/(1+x²), x/(1+x²)), without overflowing x² for |x| > 1e154.

    For |x| > 1 both come from r = 1/x: 1/(1+x²) = r/(x + r) and x/(1+x²) = 1/(x + r).
    """
    a = np.abs(x)
    small = a <= 1.0
    s = np.where(small, x, 0.0)  # |s| <= 1: s*s cannot overflow
    big = np.where(small, 2.0, x)  # |big| > 1: 1/big is finite, nonzero unless big is inf
    r = 1.0 / big
    denom_small = s * s + 1.0
    denom_big = big + r
    inv = np.where(small, 1.0 / denom_small, r / denom_big)
    ratio = np.where(small, s / denom_small, 1.0 / denom_big)
    return keep_nan(inv, x), keep_nan(ratio, x)


@activation(
    "arctan",
    plain_formula="atan x",
    aliases=("atan", "inverse_tangent"),
    formula=r"f(x) = \tan^{-1}(x)",
    derivative_formula=r"f'(x) = \frac{1}{1 + x^2}",
    second_derivative_formula=r"f''(x) = \frac{-2x}{(1 + x^2)^2}",
    output_range=(-np.pi / 2, np.pi / 2),
    monotonic=True,
    zero_centered=True,
    max_derivative=1.0,
    use=("hidden layer",),
    problems=(
        "Saturates too, but slowly: f' decays like 1/x² rather than exponentially, so "
        "gradients vanish less abruptly than with sigmoid or tanh.",
    ),
    reference="Glorot & Bengio (2010) compare sigmoid-shaped units; arctan is the softest of them.",
    summary="The inverse tangent: a sigmoid shape with range (-π/2, π/2) and polynomial tails.",
    classic=True,
    fast="arctan",
)
def arctan(x: Array) -> Array:
    """tan⁻¹(x).

    >>> import actlab
    >>> round(float(actlab.arctan(1.0)), 12)
    0.785398163397
    """
    return np.arctan(x)


@arctan.derivative_rule
def _arctan_derivative(x: Array, y: Array | None) -> Array:
    return _arctan_derivative_parts(x)[0]


@arctan.backward_rule
def _arctan_backward(x: Array, g: Array, y: Array | None) -> Array:
    # where 1/(1+x²) = 1/x² is below the smallest normal (|x| > 1.3e154): (g/x)/x
    d = _arctan_derivative_parts(x)[0]
    result = d * g
    redo = np.isfinite(x) & (d < np.finfo(d.dtype).smallest_normal)
    if redo.any():
        xt = x[redo]
        result[redo] = (g[redo] / xt) / xt
    return result


@arctan.second_derivative_rule
def _arctan_second_derivative(x: Array) -> Array:
    inv, ratio = _arctan_derivative_parts(x)
    ratio *= inv
    ratio *= -2.0
    return ratio


# ----------------------------------------------------------------------------- relu
@activation(
    "relu",
    plain_formula="max(x, 0)",
    formula=r"f(x) = \max(x, 0)",
    derivative_formula=r"f'(x) = \begin{cases} 0 & x < 0 \\ 1 & x \ge 0 \end{cases}",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(0.0, np.inf),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    kinks=(Kink(0.0, 1.0, "the founding document's choice; PyTorch and JAX use relu'(0) = 0"),),
    use=("hidden layer",),
    problems=(
        "Dying ReLU: a unit whose input stays negative outputs 0 with derivative 0 and "
        "never recovers, a risk at large learning rates.",
        "Outputs are not centred on 0 and are unbounded above.",
    ),
    reference="Nair & Hinton (2010). Rectified linear units improve restricted Boltzmann machines. ICML.",
    summary="The rectified linear unit: passes positive input, zeroes the rest.",
    init="he",
    classic=True,
    exact=True,
    fast="relu",
)
def relu(x: Array) -> Array:
    """max(x, 0); NaN stays NaN.

    >>> import actlab
    >>> actlab.relu([-1.0, 0.0, 2.5])
    array([0. , 0. , 2.5])
    """
    return np.maximum(x, 0)


@relu.derivative_rule
def _relu_derivative(x: Array, y: Array | None) -> Array:
    return np.heaviside(x, 1.0)


@relu.second_derivative_rule
def _relu_second_derivative(x: Array) -> Array:
    return zeros_keeping_nan(x)


# ----------------------------------------------------------------------------- leaky_relu
@activation(
    "leaky_relu",
    plain_formula="x if x >= 0 else a·x",
    formula=r"f(x) = \begin{cases} a x & x < 0 \\ x & x \ge 0 \end{cases}",
    derivative_formula=r"f'(x) = \begin{cases} a & x < 0 \\ 1 & x \ge 0 \end{cases}",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(-np.inf, np.inf),
    monotonic=True,
    zero_centered=False,
    max_derivative=1.0,
    kinks=(Kink(0.0, 1.0, "the founding document's choice; PyTorch and JAX use the slope a"),),
    params=(
        Param(
            "slope",
            0.1,
            "the slope a for x < 0, in [0, 1] so the facts (monotonic, max f' = 1) hold "
            "(the founding document's 0.1; PyTorch and JAX default to 0.01)",
            unit_interval,
        ),
    ),
    use=("hidden layer",),
    problems=(
        "The slope is one more hyperparameter; with a = 0 it is relu again, and with a = 1 the identity.",
    ),
    reference="Maas, Hannun & Ng (2013). Rectifier nonlinearities improve neural network "
    "acoustic models. ICML.",
    summary="ReLU with a small slope a for negative input, so no unit dies.",
    init="he",
    classic=True,
    exact=True,
    fast="leaky_relu",
)
def leaky_relu(x: Array, *, slope: float) -> Array:
    """x for x >= 0, slope·x for x < 0.  The slope is rounded to x's dtype first.

    >>> import actlab
    >>> actlab.leaky_relu([-2.0, 3.0])
    array([-0.2,  3. ])
    """
    negative = np.minimum(x, 0)  # slope·(+inf) never formed
    if slope == 0:
        # 0·(-inf) is NaN; in the finite range 0·x is -0 for every x < 0, the limit too
        np.maximum(negative, -np.finfo(x.dtype).max, out=negative)
    negative *= x.dtype.type(slope)
    return np.where(x >= 0, x, negative)


@leaky_relu.derivative_rule
def _leaky_relu_derivative(x: Array, y: Array | None, *, slope: float) -> Array:
    return keep_nan(np.where(x >= 0, x.dtype.type(1), x.dtype.type(slope)), x)


@leaky_relu.second_derivative_rule
def _leaky_relu_second_derivative(x: Array, *, slope: float) -> Array:
    return zeros_keeping_nan(x)


# ----------------------------------------------------------------------------- selu
@activation(
    "selu",
    plain_formula="λx if x >= 0 else λα(e^x - 1)",
    formula=r"f(x) = \lambda \begin{cases} \alpha (e^{x} - 1) & x < 0 \\ x & x \ge 0 \end{cases}",
    derivative_formula=r"f'(x) = \begin{cases} \lambda\alpha e^{x} = f(x) + \lambda\alpha"
    r" & x < 0 \\ \lambda & x \ge 0 \end{cases}",
    second_derivative_formula=r"f''(x) = \begin{cases} \lambda\alpha e^{x} & x < 0 \\ 0 & x \ge 0"
    r" \end{cases}",
    output_range=(-SELU_LAMBDA_ALPHA, np.inf),
    monotonic=True,
    zero_centered=True,
    max_derivative=SELU_LAMBDA_ALPHA,
    kinks=(Kink(0.0, SELU_LAMBDA, "the founding document's choice λ; PyTorch and JAX give λα"),),
    use=("hidden layer",),
    problems=(
        "Self-normalisation holds only with LeCun-normal weights (variance 1/n), "
        "standardised inputs and plain dense layers; dropout and batch norm break it.",
        "The derivative jumps at 0, from λα ≈ 1.758 to λ ≈ 1.051.",
    ),
    reference="Klambauer, Unterthiner, Mayr & Hochreiter (2017). Self-normalizing neural networks. NeurIPS.",
    summary="Scaled exponential linear unit: keeps activations near mean 0, variance 1.",
    init="lecun",
    classic=True,
    fast="selu",
)
def selu(x: Array) -> Array:
    """λx for x >= 0, λα(e^x - 1) for x < 0 (expm1 keeps the digits near 0).

    >>> import actlab
    >>> round(float(actlab.selu(float("-inf"))), 12)
    -1.758099340847
    """
    negative = np.minimum(x, 0)
    np.expm1(negative, out=negative)
    negative *= SELU_LAMBDA_ALPHA
    with np.errstate(over="ignore"):  # λx rounds to ±inf past max/λ: the right result
        positive = x * SELU_LAMBDA
    return np.where(x >= 0, positive, negative)


@selu.derivative_rule
def _selu_derivative(x: Array, y: Array | None) -> Array:
    # λα·e^x from x, not y + λα: that sum cancels to 0 for x below about -37.
    negative = scaled_exp(np.minimum(x, 0), SELU_LAMBDA_ALPHA)
    return keep_nan(np.where(x >= 0, SELU_LAMBDA, negative), x)


@selu.backward_rule
def _selu_backward(x: Array, g: Array, y: Array | None) -> Array:
    tail = np.isfinite(x) & (x < 0)
    return backward_product(_selu_derivative(x, None), g, tail, lambda m: x[m], SELU_LAMBDA_ALPHA)


@selu.second_derivative_rule
def _selu_second_derivative(x: Array) -> Array:
    negative = scaled_exp(np.minimum(x, 0), SELU_LAMBDA_ALPHA)
    return keep_nan(np.where(x >= 0, 0.0, negative), x)


# ----------------------------------------------------------------------------- identity
@activation(
    "identity",
    plain_formula="x",
    aliases=("linear",),
    formula=r"f(x) = x",
    derivative_formula=r"f'(x) = 1",
    second_derivative_formula=r"f''(x) = 0",
    output_range=(-np.inf, np.inf),
    monotonic=True,
    zero_centered=True,
    max_derivative=1.0,
    use=("regression output",),
    problems=("In hidden layers it adds nothing: a stack of linear layers is one linear map.",),
    reference="The output unit of linear regression, trained with mean squared error.",
    summary="Passes its input through: the output of a regression network.",
    classic=True,
    exact=True,
    fast="identity",
)
def identity(x: Array) -> Array:
    """f(x) = x.

    >>> import actlab
    >>> actlab.identity([1.5, -2.0])
    array([ 1.5, -2. ])
    """
    return x.copy()


@identity.derivative_rule
def _identity_derivative(x: Array, y: Array | None) -> Array:
    return ones_keeping_nan(x)


@identity.second_derivative_rule
def _identity_second_derivative(x: Array) -> Array:
    return zeros_keeping_nan(x)


__all__ = [
    "step",
    "sigmoid",
    "tanh",
    "arctan",
    "relu",
    "leaky_relu",
    "selu",
    "identity",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "exp_neg_abs",
]
