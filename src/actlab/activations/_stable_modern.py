"""Stable building blocks for the modern activations: error-free products, c·e^z without
intermediate over- or underflow, the normal distribution function, Taylor patches at roots.

Vectorised NumPy only.  Every helper works in float64 (the working dtype of the kernels),
propagates NaN and raises no floating-point warning for finite or clamped input; the
kernels clamp ±inf before calling them, as each docstring says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]

_SPLITTER = 134217729.0  # 2^27 + 1: Veltkamp's constant for a 53-bit significand
#: ln 2 as hi + lo; hi has 21 trailing zero bits, so k·hi is exact for |k| < 2^21.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
#: √2 and 1/√2 as hi + lo (hi the nearest double, lo the rounding error).
SQRT2_HI = 1.4142135623730951
SQRT2_LO = -9.667293313452913e-17
INV_SQRT2_HI = 0.7071067811865476
INV_SQRT2_LO = -4.833646656726457e-17
INV_SQRT_2PI = 0.3989422804014327  # 1/√(2π)


# ----------------------------------------------------------------------- exact arithmetic
def split(a: Array) -> tuple[Array, Array]:
    """Veltkamp split a = hi + lo, hi with 26 significant bits (|a| < 2^995)."""
    t = a * _SPLITTER
    hi = t - (t - a)
    return hi, a - hi


def two_prod(a: Array | float, b: Array) -> tuple[Array, Array]:
    """(p, e) with p = fl(a·b) and p + e = a·b exactly (Dekker; |a|, |b| < 2^995)."""
    p = a * b
    ah, al = split(np.asarray(a, dtype=np.float64))
    bh, bl = split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def fast_two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """(s, e), s + e = a + b exactly, for |a| >= |b| (or a = 0)."""
    s = a + b
    return s, b - (s - a)


# Double-double arithmetic on (hi, lo) pairs: about 100 bits, for the few sums that
# cancel (the terms of f' on either side of its root); a plain double counts as (x, 0).
def dd_add(a: tuple[Array, Array], b: tuple[Array, Array]) -> tuple[Array, Array]:
    s, e = two_sum(a[0], b[0])
    return fast_two_sum(s, e + (a[1] + b[1]))


def dd_mul(a: tuple[Array, Array], b: tuple[Array, Array]) -> tuple[Array, Array]:
    p, e = two_prod(a[0], b[0])
    return fast_two_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def dd_div(a: tuple[Array, Array], b: tuple[Array, Array]) -> tuple[Array, Array]:
    q = a[0] / b[0]
    p, e = two_prod(q, b[0])
    r = (((a[0] - p) - e) + a[1]) - q * b[1]
    return fast_two_sum(q, r / b[0])


def div_exact_const(hi: Array, lo: Array | float, c: float) -> Array:
    """(hi + lo)/c rounded nearly correctly (error 0.5 ULP + 2^-100 relative).

    The remainder hi - q·c is exact (two_prod), so one correction step fixes q.
    """
    q = hi / c
    p, e = two_prod(c, q)
    r = ((hi - p) - e) + lo
    return q + r / c


# ----------------------------------------------------------------------- exponentials
#: Below this |x|, c·x² is under half an ULP of x/2 for every c <= 1.
TINY_HALF = 2.0**-60


def _float32_midpoint(h: Array) -> Array:
    """Where the float64 value h lies exactly halfway between two float32 values."""
    a = np.abs(h)
    sub = a < 2.0**-126  # float32's subnormal range: the grid is 2^-149
    scaled = a * 2.0**150
    on_sub_grid = sub & (scaled == np.floor(scaled)) & (np.fmod(scaled, 2.0) == 1.0)
    bits = a.view(np.uint64) & np.uint64((1 << 29) - 1)
    return on_sub_grid | (~sub & (bits == np.uint64(1 << 28)))


def half_plus_square(x: Array, result: Array) -> Array:
    """Set ``result`` to f(x) where |x| < TINY_HALF, for f(x) = x/2 + c·x² + O(x³), c > 0
    (silu, gelu, hard_swish).

    There f(x) lies strictly above x/2 by less than half an ULP, so x/2 is the answer,
    except where x/2 is a rounding tie, which the exact value breaks upwards: a float64
    tie (x subnormal, the halving inexact) and a float32 one (float32 input computed in
    float64, then rounded again), where the result is moved one float64 ULP up.
    """
    small = np.abs(x) < TINY_HALF
    if small.any():
        xs = x[small]
        h = 0.5 * xs
        h = np.where((h + h < xs) | _float32_midpoint(h), np.nextafter(h, np.inf), h)
        result[small] = h
    return result


def mul_exp(c: Array, z: Array, z_lo: Array | float | None = None, *, exponent: Array | None = None) -> Array:
    """c·e^{z + z_lo} for finite c, rounded about once, never flushed early.

    c = m·2^k (frexp) moves into the exponent, z + k·ln 2 is kept exact as hi + lo, and
    e^{hi} is taken in two halves where it alone would over- or underflow: x·e^x at
    x = -744 (whose e^x is subnormal) keeps its digits, and c = 1e300 times e^{-800}
    gives 1e-47, not 0.  ``z_lo`` is a small correction to z (|z_lo| < 2^-20·|z|);
    ``exponent`` an integer-valued array k': the result is multiplied by 2^k' exactly.
    ±inf in c gives ±inf (NaN where e^z is 0); NaN in c or z gives NaN.
    z is clamped to ±10^4 (e^{-10^4} is 0 for every finite c); results past
    e^709 are capped there, not overflowed (the callers' results are never that large).
    """
    z = np.clip(z, -1.0e4, 1.0e4)
    c = np.asarray(c, dtype=np.float64)
    finite = np.isfinite(c)
    c_inf = None if finite.all() else c
    if c_inf is not None:
        c = np.where(finite, c, 0.0)
    m, k = np.frexp(c)
    kf = k.astype(np.float64)
    if exponent is not None:
        kf += exponent
    plain = (np.abs(kf) + np.abs(z) * 1.4426950408889634) < 1000.0
    if exponent is not None:
        plain &= exponent == 0
    if plain.all():  # neither c nor e^z near the ends of the range: c·e^z directly
        result = c * np.exp(z)
        if z_lo is not None:
            result += result * np.expm1(np.clip(z_lo, -1.0e-3, 1.0e-3))
        if c_inf is not None:
            grows = np.where(z > -745.2, 1.0, np.nan)
            result = np.where(finite, result, np.where(np.isnan(c_inf), np.nan, c_inf * grows))
        return result
    hi, lo = two_sum(z, kf * LN2_HI)
    lo += kf * LN2_LO
    if z_lo is not None:
        lo += np.clip(z_lo, -1.0e-3, 1.0e-3)  # bounded: its z may have been clamped
    m = m + m * np.expm1(lo)
    np.minimum(hi, 709.0, out=hi)  # past e^709 (never asked for) the value is capped
    big = np.abs(hi) > 700.0
    half = np.where(big, hi * 0.5, hi)
    e = np.exp(half)
    result = m * e
    np.multiply(result, e, out=result, where=big)
    if plain.any():
        direct = c[plain] * np.exp(z[plain])
        if z_lo is not None:
            direct += direct * np.expm1(np.broadcast_to(np.clip(z_lo, -1.0e-3, 1.0e-3), z.shape)[plain])
        result[plain] = direct
    if c_inf is not None:  # ±inf·e^z: ±inf where e^z > 0, NaN where it is 0
        grows = np.where(z > -745.2, 1.0, np.nan)
        result = np.where(finite, result, np.where(np.isnan(c_inf), np.nan, c_inf * grows))
    return result


def gauss(x: Array, c: Array, *, exponent: Array | None = None) -> Array:
    """c·e^{-x²/2}, with x² split exactly: no error of a rounded x² or x/√2 is amplified.

    x = hi + lo (Veltkamp), x² = hi² + (2·hi·lo + lo²) with hi² exact.  The caller
    passes x with |x| <= 64 (beyond, e^{-x²/2}·c is 0 for any c it forms).
    """
    hi, lo = split(x)
    z = hi * hi * -0.5
    z_lo = -(hi * lo + lo * lo * 0.5)
    return mul_exp(c, z, z_lo, exponent=exponent)


# ----------------------------------------------------------------------- the normal cdf
# Rational approximations of erf/erfc from the FreeBSD msun s_erf.c (Sun Microsystems,
# freely distributable), each < 1 ULP on its interval.
_ERX = 8.45062911510467529297e-01
_PP = (
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
)
_QQ = (
    1.0,
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
)
_PA = (
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
)
_QA = (
    1.0,
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
)
_RA = (
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e01,
    -6.23753324503260060396e01,
    -1.62396669462573470355e02,
    -1.84605092906711035994e02,
    -8.12874355063065934246e01,
    -9.81432934416914548592e00,
)
_SA = (
    1.0,
    1.96512716674392571292e01,
    1.37657754143519042600e02,
    4.34565877475229228821e02,
    6.45387271733267880336e02,
    4.29008140027567833386e02,
    1.08635005541779435134e02,
    6.57024977031928170135e00,
    -6.04244152148580987438e-02,
)
_RB = (
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e01,
    -1.60636384855821916062e02,
    -6.37566443368389627722e02,
    -1.02509513161107724954e03,
    -4.83519191608651397019e02,
)
_SB = (
    1.0,
    3.03380607434824582924e01,
    3.25792512996573918826e02,
    1.53672958608443695994e03,
    3.19985821950859553908e03,
    2.55305040643316442583e03,
    4.74528541206955367215e02,
    -2.24409524465858183362e01,
)


def _poly(coefficients: Sequence[float], s: Array) -> Array:
    p = np.full_like(s, coefficients[-1])
    for c in coefficients[-2::-1]:
        p *= s
        p += c
    return p


#: |x| bounds of the three regions, in the Gaussian variable x = √2·z.
_A_END = 0.84375 * SQRT2_HI  # erf by a series in z²
_B_END = 1.25 * SQRT2_HI  # erf about z = 1
_C_SPLIT = SQRT2_HI / 0.35  # two rational fits of the erfc tail


def normal_cdf(x: Array, scale: Array | None = None) -> Array:
    """scale·Φ(x), Φ(x) = erfc(-x/√2)/2, for float64 x (NaN propagates; ±inf fine).

    In the lower tail Φ(x) = e^{-x²/2}·e^{-0.5625 + R(s)/S(s)}/(√2·|x|) with s = 2/x²:
    e^{-x²/2} comes from x itself (:func:`gauss`), and the rational part is insensitive
    to rounding, so the ~x² amplification of an error in x/√2 never happens.  ``scale``
    multiplies before the last rounding (x·Φ(x) below -38 stays subnormal, not 0).
    """
    a = np.minimum(np.abs(x), 64.0)
    neg = x < 0
    if scale is None:
        scale = np.ones_like(a)
    scale = np.broadcast_to(scale, a.shape)
    result = np.full_like(a, np.nan)

    # region A: |z| < 0.84375, erf(z) = z + z·y(z²), z as hi + lo
    m = a < _A_END
    if m.any():
        am, nm, sm = a[m], neg[m], scale[m]
        zh, zl = two_prod(INV_SQRT2_HI, am)
        zl += INV_SQRT2_LO * am
        y = _poly(_PP, am * am * 0.5) / _poly(_QQ, am * am * 0.5)
        # lower side as in s_erf.c: erfc(z) = 0.5 - ((z - 0.5) + z·y) for z >= 1/4
        small = zh < 0.25
        erf_ = zh + (zh * y + zl * (1.0 + y))
        erfc_ = np.where(small, 1.0 - erf_, 0.5 - (((zh - 0.5) + zh * y) + zl * (1.0 + y)))
        phi = np.where(nm, 0.5 * erfc_, 0.5 + 0.5 * erf_)
        result[m] = sm * phi

    # region B: 0.84375 <= |z| < 1.25, erf(z) = erx + P/Q(z - 1), z - 1 from x exactly
    m = (a >= _A_END) & (a < _B_END)
    if m.any():
        am, nm, sm = a[m], neg[m], scale[m]
        s = ((am - SQRT2_HI) - SQRT2_LO) * INV_SQRT2_HI
        pq = _poly(_PA, s) / _poly(_QA, s)
        phi = np.where(nm, ((1.0 - _ERX) - pq) * 0.5, (1.0 + _ERX + pq) * 0.5)
        result[m] = sm * phi

    # region C: |z| >= 1.25, erfc(z) = e^{-z²}·e^{-0.5625 + R/S}/z, from x
    m = a >= _B_END  # NaN is in no region and stays NaN
    if m.any():
        am, nm, sm = a[m], neg[m], scale[m]
        tail_factor = normal_tail_factor(am)
        lower = gauss(am, sm * tail_factor)  # scale·Φ(-a)
        upper = sm - gauss(am, sm * tail_factor)
        result[m] = np.where(nm, lower, upper)
    return result


def normal_tail_factor(a: Array) -> Array:
    """Φ(-a)·e^{a²/2} = e^{-0.5625 + R(s)/S(s)}/(√2·a), s = 2/a², for a >= 1.25·√2."""
    s = 2.0 / (a * a)
    near = a < _C_SPLIT
    rs = np.where(near, _poly(_RA, s) / _poly(_SA, s), _poly(_RB, s) / _poly(_SB, s))
    return np.exp(rs - 0.5625) / (SQRT2_HI * a)


def normal_pdf_scaled(x: Array, c: Array, *, exponent: Array | None = None) -> Array:
    """c·φ(x) = c·e^{-x²/2}/√(2π) (times 2^exponent); |x| is clamped to 64."""
    a = np.minimum(np.abs(x), 64.0)
    return gauss(a, c * INV_SQRT_2PI, exponent=exponent)


def tail_product(
    d: Array, g: Array, tail: Array, tail_value: Callable[[Array, Array, Array], Array]
) -> Array:
    """g·f'(x) from d = f'(x) in float64: d·g, except on ``tail``, the finite x where f'
    is of the form c·e^z and so never 0, wherever d is below the smallest normal or g is
    not finite.  There ``tail_value(mask, m, k)`` forms m·2^k·f'(x) in one
    :func:`mul_exp` (g = m·2^k): a huge g times a tiny f'(x) keeps its digits, and ±inf
    times f'(x) is ±inf with the product's sign, not inf·0 = NaN."""
    result = d * g
    infinite = np.isinf(g)
    redo = tail & (np.abs(d) < 2.2250738585072014e-308) & ~infinite
    if redo.any():
        m, k = np.frexp(g[redo])
        result[redo] = tail_value(redo, m, k.astype(np.float64))
    signed = tail & infinite
    if signed.any():  # f'(x) != 0 there, with the sign of d (a zero d keeps it)
        result[signed] = np.copysign(g[signed], g[signed] * np.copysign(1.0, d[signed]))
    return result


# ----------------------------------------------------------------------- roots
def patch_root(
    x: Array,
    result: Array,
    root: tuple[float, float],
    coefficients: Sequence[float],
    radius: float,
) -> Array:
    """Where |x - root| < radius, replace result by Σ_k c_k (x - root)^k (k >= 1).

    Near a simple root a formula that subtracts two terms of size ~1 keeps only an
    absolute accuracy, not a relative one; the Taylor series about the root (root held
    as hi + lo, coefficients from a 50-digit expansion) vanishes through its factor
    d = x - root, computed with one rounding, and keeps its relative digits.
    """
    d = x - root[0]
    m = np.abs(d) < radius
    if m.any():
        dm = d[m] - root[1]
        p = np.full_like(dm, coefficients[-1])
        for c in coefficients[-2::-1]:
            p *= dm
            p += c
        result[m] = p * dm
    return result


#: Taylor expansions about the roots of f' and f'' (mpmath, 60 digits; see patch_root):
#: {(function, order): [((root_hi, root_lo), (c1, c2, ...), radius), ...]}.
ROOT_PATCHES: dict[tuple[str, int], list[tuple[tuple[float, float], tuple[float, ...], float]]] = {
    ("silu", 1): [
        # root -1.2784645427610737951
        (
            (-1.2784645427610737, -1.0946994183093437e-16),
            (
                0.2178117057198001,
                0.1466487969969469,
                0.018874814223782312,
                -0.015222655223188032,
                -0.006606589138356696,
                0.000126627410081122,
                0.0007985218818397998,
                0.00018570724361186496,
                -4.090534237428612e-05,
                -2.9733542213263917e-05,
                -2.942631888842464e-06,
                2.346029682463866e-06,
                8.599695028268575e-07,
                -3.051244750055421e-08,
                -9.266646309267441e-08,
                -1.8877622907727957e-08,
                4.619379769031606e-09,
                2.9177603026903803e-09,
                2.3648315053103244e-10,
                -2.251366201881081e-10,
                -7.50344609385287e-11,
                3.998547874723996e-12,
                8.04274075537398e-12,
                1.4842855116792256e-12,
            ),
            0.5,
        ),
    ],
    ("silu", 2): [
        # root -2.3993572805154676678
        (
            (-2.3993572805154675, -1.8464872855353363e-16),
            (
                0.09153052016419229,
                0.07629586548655085,
                0.022487259234225326,
                -0.001836670144762844,
                -0.003862816776830254,
                -0.0013663696912367745,
                -0.0001151307019584522,
                9.644059294156357e-05,
                4.74507427928072e-05,
                8.432377564571459e-06,
                -1.2461615072251882e-06,
                -1.190460513336088e-06,
                -3.144649318871996e-07,
                -9.904149230625922e-09,
                2.2618098624368472e-08,
                8.62206138174272e-09,
                1.139313959706701e-09,
                -2.9644608896956503e-10,
                -1.9015500324901384e-10,
                -4.116934082133455e-11,
                8.137678287238519e-13,
                3.4204279894581383e-12,
                1.0799583236973915e-12,
            ),
            0.5,
        ),
        # root 2.3993572805154676678
        (
            (2.3993572805154675, 1.8464872855353363e-16),
            (
                -0.09153052016419229,
                0.07629586548655085,
                -0.022487259234225326,
                -0.001836670144762844,
                0.003862816776830254,
                -0.0013663696912367745,
                0.0001151307019584522,
                9.644059294156357e-05,
                -4.74507427928072e-05,
                8.432377564571459e-06,
                1.2461615072251882e-06,
                -1.190460513336088e-06,
                3.144649318871996e-07,
                -9.904149230625922e-09,
                -2.2618098624368472e-08,
                8.62206138174272e-09,
                -1.139313959706701e-09,
                -2.9644608896956503e-10,
                1.9015500324901384e-10,
                -4.116934082133455e-11,
                -8.137678287238519e-13,
                3.4204279894581383e-12,
                -1.0799583236973915e-12,
            ),
            0.5,
        ),
    ],
    ("gelu", 1): [
        # root -0.75179152469356445746
        (
            (-0.7517915246935645, 1.4956759177009883e-17),
            (
                0.4314939923140469,
                0.388284982990552,
                -0.018199676398671087,
                -0.1140082332972217,
                -0.014771522148244337,
                0.019421679838189067,
                0.004539228379125415,
                -0.002239538068073497,
                -0.0007448268386746817,
                0.00018633974623233514,
                8.615947861116571e-05,
                -1.121438018842664e-05,
                -7.74846130700372e-06,
                4.3284506257392273e-07,
                5.702764979242107e-07,
                -1.6044265494246427e-09,
                -3.5459866461783865e-08,
                -1.396942086426202e-09,
                1.90319840501314e-09,
                1.4506418938779426e-10,
                -8.950037692726255e-11,
                -9.950340824808053e-12,
                3.725967039270119e-12,
                5.482292964742324e-13,
                -1.3820118240601056e-13,
                -2.5871508475507507e-14,
                4.578167824271334e-15,
                1.0789662518230159e-15,
                -1.3507094681149317e-16,
                -4.0514385281601486e-17,
                3.508210778008599e-18,
                1.386912168501325e-18,
            ),
            1.0,
        ),
    ],
    ("gelu_tanh", 1): [
        # root -0.75246142207101625849
        (
            (-0.7524614220710163, 3.635560509207687e-17),
            (
                0.4304000910248585,
                0.38751844613578895,
                -0.01578285352184803,
                -0.11394448308095899,
                -0.01661932834305256,
                0.019682309459833118,
                0.005261059254921912,
                -0.0024227318458750974,
                -0.0009274420230205449,
                0.00026392764052681053,
                0.00012425227802639782,
                -3.4956171694436116e-05,
                -1.5950896871645105e-05,
                5.918611710894005e-06,
                2.4335516344299543e-06,
                -9.898647747433667e-07,
                -4.3102482988029016e-07,
                1.4157556987729473e-07,
                7.520740909289922e-08,
                -1.6978217459781023e-08,
                -1.196180847972441e-08,
                1.7637802707907564e-09,
                1.744987137846621e-09,
                -1.708811216951738e-10,
                -2.433873557833449e-10,
                1.687283177355558e-11,
                3.393384490409003e-11,
            ),
            0.5,
        ),
    ],
    ("gelu_tanh", 2): [
        # root -1.4185040087908283555
        (
            (-1.4185040087908283, -8.089265124388305e-17),
            (
                0.4095488174124191,
                0.432081111593848,
                0.008168951883944803,
                -0.16109481693213482,
                -0.056750540975161724,
                0.020035361162701274,
                0.01671150756085392,
                0.0007632001136916162,
                -0.002643461146696662,
                -0.0007514200775098502,
                0.00026173756856854425,
                0.00017619942054101047,
                -6.138879668243466e-06,
                -2.918654105104775e-05,
                -4.884341759522852e-06,
                3.568864966961748e-06,
                1.501746538549582e-06,
                -2.3134876605993593e-07,
                -2.779934168936508e-07,
                -2.4601994673299104e-08,
                3.602721872649386e-08,
                1.1237042794566375e-08,
                -2.851641780735067e-09,
                -2.207298319503112e-09,
                -5.3427653791305414e-11,
                3.007050913088175e-10,
                6.931417480332243e-11,
                -2.787241549853563e-11,
            ),
            0.5,
        ),
        # root 1.4185040087908283555
        (
            (1.4185040087908283, 8.089265124388305e-17),
            (
                -0.4095488174124191,
                0.432081111593848,
                -0.008168951883944803,
                -0.16109481693213482,
                0.056750540975161724,
                0.020035361162701274,
                -0.01671150756085392,
                0.0007632001136916162,
                0.002643461146696662,
                -0.0007514200775098502,
                -0.00026173756856854425,
                0.00017619942054101047,
                6.138879668243466e-06,
                -2.918654105104775e-05,
                4.884341759522852e-06,
                3.568864966961748e-06,
                -1.501746538549582e-06,
                -2.3134876605993593e-07,
                2.779934168936508e-07,
                -2.4601994673299104e-08,
                -3.602721872649386e-08,
                1.1237042794566375e-08,
                2.851641780735067e-09,
                -2.207298319503112e-09,
                5.3427653791305414e-11,
                3.007050913088175e-10,
                -6.931417480332243e-11,
                -2.787241549853563e-11,
            ),
            0.5,
        ),
    ],
    ("mish", 1): [
        # root -1.1924312145154952121
        (
            (-1.1924312145154952, -4.8484829848031044e-17),
            (
                0.2669479140495345,
                0.20473126408010586,
                0.04190782104360987,
                -0.020271822716684245,
                -0.01582112656173338,
                -0.0033606849270232685,
                0.0010924055409445854,
                0.0009898181021289196,
                0.00025412936386191073,
                -4.1961496031696126e-05,
                -5.582891567360688e-05,
                -1.72992708103044e-05,
                9.427361327376651e-07,
                2.9088199364912223e-06,
                1.071676702702074e-06,
                2.6879417855557728e-08,
                -1.4117255919499382e-07,
                -6.174424363104907e-08,
                -5.460186173028381e-09,
                6.3895954615089855e-09,
                3.3604012383661332e-09,
                4.817646300218697e-10,
                -2.6751871594311224e-10,
                -1.7442209713382678e-10,
                -3.3904729895707114e-11,
                1.0101727316036154e-11,
                8.681382594457511e-12,
            ),
            0.5,
        ),
    ],
    ("mish", 2): [
        # root -2.25637639636079312
        (
            (-2.256376396360793, -1.0703174875019247e-16),
            (
                0.1087544107316427,
                0.09898193805255845,
                0.03736189561023729,
                0.0033540526593358656,
                -0.003860493935188506,
                -0.002480068109334893,
                -0.0007927886724150866,
                -0.00010538381919454746,
                3.978333053066292e-05,
                3.2238496830115364e-05,
                1.1646398837640038e-05,
                2.1972274370071305e-06,
                -1.9166311947636233e-07,
                -3.2886827478945233e-07,
                -1.3816841246787867e-07,
                -3.179194815463423e-08,
                -9.041836791970716e-10,
                2.7897687645450417e-09,
                1.3947241287864647e-09,
                3.7278297023353565e-10,
                3.5985149601048556e-11,
                -1.9587615834869195e-11,
                -1.2454763156836604e-11,
                -3.825711124112797e-12,
                -5.62352281949575e-13,
                1.0524303612559649e-13,
                1.0049318356822413e-13,
                3.5641099798568405e-14,
                6.752266962512083e-15,
                -2.549411105501397e-16,
                -7.365272211745935e-16,
                -3.070869847775889e-16,
                -7.021766238304439e-17,
                -3.4233660601852802e-18,
                4.847482577630149e-18,
                2.470798802775251e-18,
                6.623449124234292e-19,
                7.205103090528143e-20,
                -2.7470809359736777e-20,
            ),
            0.25,
        ),
        # root 1.4905711794854284593
        (
            (1.4905711794854284, 7.126036715834263e-17),
            (
                -0.23069451159746054,
                0.28127277803034306,
                -0.0797073551654253,
                -0.06665173991852782,
                0.05998888116276497,
                -0.008932244292082872,
                -0.011535248884490047,
                0.0070027488703032735,
                -0.00026852183677313475,
                -0.0014013096671622836,
                0.0006082701059370484,
                4.5850287012401906e-05,
                -0.00013717566879765472,
                4.3428925985047434e-05,
                9.503876307943976e-06,
                -1.1636938135269531e-05,
                2.5942176688726364e-06,
                1.1453549858100461e-06,
                -8.865033422620115e-07,
                1.222151382038124e-07,
                1.1103700734940431e-07,
                -6.16810624585734e-08,
                3.1677243749092252e-09,
                9.442493225813562e-09,
                -3.941286131233074e-09,
                -1.8526850078138173e-10,
                7.308833536897959e-10,
                -2.3008883584136917e-10,
                -3.99898645660731e-11,
                5.2467960724023725e-11,
                -1.2008596317614772e-11,
                -4.3949358112940776e-12,
                3.52712608023842e-12,
                -5.261030249094932e-13,
                -3.8999346609959777e-13,
                2.2286508060304162e-13,
                -1.509617444264747e-14,
                -3.074431221646289e-14,
                1.3214391034306513e-14,
                3.1934142181884175e-16,
                -2.2328547255647884e-15,
                7.289924848287432e-16,
                1.0239527149517694e-16,
                -1.5196022230758183e-16,
                3.6634912232899814e-17,
                1.1391455467335836e-17,
                -9.770173381213014e-18,
                1.5909448547092166e-18,
                9.917833883205054e-19,
                -5.950221865985309e-19,
                4.998154068443232e-20,
                7.629070283127349e-20,
            ),
            0.25,
        ),
    ],
}
