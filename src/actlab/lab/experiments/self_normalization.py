"""self-normalization: SELU's fixed point, measured through 100 layers and solved for α, λ.

Part 1.  A batch of standard-normal inputs goes through ``layers`` dense layers of
``width`` units, weights LeCun-normal (variance 1/n), zero bias, each followed by the
activation; the mean and variance of every layer's output (over all samples and units) are
recorded for selu, relu and tanh.

Part 2.  α and λ are the solution of E[selu(z)] = 0 and E[selu(z)²] = 1 for z ~ N(0, 1)
(Klambauer et al. 2017).  With Φ the standard normal distribution function, the Gaussian
integrals have closed forms:

    E[z; z ≥ 0] = 1/√(2π),   E[z²; z ≥ 0] = 1/2,   P(z < 0) = 1/2,
    E[eᶻ; z < 0] = e^{1/2} Φ(-1),   E[e^{2z}; z < 0] = e² Φ(-2),

so E[selu(z)] = λ (1/√(2π) + α (e^{1/2}Φ(-1) - 1/2)) and
E[selu(z)²] = λ² (1/2 + α² (e²Φ(-2) - 2e^{1/2}Φ(-1) + 1/2)).  Φ(-t) = erfc(t/√2)/2 is
computed with ``math.erfc`` (accurate to the last bits, no cancellation), and the two
equations are solved by Newton's method in (α, λ) with the exact Jacobian, from (1, 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import actlab
from actlab.checks import positive_int
from actlab.lab._registry import ExperimentResult, experiment

from .. import _checks
from ._common import one_blas_thread, sig

NAME = "self-normalization"
TITLE = "SELU keeps activations normalised"
CLAIM = (
    "Through 100 dense layers with LeCun-normal weights, SELU keeps the activations' mean "
    "near 0 and variance near 1, while tanh's variance collapses and relu's halves each "
    "layer; SELU's α and λ are the solution of E[selu(z)] = 0, E[selu(z)²] = 1."
)

#: The published constants (Klambauer et al. 2017), as decimal strings to 32 digits.
PUBLISHED_ALPHA = "1.6732632423543772848170429916717"
PUBLISHED_LAMBDA = "1.0507009873554804934193349852946"


def _gaussian_moments() -> tuple[float, float, float]:
    """(m1, a, b): E[z; z≥0] = m1, E[eᶻ - 1; z<0] = a, E[(eᶻ - 1)²; z<0] = b."""
    phi1 = 0.5 * math.erfc(1 / math.sqrt(2))  # Φ(-1)
    phi2 = 0.5 * math.erfc(2 / math.sqrt(2))  # Φ(-2)
    e1 = math.exp(0.5) * phi1  # E[eᶻ; z<0]
    e2 = math.exp(2.0) * phi2  # E[e^{2z}; z<0]
    m1 = 1 / math.sqrt(2 * math.pi)
    return m1, e1 - 0.5, e2 - 2 * e1 + 0.5


def selu_moments(alpha: float, lam: float) -> tuple[float, float]:
    """(E[selu(z)], E[selu(z)²]) for z ~ N(0, 1), in closed form."""
    m1, a, b = _gaussian_moments()
    return lam * (m1 + alpha * a), lam * lam * (0.5 + alpha * alpha * b)


def solve_selu_constants(*, tol: float = 1e-15, max_iter: int = 50) -> tuple[float, float, int]:
    """Solve E[selu(z)] = 0, E[selu(z)²] = 1 for (α, λ) by Newton's method; returns (α, λ, iterations).

    >>> alpha, lam, _ = solve_selu_constants()
    >>> abs(alpha - 1.6732632423543772) < 1e-12 and abs(lam - 1.0507009873554805) < 1e-12
    True
    """
    m1, a, b = _gaussian_moments()
    alpha, lam = 1.0, 1.0
    for it in range(1, max_iter + 1):
        f1 = lam * (m1 + alpha * a)
        f2 = lam * lam * (0.5 + alpha * alpha * b) - 1.0
        # Jacobian of (f1, f2) in (α, λ).
        j11, j12 = lam * a, m1 + alpha * a
        j21, j22 = 2 * lam * lam * alpha * b, 2 * lam * (0.5 + alpha * alpha * b)
        det = j11 * j22 - j12 * j21
        da = (f1 * j22 - f2 * j12) / det
        dl = (j11 * f2 - j21 * f1) / det
        alpha, lam = alpha - da, lam - dl
        if abs(da) <= tol * abs(alpha) and abs(dl) <= tol * abs(lam):
            return alpha, lam, it
    raise ArithmeticError("Newton's method did not converge for SELU's α and λ")  # pragma: no cover


def propagate(
    name: str, *, layers: int, width: int, samples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each layer's output (index 0: the input) through ``layers`` layers."""
    act = actlab.get(name)
    rng = np.random.default_rng([seed, 11])
    h = rng.standard_normal((samples, width))
    means, variances = [float(h.mean())], [float(h.var())]
    scale = 1 / math.sqrt(width)
    for _ in range(layers):
        W = rng.standard_normal((width, width)) * scale
        h = act(h @ W)
        means.append(float(h.mean()))
        variances.append(float(h.var()))
    return np.asarray(means), np.asarray(variances)


@experiment(NAME, title=TITLE, claim=CLAIM)
@one_blas_thread
def run(
    *,
    seed: int = 0,
    quick: bool = False,
    layers: int = 100,
    width: int | None = None,
    samples: int | None = None,
    activations: Sequence[str] | None = None,
) -> ExperimentResult:
    """Mean and variance through ``layers`` LeCun-normal layers per activation; α, λ solved.

    Bounds: layers ≤ 100000, width ≤ 10000 (each layer holds width² weights),
    samples ≤ 1000000, samples × width ≤ 100000000.
    """
    layers = positive_int("layers", layers, maximum=_checks.MAX_STEPS)
    width = positive_int(
        "width", width if width is not None else (256 if quick else 512), maximum=_checks.MAX_SQUARE
    )
    samples = positive_int(
        "samples", samples if samples is not None else (256 if quick else 500), maximum=_checks.MAX_SAMPLES
    )
    if samples * width > _checks.MAX_CELLS:
        raise ValueError(
            f"samples × width must be at most {_checks.MAX_CELLS} (one float64 array of that many "
            f"values per layer), got samples={samples}, width={width}"
        )
    names = _checks.activations(activations, ["selu", "relu", "tanh"])
    for n in names:
        if not actlab.get(n).elementwise:
            raise ValueError(f"{NAME}: {n} is not elementwise; choose elementwise activations")

    stats = {}
    rows: list[list[Any]] = []
    for name in names:
        means, variances = propagate(name, layers=layers, width=width, samples=samples, seed=seed)
        stats[name] = {"mean": means.tolist(), "var": variances.tolist()}
        fixed = name == "selu"
        rows.append(
            [
                f"{name} mean after {layers} layers",
                f"{means[-1]:.4g}",
                "0" if fixed else None,
                f"{abs(means[-1]):.2g}" if fixed else None,
            ]
        )
        rows.append(
            [
                f"{name} variance after {layers} layers",
                f"{variances[-1]:.4g}",
                "1" if fixed else None,
                f"{abs(variances[-1] - 1):.2g}" if fixed else None,
            ]
        )

    alpha, lam, iterations = solve_selu_constants()
    pa, pl = float(PUBLISHED_ALPHA), float(PUBLISHED_LAMBDA)
    mean_res, second_res = selu_moments(alpha, lam)
    rows.append(["α solved (Newton, float64)", f"{alpha:.15g}", f"{pa:.15g}", f"{abs(alpha - pa):.1e}"])
    rows.append(["λ solved (Newton, float64)", f"{lam:.15g}", f"{pl:.15g}", f"{abs(lam - pl):.1e}"])

    findings = []
    for name in names:
        v = stats[name]["var"]
        line = (
            f"{name}: variance {sig(v[1])} after layer 1, {sig(v[layers // 2])} after {layers // 2}, "
            f"{sig(v[-1])} after {layers}; mean {sig(stats[name]['mean'][-1])}"
        )
        if layers > 1 and v[1] > 0 and v[-1] > 0:
            line += f"; variance ratio per layer (geometric mean) {sig((v[-1] / v[1]) ** (1 / (layers - 1)))}"
        findings.append(line)
    findings.append(
        f"solved by Newton in {iterations} iterations: α = {alpha:.15g}, λ = {lam:.15g}; published "
        f"α = {PUBLISHED_ALPHA}, λ = {PUBLISHED_LAMBDA}; differences "
        f"{abs(alpha - pa):.1e}, {abs(lam - pl):.1e}"
    )
    findings.append(f"at the solution E[selu(z)] = {mean_res:.1e} and E[selu(z)²] - 1 = {second_res - 1:.1e}")
    return ExperimentResult(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        columns=["quantity", "measured", "reference", "|difference|"],
        rows=rows,
        data={
            "activations": names,
            "layers": layers,
            "stats": stats,
            "alpha": alpha,
            "lambda": lam,
            "published_alpha": PUBLISHED_ALPHA,
            "published_lambda": PUBLISHED_LAMBDA,
            "iterations": iterations,
        },
        findings=findings,
        settings={
            "seed": seed,
            "quick": quick,
            "layers": layers,
            "width": width,
            "samples": samples,
            "activations": names,
        },
    )
