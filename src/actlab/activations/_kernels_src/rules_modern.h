/* The shared helpers and the simpler scalar rules of the wider family's smooth kernels
 * (softplus, elu, log_sigmoid, hard_swish, hard_sigmoid, softsign; the gated ones are in
 * rules_gated.h), as rules_smooth.h's: computed in double and
 * rounded once by the loop, after the algorithms of the NumPy kernels (modern.py and
 * _stable_modern.py): the exponent of a Gaussian split exactly, erfc by FreeBSD msun's
 * s_erf.c rationals, double-double where the terms of f' cancel, and near a root of f' the
 * Taylor series about it (float64 results: the NumPy kernels' series; float32 results: its
 * first TAYLOR_LO terms on a radius of 1/32, past which the float32 arithmetic suffices).
 *
 * Tails (float64 results): where f'(x) may be below the smallest normal while g f'(x) is
 * not, tail_NAME forms g f'(x) with mul_exp_tail, g's exponent kept apart.
 */
#ifndef KERNELS_RULES_MODERN_H
#define KERNELS_RULES_MODERN_H

#include "reductions.h"

/* ------------------------------------------------------------------ shared helpers */
/* (s, e) with s + e = a + b exactly */
ALWAYS_INLINE double two_sum(double a, double b, double *e)
{
    double s = a + b, bb = s - a;
    *e = (a - (s - bb)) + (b - bb);
    return s;
}

ALWAYS_INLINE double fast_two_sum(double a, double b, double *e)
{
    double s = a + b;
    *e = b - (s - a);
    return s;
}

/* double-double sums, products and quotients on (hi, lo) pairs */
typedef struct {
    double hi, lo;
} dd_t;

ALWAYS_INLINE dd_t dd_add(dd_t a, dd_t b)
{
    double e, s = two_sum(a.hi, b.hi, &e);
    dd_t r;
    r.hi = fast_two_sum(s, e + (a.lo + b.lo), &r.lo);
    return r;
}

ALWAYS_INLINE dd_t dd_mul(dd_t a, dd_t b)
{
    double p = a.hi * b.hi, e = fma(a.hi, b.hi, -p);
    dd_t r;
    r.hi = fast_two_sum(p, e + (a.hi * b.lo + a.lo * b.hi), &r.lo);
    return r;
}

ALWAYS_INLINE double dd_div_hi(dd_t a, dd_t b)
{
    double q = a.hi / b.hi, p = q * b.hi, e = fma(q, b.hi, -p);
    double r = (((a.hi - p) - e) + a.lo) - q * b.lo;
    return q + r / b.hi;
}

/* sum_k c_k d^k, k >= 1, d = (x - root_hi) - root_lo */
ALWAYS_INLINE double taylor_at(double x, double root_hi, double root_lo, const double *c, int n)
{
    double d = (x - root_hi) - root_lo;
    return horner(c, n, d) * d;
}

#define TAYLOR_LO 8
#define RADIUS_LO 0.03125

/* f' near its root: the series replaces the formula within the radius */
#define PATCH(NAME, x, hi, d)                                                              \
    do {                                                                                  \
        double radius_ = (hi) ? NAME##_ROOT_RADIUS : RADIUS_LO;                            \
        double series_ = taylor_at((x), NAME##_ROOT_HI, NAME##_ROOT_LO, NAME##_TAYLOR,     \
                                   (hi) ? NAME##_TAYLOR_N : TAYLOR_LO);                    \
        (d) = fabs((x) - NAME##_ROOT_HI) < radius_ ? series_ : (d);                        \
    } while (0)

/* c g e^(z + zlo) for z <= -600 (clamped to -1e4), finite x: g = m 2^k (frexp), m c e^r
 * with z = n ln2 + r, then scaled by 2^(k + n) (ldexp rounds once into the subnormals).
 * Scalar: only the rare tail entries come here.  ±inf g gives ±inf with the sign of g c,
 * NaN g NaN. */
static inline double mul_exp_tail(double g, double c, double z, double zlo)
{
    if (!(fabs(g) <= DBL_MAX))
        return g * copysign(1.0, c);
    z = z < -1.0e4 ? -1.0e4 : z;
    zlo = fabs(zlo) < 1.0e-3 ? zlo : 0.0; /* past the clamp of z it is not small */
    int k;
    double m = frexp(g, &k);
    double n = nearbyint(z * INV_LN2);
    double r = fma(-n, LN2_HI, z);
    r = fma(-n, LN2_LO, r) + zlo;
    return ldexp((m * c) * exp(r), k + (int)n);
}

/* NaN in, x itself out (its sign too, whichever operand order a build takes) */
#define KEEP_NAN(x, f, d)                                                                 \
    do {                                                                                  \
        *(f) = (x) != (x) ? (x) : *(f);                                                   \
        *(d) = (x) != (x) ? (x) : *(d);                                                   \
    } while (0)

/* |d| below the normals or g not finite: the tail's product, else d g */
#define TAIL_OR_PRODUCT(d, g, expr) ((fabs(d) >= DBL_MIN && fabs(g) <= DBL_MAX) ? (d) * (g) : (expr))

/* log1p(e) for e in [0, 1] (or NaN), as FreeBSD msun's s_log1p.c: u = 1 + e = 2^k m,
 * m in [sqrt(2)/2, sqrt(2)), log(m) = f - (f^2/2 - s (f^2/2 + R(s^2))), s = f/(2 + f), and
 * the rounding error c of u put back as c/u. */
static const double LG[7] = {6.666666666666735130e-01, 3.999999999940941908e-01,
                             2.857142874366239149e-01, 2.222219843214978396e-01,
                             1.818357216161805012e-01, 1.531383769920937332e-01,
                             1.479819860511658591e-01};
static const double LN2_HI_LOG = 6.93147180369123816490e-01;
static const double LN2_LO_LOG = 1.90821492927058770002e-10;

ALWAYS_INLINE double log1p_01(double e, int hi)
{
    double u = 1.0 + e;
    double c = e - (u - 1.0);
    int big = u > 1.41421356237309504880;
    double m = big ? u * 0.5 : u;
    double k = big ? 1.0 : 0.0;
    double f = m - 1.0;
    double s = f / (2.0 + f), z = s * s;
    double R = hi ? z * horner(LG, 7, z) : z * horner(LG, 4, z);
    double hfsq = 0.5 * f * f;
    double corr = hi ? c / u : c * (2.0 - u); /* float32 results: 1/u to first order */
    return k * LN2_HI_LOG - ((hfsq - (s * (hfsq + R) + (k * LN2_LO_LOG + corr))) - f);
}

/* e^(z + zlo) / SCALE(hi) for z <= 0 (or NaN), zlo a small correction (float64 only) */
ALWAYS_INLINE double exp_big_lo(double z, double zlo, int hi)
{
    double eb = exp_big_le0(z, hi);
    zlo = fabs(zlo) < 1.0e-3 ? zlo : 0.0; /* past the clamp of z it is not small */
    return hi ? fma(eb, zlo, eb) : eb;
}

/* ------------------------------------------------------------------ hard_swish */
/* x(x + 3)/6 on [-3, 3] with x(x + 3) = hi + lo exact, as the NumPy kernel: q = hi/6 to
 * within an ULP by a product, r = hi - 6q + lo (hi - 6q exact by an fma), then q + r/6
 * with r/6 correctly rounded by one correction step (c = r/6 to within an ULP, r - 6c
 * exact): exact where the quotient is a rounding tie, so the tie is seen as one; the bits
 * of q + r/6 with a division, and no division */
static const double ONE_SIXTH = 1.0 / 6.0;
ALWAYS_INLINE double div6_exact(double hi, double lo)
{
    double q = hi * ONE_SIXTH;
    double r = fma(-6.0, q, hi) + lo;
    double c = r * ONE_SIXTH;
    return q + fma(fma(-6.0, c, r), ONE_SIXTH, c);
}

/* where h (a double) lies halfway between two float32 values */
ALWAYS_INLINE int float32_midpoint(double h)
{
    double a = fabs(h);
    double scaled = a * 0x1p150;
    double big = scaled + 0x1p52; /* an integer below 2^52: its bits end in it */
    int on_grid = (big - 0x1p52) == scaled && (asuint64(big) & 1u);
    int sub = a < 0x1p-126;
    int mid = (asuint64(a) & ((1ull << 29) - 1)) == (1ull << 28);
    return sub ? on_grid : mid;
}

/* f(x) = x/2 + c x^2 + ... for |x| < 2^-60: x/2, a tie broken upward (full); r
 * elsewhere, and for ±0 (not full: the fast rule's, for blocks without a rare element) */
ALWAYS_INLINE double half_plus_square(double x, double r, int full)
{
    if (!full)
        return x == 0.0 ? 0.5 * x : r;
    double h = 0.5 * x;
    int up = (h + h < x) | float32_midpoint(h);
    uint64_t u = asuint64(h);
    double hu = h > 0 ? asdouble(u + 1) : (h < 0 ? asdouble(u - 1) : 0x1p-1074);
    return fabs(x) < 0x1p-60 ? (up ? hu : h) : r;
}

/* the inputs where only the full rule's half_plus_square is right */
ALWAYS_INLINE int rare_half(double x)
{
    return fabs(x) < 0x1p-60 && x != 0.0;
}

/* f_NAME and f_NAME_fast from NAME_rule(x, hi, prm, f, d, full) */
#define FULL_AND_FAST(name)                                                                \
    ALWAYS_INLINE void f_##name(double x, int hi, double prm, double *f, double *d)        \
    {                                                                                     \
        name##_rule(x, hi, prm, f, d, 1);                                                 \
    }                                                                                     \
    ALWAYS_INLINE void f_##name##_fast(double x, int hi, double prm, double *f, double *d)   \
    {                                                                                     \
        name##_rule(x, hi, prm, f, d, 0);                                                 \
    }                                                                                     \
    ALWAYS_INLINE int rare_##name(double x)                                                \
    {                                                                                     \
        return rare_half(x);                                                              \
    }

ALWAYS_INLINE void hard_swish_rule(double x, int hi, double prm, double *f, double *d, int full)
{
    (void)prm;
    /* clamped by a maximum and a minimum: NaN becomes -3, and KEEP_NAN restores it */
    double xc = x > -3.0 ? x : -3.0;
    xc = xc < 3.0 ? xc : 3.0;
    double middle;
    if (hi) {
        double e, s = two_sum(xc, 3.0, &e);
        double p = xc * s, pe = fma(xc, s, -p);
        middle = div6_exact(p, pe + xc * e);
    } else {
        /* a float32 x: x^2 and 3x are exact in double, and |3x| >= x^2 on [-3, 3] */
        double x2 = xc * xc, x3 = 3.0 * xc, p = x3 + x2;
        middle = div6_exact(p, (x3 - p) + x2);
    }
    *f = half_plus_square(x, x < -3.0 ? -0.0 : (x >= 3.0 ? x : middle), full);
    double e2, s2 = two_sum(xc + xc, 3.0, &e2);
    double dm = div6_exact(s2, e2);
    *d = x < -3.0 ? 0.0 : (x >= 3.0 ? 1.0 : dm);
    KEEP_NAN(x, f, d);
}

FULL_AND_FAST(hard_swish)

NO_TAIL(hard_swish)

/* ------------------------------------------------------------------ elu */
/* prm = alpha (_fast.py passes it in [2^-64, 2^10] only) */
ALWAYS_INLINE void f_elu(double x, int hi, double prm, double *f, double *d)
{
    double neg = (x - fabs(x)) * 0.5;
    double eb, em;
    exp_expm1_le0(neg, hi, &eb, &em);
    *f = x > 0.0 ? x : (x == 0.0 ? x : em * prm);
    *d = x >= 0.0 ? 1.0 : (x == -INFINITY ? 0.0 : (eb * prm) * SCALE(hi));
    KEEP_NAN(x, f, d);
}

NO_RARE(elu)

ALWAYS_INLINE int in_tail_elu(double x, double prm)
{
    (void)prm;
    return x < -600.0 && x > -INFINITY;
}

ALWAYS_INLINE double tail_elu(double x, double g, double d, double prm)
{
    return TAIL_OR_PRODUCT(d, g, mul_exp_tail(g, prm, x, 0.0));
}

/* ------------------------------------------------------------------ celu */
/* z = x/alpha (x <= 0, clamped at -1e4 alpha) with its rounding error zl, as the NumPy
 * kernel's _celu_exponent: e^z amplifies the error of the quotient by |z|.  prm = alpha.
 * Selects, not fmin/fmax (calls) nor a test of alpha (gcc then keeps the loop scalar);
 * z is x times 1/alpha, its error put back in zl as well (float64 results: for float32 ones
 * the error of z moves e^z by |z| 2^-53 at most, 2^-46 where the result is not 0). */
ALWAYS_INLINE double celu_exponent(double x, int hi, double prm, double *zl)
{
    double lowest = -1.0e4 * prm; /* alpha <= 2^10 (_fast.PARAMS) */
    double xc = x > 0.0 ? 0.0 : x;
    xc = xc < lowest ? lowest : xc;
    double inv = 1.0 / prm;
    double z = xc * inv, p = prm * z, e = fma(prm, z, -p);
    *zl = hi ? ((xc - p) - e) * inv : 0.0; /* alpha in [2^-64, 2^10] (_fast.py): no over/underflow */
    return z;
}

ALWAYS_INLINE void f_celu(double x, int hi, double prm, double *f, double *d)
{
    double zl, z = celu_exponent(x, hi, prm, &zl);
    double eb, em;
    exp_expm1_le0(z, hi, &eb, &em);
    double ez = eb * SCALE(hi); /* e^z, for the correction e^z zl */
    double fm = hi ? em + ez * zl : em, dm = hi ? eb + eb * zl : eb;
    *f = x >= 0.0 ? x : fm * prm;
    *d = x >= 0.0 ? 1.0 : (x == -INFINITY ? 0.0 : dm * SCALE(hi));
    KEEP_NAN(x, f, d);
}

NO_RARE(celu)

ALWAYS_INLINE int in_tail_celu(double x, double prm)
{
    return x / prm < -600.0 && x > -INFINITY;
}

ALWAYS_INLINE double tail_celu(double x, double g, double d, double prm)
{
    double zl, z = celu_exponent(x, 1, prm, &zl);
    return TAIL_OR_PRODUCT(d, g, mul_exp_tail(g, 1.0, z, zl));
}

/* ------------------------------------------------------------------ hard_sigmoid */
/* (x + 3)/6 on [-3, 3], x + 3 exact as hi + lo, as the NumPy kernel */
ALWAYS_INLINE void f_hard_sigmoid(double x, int hi, double prm, double *f, double *d)
{
    (void)hi;
    (void)prm;
    double xc = x < -3.0 ? -3.0 : (x > 3.0 ? 3.0 : x);
    double e, s = two_sum(xc, 3.0, &e);
    *f = div6_exact(s, e);
    *d = (x >= -3.0 && x < 3.0) ? 1.0 / 6.0 : 0.0;
    KEEP_NAN(x, f, d);
}

NO_RARE(hard_sigmoid)

NO_TAIL(hard_sigmoid)

/* ------------------------------------------------------------------ softsign */
/* x/(1 + |x|), x clamped at 1e300 (then +-1), as the NumPy kernel; f' = 1/(1 + |x|)^2 rounded
 * once: for float64 results 1 + |x| = sh + sl exactly, its square as ph + pl, then one
 * division and a correction step, while |x| < 1e100; beyond, r^2 with r = 1/(1 + |x|),
 * which never overflows (and the tail's g f' is (g r) r) */
ALWAYS_INLINE void f_softsign(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    double a = fabs(x), ac = a < 1.0e300 ? a : 1.0e300;
    double xc = x < -1.0e300 ? -1.0e300 : (x > 1.0e300 ? 1.0e300 : x);
    double den = 1.0 + ac;
    *f = xc / den;
    double dv;
    if (hi) {
        double sl, sh = two_sum(1.0, ac, &sl);
        double ph = sh * sh, pl = fma(sh, sh, -ph) + 2.0 * (sh * sl);
        double q = 1.0 / ph, e = fma(-q, ph, 1.0) - q * pl;
        double r = 1.0 / den;
        dv = ac < 1.0e100 ? fma(e, q, q) : r * r;
    } else {
        dv = 1.0 / (den * den); /* a float32 |x|: no overflow, and two roundings of double */
    }
    *d = dv;
    KEEP_NAN(x, f, d);
}

NO_RARE(softsign)

ALWAYS_INLINE int in_tail_softsign(double x, double prm)
{
    (void)prm;
    return fabs(x) >= 1.0e100 && fabs(x) < INFINITY;
}

ALWAYS_INLINE double tail_softsign(double x, double g, double d, double prm)
{
    (void)d;
    (void)prm;
    double r = 1.0 / (1.0 + fabs(x));
    return (g * r) * r;
}

/* ------------------------------------------------------------------ softplus, log_sigmoid */
/* log(1 + e^(b t))/b and sigma(b t), b = beta (1 for log_sigmoid, whose t is -x): with
 * p = b t rounded and its error pl, e = e^(-|p| - sign(p) pl); f = max(t, 0) + log1p(e)/b,
 * e/b once e < 2^-60. */
ALWAYS_INLINE void softplus_core(double t, int hi, double b, double *f, double *d)
{
    double p = b * t, pl = fma(b, t, -p);
    pl = fabs(p) < 1.0e4 ? pl : 0.0;
    double z = neg_abs(p), zl = p < 0.0 ? pl : -pl;
    double eb = exp_big_lo(z, zl, hi);
    double e = eb * SCALE(hi);
    double inv = 1.0 / b;
    double small = (eb * inv) * SCALE(hi);
    double lp = e < 0x1p-60 ? small : log1p_01(e, hi) * inv;
    double pos = t > 0.0 ? t : 0.0;
    *f = t != t ? t : pos + lp;
    /* e/(1+e) for t < 0, 1/(1+e) else, scaled as the sigmoid's */
    double dv = ((t < 0.0 ? eb : UNSCALE(hi)) / (e + 1.0)) * SCALE(hi);
    *d = t == -INFINITY ? 0.0 : dv; /* not the clamped exponential's tiny value */
}

ALWAYS_INLINE void f_softplus(double x, int hi, double prm, double *f, double *d)
{
    softplus_core(x, hi, prm, f, d);
    KEEP_NAN(x, f, d);
}

NO_RARE(softplus)

ALWAYS_INLINE int in_tail_softplus(double x, double prm)
{
    return x * prm < -650.0 && x > -INFINITY;
}

ALWAYS_INLINE double tail_softplus(double x, double g, double d, double prm)
{
    double p = prm * x, pl = fabs(p) < 1.0e4 ? fma(prm, x, -p) : 0.0;
    return TAIL_OR_PRODUCT(d, g, mul_exp_tail(g, 1.0, p, pl));
}

ALWAYS_INLINE void f_log_sigmoid(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    double sp;
    softplus_core(-x, hi, 1.0, &sp, d);
    *f = -sp;
    KEEP_NAN(x, f, d);
}

NO_RARE(log_sigmoid)

ALWAYS_INLINE int in_tail_log_sigmoid(double x, double prm)
{
    (void)prm;
    return x > 650.0 && x < INFINITY;
}

ALWAYS_INLINE double tail_log_sigmoid(double x, double g, double d, double prm)
{
    (void)prm;
    return TAIL_OR_PRODUCT(d, g, mul_exp_tail(g, 1.0, -x, 0.0));
}

static const double SILU_ROOT_HI = -1.2784645427610737, SILU_ROOT_LO = -1.0946994183093437e-16;
static const double SILU_ROOT_RADIUS = 0.5;
static const double SILU_TAYLOR[24] = {0.2178117057198001, 0.1466487969969469, 0.018874814223782312, -0.015222655223188032, -0.006606589138356696, 0.000126627410081122, 0.0007985218818397998, 0.00018570724361186496, -4.090534237428612e-05, -2.9733542213263917e-05, -2.942631888842464e-06, 2.346029682463866e-06, 8.599695028268575e-07, -3.051244750055421e-08, -9.266646309267441e-08, -1.8877622907727957e-08, 4.619379769031606e-09, 2.9177603026903803e-09, 2.3648315053103244e-10, -2.251366201881081e-10, -7.50344609385287e-11, 3.998547874723996e-12, 8.04274075537398e-12, 1.4842855116792256e-12};
#define SILU_TAYLOR_N 24
static const double GELU_ROOT_HI = -0.7517915246935645, GELU_ROOT_LO = 1.4956759177009883e-17;
static const double GELU_ROOT_RADIUS = 1.0;
static const double GELU_TAYLOR[32] = {0.4314939923140469, 0.388284982990552, -0.018199676398671087, -0.1140082332972217, -0.014771522148244337, 0.019421679838189067, 0.004539228379125415, -0.002239538068073497, -0.0007448268386746817, 0.00018633974623233514, 8.615947861116571e-05, -1.121438018842664e-05, -7.74846130700372e-06, 4.3284506257392273e-07, 5.702764979242107e-07, -1.6044265494246427e-09, -3.5459866461783865e-08, -1.396942086426202e-09, 1.90319840501314e-09, 1.4506418938779426e-10, -8.950037692726255e-11, -9.950340824808053e-12, 3.725967039270119e-12, 5.482292964742324e-13, -1.3820118240601056e-13, -2.5871508475507507e-14, 4.578167824271334e-15, 1.0789662518230159e-15, -1.3507094681149317e-16, -4.0514385281601486e-17, 3.508210778008599e-18, 1.386912168501325e-18};
#define GELU_TAYLOR_N 32
static const double GELU_TANH_ROOT_HI = -0.7524614220710163, GELU_TANH_ROOT_LO = 3.635560509207687e-17;
static const double GELU_TANH_ROOT_RADIUS = 0.5;
static const double GELU_TANH_TAYLOR[27] = {0.4304000910248585, 0.38751844613578895, -0.01578285352184803, -0.11394448308095899, -0.01661932834305256, 0.019682309459833118, 0.005261059254921912, -0.0024227318458750974, -0.0009274420230205449, 0.00026392764052681053, 0.00012425227802639782, -3.4956171694436116e-05, -1.5950896871645105e-05, 5.918611710894005e-06, 2.4335516344299543e-06, -9.898647747433667e-07, -4.3102482988029016e-07, 1.4157556987729473e-07, 7.520740909289922e-08, -1.6978217459781023e-08, -1.196180847972441e-08, 1.7637802707907564e-09, 1.744987137846621e-09, -1.708811216951738e-10, -2.433873557833449e-10, 1.687283177355558e-11, 3.393384490409003e-11};
#define GELU_TANH_TAYLOR_N 27
static const double MISH_ROOT_HI = -1.1924312145154952, MISH_ROOT_LO = -4.8484829848031044e-17;
static const double MISH_ROOT_RADIUS = 0.5;
static const double MISH_TAYLOR[27] = {0.2669479140495345, 0.20473126408010586, 0.04190782104360987, -0.020271822716684245, -0.01582112656173338, -0.0033606849270232685, 0.0010924055409445854, 0.0009898181021289196, 0.00025412936386191073, -4.1961496031696126e-05, -5.582891567360688e-05, -1.72992708103044e-05, 9.427361327376651e-07, 2.9088199364912223e-06, 1.071676702702074e-06, 2.6879417855557728e-08, -1.4117255919499382e-07, -6.174424363104907e-08, -5.460186173028381e-09, 6.3895954615089855e-09, 3.3604012383661332e-09, 4.817646300218697e-10, -2.6751871594311224e-10, -1.7442209713382678e-10, -3.3904729895707114e-11, 1.0101727316036154e-11, 8.681382594457511e-12};
#define MISH_TAYLOR_N 27


#endif
