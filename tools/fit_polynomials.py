"""Fit the polynomial coefficients of the compiled kernels' exponential and arctangent.

Generates the EXPM1_HI / EXPM1_LO (expm1(r) = r + r^2 P(r), |r| <= ln2/2) and ATAN_HI /
ATAN_LO (atan(t) = t + t u P(u), u = t^2 <= tan^2(pi/8)) initialisers of
src/actlab/activations/_kernels_src/reductions.h: HI for float64 results, LO for float32.

Chebyshev interpolation at 80-digit precision (near-minimax), converted to monomial
coefficients and rounded to double; then the rounded polynomial's worst relative error on
a dense grid is measured in mpmath.  Prints C initialisers.

    python tools/fit_polynomials.py
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 80


def fit(f, lo, hi, degree):
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (2 * k + 1) / (2 * (degree + 1)))
             for k in range(degree + 1)]
    A = mp.matrix([[t**j for j in range(degree + 1)] for t in nodes])
    b = mp.matrix([f(t) for t in nodes])
    c = mp.lu_solve(A, b)
    return [float(c[j]) for j in range(degree + 1)]


def horner(c, t):
    acc = mp.mpf(0)
    for v in reversed(c):
        acc = acc * t + mp.mpf(v)
    return acc


def report(name, f, lo, hi, degree, weight):
    c = fit(f, lo, hi, degree)
    worst = max(abs((horner(c, t) - f(t)) * weight(t))
                for t in (lo + (hi - lo) * mp.mpf(i) / 4000 for i in range(4001)))
    print(f"/* {name}: degree {degree} on [{float(lo):.6g}, {float(hi):.6g}], "
          f"weighted error {float(worst):.3g} */")
    print("{" + ", ".join(f"{v!r}" for v in c) + "}")


def expm1_p(r):
    # expm1(r) = r + r^2 P(r)
    if abs(r) < mp.mpf(10) ** -20:
        return mp.mpf(1) / 2 + r / 6 + r**2 / 24
    return (mp.expm1(r) - r) / r**2


def atan_p(u):
    # atan(t) = t + t u P(u), u = t^2
    if u == 0:
        return -mp.mpf(1) / 3
    t = mp.sqrt(u)
    return (mp.atan(t) / t - 1) / u


if __name__ == "__main__":
    h = mp.log(2) / 2 * mp.mpf("1.0001")
    for d in (4, 5, 6, 7, 11):
        # error of expm1 relative to |expm1(r)| ~ |r|: r^2 dP / r = r dP
        report("expm1 P", expm1_p, -h, h, d, lambda r: abs(r) / abs(mp.expm1(r)) * abs(r) if r else 0)
    u_hi = mp.tan(mp.pi / 8) ** 2 * mp.mpf("1.0001")
    for d in (6, 10):
        report("atan P", atan_p, mp.mpf(0), u_hi, d, lambda u: u)
