/* The scalar rules of the wider family's smooth kernels (gelu, gelu_tanh, silu, mish,
 * softplus, elu, log_sigmoid, hard_swish), as rules_smooth.h's: computed in double and
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
/* x(x + 3)/6 on [-3, 3] with x(x + 3) exact (two_sum, fma), as the NumPy kernel: the
 * same bits */
ALWAYS_INLINE double div6_exact(double hi, double lo)
{
    double q = hi / 6.0, p = 6.0 * q, e = fma(6.0, q, -p);
    double r = ((hi - p) - e) + lo;
    return q + r / 6.0;
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
    (void)hi;
    (void)prm;
    double xc = x < -3.0 ? -3.0 : (x > 3.0 ? 3.0 : x);
    double e, s = two_sum(xc, 3.0, &e);
    double p = xc * s, pe = fma(xc, s, -p);
    double middle = div6_exact(p, pe + xc * e);
    *f = half_plus_square(x, x < -3.0 ? -0.0 : (x >= 3.0 ? x : middle), full);
    double e2, s2 = two_sum(xc + xc, 3.0, &e2);
    double dm = div6_exact(s2, e2);
    *d = x < -3.0 ? 0.0 : (x >= 3.0 ? 1.0 : dm);
    KEEP_NAN(x, f, d);
}

FULL_AND_FAST(hard_swish)

ALWAYS_INLINE int in_tail_hard_swish(double x, double prm)
{
    (void)x;
    (void)prm;
    return 0;
}

ALWAYS_INLINE double tail_hard_swish(double x, double g, double d, double prm)
{
    (void)x;
    (void)prm;
    return d * g;
}

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

/* ------------------------------------------------------------------ silu */
/* x clamped where f and g f' no longer depend on it: -1e4 (float64), -200 (float32: there
 * 200 e^-200 FLT_MAX rounds to 0) */
#define SMOOTH_RELU_LOWEST(hi) ((hi) ? -1.0e4 : -200.0)

ALWAYS_INLINE void silu_rule(double x, int hi, double prm, double *f, double *d, int full)
{
    (void)prm;
    const double lowest = SMOOTH_RELU_LOWEST(hi);
    double xc = x < lowest ? lowest : (x > -lowest ? -lowest : x);
    double eb = exp_big_le0(neg_abs(xc), hi); /* e^-|x| / SCALE */
    double e = eb * SCALE(hi), den = e + 1.0;
    double fv, dv;
    if (hi) {
        /* x < 0: (x e^x)/(1 + e), the exponential scaled; x >= 0: x/(1 + e^-x); f':
         * ((1 + x) + e) e^x/(1 + e)^2 and (1 + e + x e)/(1 + e)^2: one division each */
        double q = (x < 0.0 ? xc * eb : x) / den;
        fv = x < 0.0 ? q * SCALE(hi) : q;
        double qd = (x < 0.0 ? ((1.0 + xc) + e) * eb : den + xc * e) / square_of_one_plus(e);
        dv = x < 0.0 ? qd * SCALE(hi) : qd;
    } else {
        /* float32 results: the same with one division each (a few double ULP apart) */
        fv = (x < 0.0 ? xc * eb : x) / den;
        dv = (x < 0.0 ? ((1.0 + xc) + e) * eb : den + xc * e) / (den * den);
    }
    *f = half_plus_square(x, fv, full);
    PATCH(SILU, x, hi, dv);
    *d = x == -INFINITY ? -0.0 : dv; /* f' < 0 in the left tail: the limit is -0 */
    KEEP_NAN(x, f, d);
}

FULL_AND_FAST(silu)

ALWAYS_INLINE int in_tail_silu(double x, double prm)
{
    (void)prm;
    return x < -600.0 && x > -INFINITY;
}

ALWAYS_INLINE double tail_silu(double x, double g, double d, double prm)
{
    (void)prm;
    double xc = x < -1.0e4 ? -1.0e4 : x;
    return TAIL_OR_PRODUCT(d, g, mul_exp_tail(g, 1.0 + xc, xc, 0.0));
}

/* ------------------------------------------------------------------ mish */
/* The factor of e^x in f' for x < 0, e = e^x, n = e(e + 2), dn = n + 2:
 * (e + 2)/dn + 4x(n + 1)/(dn^2 (1 + e)); the two terms cancel about the root, so for
 * float64 results it is formed in double-double (e taken as exact). */
ALWAYS_INLINE double mish_left_factor(double xc, double e, int hi)
{
    if (!hi) {
        double n = e * (e + 2.0), dn = n + 2.0;
        return (e + 2.0) / dn + (4.0 * xc * (n + 1.0)) / (dn * dn * (1.0 + e));
    }
    dd_t e2, n, dn, one_e, num, den;
    e2.hi = two_sum(e, 2.0, &e2.lo);
    dd_t ed = {e, 0.0};
    n = dd_mul(ed, e2);
    dd_t two = {2.0, 0.0}, one = {1.0, 0.0};
    dn = dd_add(n, two);
    one_e.hi = two_sum(1.0, e, &one_e.lo);
    dd_t x4 = {4.0 * xc, 0.0};
    num = dd_mul(x4, dd_add(n, one));
    den = dd_mul(dd_mul(dn, dn), one_e);
    double q2 = dd_div_hi(num, den);
    /* (e2/dn) + q2 with e2/dn in double-double */
    double q1 = e2.hi / dn.hi, p = q1 * dn.hi, pe = fma(q1, dn.hi, -p);
    double r1 = ((((e2.hi - p) - pe) + e2.lo) - q1 * dn.lo) / dn.hi;
    dd_t a = {q1, r1}, b = {q2, 0.0};
    return dd_add(a, b).hi;
}

ALWAYS_INLINE void f_mish(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    const double lowest = SMOOTH_RELU_LOWEST(hi);
    double xc = x < lowest ? lowest : (x > -lowest ? -lowest : x);
    double eb = exp_big_le0(neg_abs(xc), hi); /* e^-|x| / SCALE */
    double e = eb * SCALE(hi);
    /* x < 0: x (e + 2)/(e(e + 2) + 2) e^x; x >= 0: x (1 + 2t)/(1 + 2t(1 + t)), t = e^-x */
    double n = e * (e + 2.0), dn = n + 2.0;
    double lower_f = (((xc * (e + 2.0)) / dn) * eb) * SCALE(hi);
    double big_d = 1.0 + 2.0 * e * (1.0 + e);
    double tsp = (1.0 + 2.0 * e) / big_d;
    *f = x < 0.0 ? lower_f : x * tsp;
    double lower = (mish_left_factor(xc, e, hi) * eb) * SCALE(hi);
    double upper = tsp + xc * (4.0 * e * e * (1.0 + e)) / (big_d * big_d);
    double dv = x < 0.0 ? lower : upper;
    PATCH(MISH, x, hi, dv);
    *d = x == -INFINITY ? -0.0 : dv; /* f' < 0 in the left tail: the limit is -0 */
    KEEP_NAN(x, f, d);
}

NO_RARE(mish)

ALWAYS_INLINE int in_tail_mish(double x, double prm)
{
    (void)prm;
    return x < -600.0 && x > -INFINITY;
}

ALWAYS_INLINE double tail_mish(double x, double g, double d, double prm)
{
    (void)prm;
    double xc = x < -1.0e4 ? -1.0e4 : x;
    double e = exp(xc);
    return TAIL_OR_PRODUCT(d, g, mul_exp_tail(g, mish_left_factor(xc, e, 1), xc, 0.0));
}

/* ------------------------------------------------------------------ gelu_tanh */
/* x sigma(v), v = 2u = C1 x + C3 x^3 (hi + lo for float64 results, every product exact) */
static const double GT_C1_HI = 1.5957691216057308, GT_C1_LO = -9.96930880911092e-17;
static const double GT_C3_HI = 0.07135481627260025, GT_C3_LO = -6.175149918155315e-19;

/* v = vh + vl and x v' = xdv (hi + lo); x clamped to [lowest, 1e30] by the caller */
ALWAYS_INLINE void gelu_tanh_v(double xc, int hi, double *vh, double *vl, dd_t *xdv)
{
    if (!hi) {
        double x2 = xc * xc;
        *vh = xc * (GT_C1_HI + GT_C3_HI * x2);
        *vl = 0.0;
        xdv->hi = xc * (GT_C1_HI + 3.0 * GT_C3_HI * x2);
        xdv->lo = 0.0;
        return;
    }
    double x2 = xc * xc, x2e = fma(xc, xc, -x2);
    double x3 = x2 * xc, x3e = fma(x2, xc, -x3) + x2e * xc;
    double p1 = GT_C1_HI * xc, e1 = fma(GT_C1_HI, xc, -p1) + GT_C1_LO * xc;
    double p3 = GT_C3_HI * x3, e3 = fma(GT_C3_HI, x3, -p3) + (GT_C3_LO * x3 + GT_C3_HI * x3e);
    double es, s = two_sum(p1, p3, &es);
    double lo = es + e1 + e3;
    *vh = s + lo;
    *vl = lo - (*vh - s);
    double t3 = 3.0 * p3, t3e = fma(3.0, p3, -t3);
    dd_t ts, rest = {t3e, e1 + 3.0 * e3};
    ts.hi = two_sum(p1, t3, &ts.lo);
    *xdv = dd_add(ts, rest);
}

/* ((1 + e) + x v')/(1 + e)^2 for x < 0, e = e^v (double-double for float64 results) */
ALWAYS_INLINE double gelu_tanh_left_factor(double e, dd_t xdv, int hi)
{
    if (!hi) {
        double one_e = 1.0 + e;
        return (one_e + xdv.hi) / (one_e * one_e);
    }
    dd_t one_e;
    one_e.hi = two_sum(1.0, e, &one_e.lo);
    return dd_div_hi(dd_add(one_e, xdv), dd_mul(one_e, one_e));
}

/* float32 results: below -14, v < -200 and 609 e^-200 FLT_MAX rounds to 0 */
#define GELU_TANH_LOWEST(hi) ((hi) ? -1.0e30 : -14.0)

ALWAYS_INLINE void f_gelu_tanh(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    const double lowest = GELU_TANH_LOWEST(hi);
    double xc = x < lowest ? lowest : (x > -lowest ? -lowest : x);
    double vh, vl;
    dd_t xdv;
    gelu_tanh_v(xc, hi, &vh, &vl, &xdv);
    int neg = x < 0.0;
    /* e^-|v|, its correction of v's sign */
    double eb = exp_big_lo(neg_abs(vh), neg ? vl : -vl, hi);
    double e = eb * SCALE(hi), den = e + 1.0;
    *f = neg ? ((xc / den) * eb) * SCALE(hi) : x / den;
    double lower = (gelu_tanh_left_factor(e, xdv, hi) * eb) * SCALE(hi);
    double upper = (1.0 + xdv.hi * (e / den)) / den;
    double dv = neg ? lower : upper;
    PATCH(GELU_TANH, x, hi, dv);
    *d = x == -INFINITY ? -0.0 : dv; /* f' < 0 in the left tail: the limit is -0 */
    KEEP_NAN(x, f, d);
}

NO_RARE(gelu_tanh)

ALWAYS_INLINE int in_tail_gelu_tanh(double x, double prm)
{
    (void)prm;
    return x < -18.0 && x > -INFINITY;
}

ALWAYS_INLINE double tail_gelu_tanh(double x, double g, double d, double prm)
{
    (void)prm;
    double xc = x < -1.0e30 ? -1.0e30 : x, vh, vl;
    dd_t xdv;
    gelu_tanh_v(xc, 1, &vh, &vl, &xdv);
    double e = exp(vh < -1.0e4 ? -1.0e4 : vh);
    return TAIL_OR_PRODUCT(d, g, mul_exp_tail(g, gelu_tanh_left_factor(e, xdv, 1), vh, vl));
}

/* ------------------------------------------------------------------ gelu */
/* x Phi(x), Phi(x) = erfc(-x/sqrt 2)/2 by s_erf.c's rational approximations in the Gaussian
 * variable: A |z| < 0.84375 (erf by a series in z^2), B |z| < 1.25 (erf about z = 1),
 * C beyond (erfc = e^(-z^2) e^(-0.5625 + R/S)/z, two fits split at |z| = 1/0.35), with
 * e^(-x^2/2) from x split exactly, so that no rounding of x^2 is amplified. */
static const double ERX = 8.45062911510467529297e-01;
static const double ERF_PP[5] = {1.28379167095512558561e-01, -3.25042107247001499370e-01,
                                 -2.84817495755985104766e-02, -5.77027029648944159157e-03,
                                 -2.37630166566501626084e-05};
static const double ERF_QQ[6] = {1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02,
                                 5.08130628187576562776e-03, 1.32494738004321644526e-04,
                                 -3.96022827877536812320e-06};
static const double ERF_PA[7] = {-2.36211856075265944077e-03, 4.14856118683748331666e-01,
                                 -3.72207876035701323847e-01, 3.18346619901161753674e-01,
                                 -1.10894694282396677476e-01, 3.54783043256182359371e-02,
                                 -2.16637559486879084300e-03};
static const double ERF_QA[7] = {1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01,
                                 7.18286544141962662868e-02, 1.26171219808761642112e-01,
                                 1.36370839120290507362e-02, 1.19844998467991074170e-02};
static const double ERF_RA[8] = {-9.86494403484714822705e-03, -6.93858572707181764372e-01,
                                 -1.05586262253232909814e+01, -6.23753324503260060396e+01,
                                 -1.62396669462573470355e+02, -1.84605092906711035994e+02,
                                 -8.12874355063065934246e+01, -9.81432934416914548592e+00};
static const double ERF_SA[9] = {1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02,
                                 4.34565877475229228821e+02, 6.45387271733267880336e+02,
                                 4.29008140027567833386e+02, 1.08635005541779435134e+02,
                                 6.57024977031928170135e+00, -6.04244152148580987438e-02};
static const double ERF_RB[7] = {-9.86494292470009928597e-03, -7.99283237680523006574e-01,
                                 -1.77579549177547519889e+01, -1.60636384855821916062e+02,
                                 -6.37566443368389627722e+02, -1.02509513161107724954e+03,
                                 -4.83519191608651397019e+02};
static const double ERF_SB[8] = {1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02,
                                 1.53672958608443695994e+03, 3.19985821950859553908e+03,
                                 2.55305040643316442583e+03, 4.74528541206955367215e+02,
                                 -2.24409524465858183362e+01};
static const double G_SQRT2_HI = 1.4142135623730951, G_SQRT2_LO = -9.667293313452913e-17;
static const double G_INV_SQRT2_HI = 0.7071067811865476, G_INV_SQRT2_LO = -4.833646656726457e-17;
static const double G_INV_SQRT_2PI = 0.3989422804014327;
#define GELU_A_END (0.84375 * 1.4142135623730951)
#define GELU_B_END (1.25 * 1.4142135623730951)
#define GELU_C_SPLIT (1.4142135623730951 / 0.35)

/* e^(z + w + zl) / SCALE(hi) with z exact and a multiple of 2^-51 (z <= -1.5), w = O(1), zl
 * small: the exponent n from z + w, r = z - n ln2 exact, then w and the low parts added */
ALWAYS_INLINE double exp_sum_big(double z, double w, double zl, int hi)
{
    const double shift = hi ? SHIFT + (1023 + 512) : SHIFT + 1023;
    double kd = fma(z + w, INV_LN2, shift);
    uint64_t ki = asuint64(kd);
    kd -= shift;
    double r = fma(kd, -LN2_HI, z);
    r = r + w;
    r = r + (hi ? fma(kd, -LN2_LO, zl) : 0.0);
    double sbig = asdouble(ki << 52), q, r2 = r * r;
    if (hi) {
        double r4 = r2 * r2;
        const double *c = EXPM1_HI;
        double c01 = fma(c[1], r, c[0]), c23 = fma(c[3], r, c[2]), c45 = fma(c[5], r, c[4]);
        double c67 = fma(c[7], r, c[6]), c89 = fma(c[9], r, c[8]), cab = fma(c[11], r, c[10]);
        double c03 = fma(c23, r2, c01), c47 = fma(c67, r2, c45), c8b = fma(cab, r2, c89);
        q = fma(fma(c8b, r4, c47), r4, c03);
    } else {
        q = horner(EXPM1_LO, 6, r);
    }
    return fma(sbig, fma(r2, q, r), sbig);
}

/* a = |x| clamped: float64 results 40 (beyond, e^(-a^2/2) rounds every result to 0 but the
 * tails'), float32 results 20 (20 e^-200 FLT_MAX rounds to 0) */
#define GELU_A_MAX(hi) ((hi) ? 40.0 : 20.0)

ALWAYS_INLINE void gelu_rule(double x, int hi, double prm, double *f, double *d, int full)
{
    (void)prm;
    const double amax = GELU_A_MAX(hi);
    double a = fabs(x) > amax ? amax : fabs(x); /* NaN stays */
    int neg = x < 0.0;
    int in_a = a < GELU_A_END, in_b = a < GELU_B_END, in_c1 = a < GELU_C_SPLIT;

    /* the three regions' rational functions, one division */
    double t = a * a * 0.5;                                       /* A: z^2 */
    double sb = ((a - G_SQRT2_HI) - G_SQRT2_LO) * G_INV_SQRT2_HI; /* B: z - 1 */
    double ac = a < GELU_B_END ? GELU_B_END : a;
    double sc = 2.0 / (ac * ac);                                  /* C: 1/z^2 */
    double num_a = horner(ERF_PP, 5, t), den_a = horner(ERF_QQ, 6, t);
    double num_b = horner(ERF_PA, 7, sb), den_b = horner(ERF_QA, 7, sb);
    double num_c = in_c1 ? horner(ERF_RA, 8, sc) : horner(ERF_RB, 7, sc);
    double den_c = in_c1 ? horner(ERF_SA, 9, sc) : horner(ERF_SB, 8, sc);
    double q = (in_a ? num_a : (in_b ? num_b : num_c)) / (in_a ? den_a : (in_b ? den_b : den_c));

    /* A: erf(z) = z + z y, z = zh + zl */
    double zh = G_INV_SQRT2_HI * a, zl = fma(G_INV_SQRT2_HI, a, -zh) + G_INV_SQRT2_LO * a;
    double erf_a = zh + (zh * q + zl * (1.0 + q));
    double erfc_a = zh < 0.25 ? 1.0 - erf_a : 0.5 - (((zh - 0.5) + zh * q) + zl * (1.0 + q));
    double phi_a = neg ? 0.5 * erfc_a : 0.5 + 0.5 * erf_a;
    /* B */
    double phi_b = neg ? ((1.0 - ERX) - q) * 0.5 : (1.0 + ERX + q) * 0.5;
    double phi_ab = in_a ? phi_a : phi_b;

    /* e^(-a^2/2): a = ah + al (Veltkamp), a^2 = ah^2 + (2 ah al + al^2), ah^2 exact */
    double ah, al, gz, gzl;
    if (hi) {
        double tt = a * 134217729.0;
        ah = tt - (tt - a);
        al = a - ah;
        gz = ah * ah * -0.5;
        gzl = -(ah * al + al * al * 0.5);
    } else {
        gz = -t;
        gzl = 0.0;
    }
    double w = q - 0.5625;
    /* C: Phi(-a) = e^(-a^2/2 + w)/(sqrt 2 a); x Phi(x) = -that/sqrt 2 (x = -a), and
     * x - that/sqrt 2 (x = a) */
    double ec = exp_sum_big(gz < -1.5 ? gz : -1.5, w, gzl, hi);
    double tail_c = (ec * G_INV_SQRT2_HI) * SCALE(hi);
    double xc = x > 1.0e300 ? 1.0e300 : (x < -1.0e300 ? -1.0e300 : x);
    double fv = in_b ? xc * phi_ab : (neg ? -tail_c : x - tail_c);
    fv = x > 64.0 ? x : fv;
    *f = half_plus_square(x, x == -INFINITY ? -0.0 : fv, full);

    /* f' = Phi(x) + x phi(x); C, x < 0: e^(-a^2/2) (e^w/(sqrt 2 a) - a/sqrt(2 pi)) */
    double e0 = exp_sum_big(gz, 0.0, gzl, hi); /* e^(-a^2/2) / SCALE */
    double ew = exp_le0(w, hi);
    double pdf = e0 * G_INV_SQRT_2PI;          /* phi(a) / SCALE */
    double rc = ew / (G_SQRT2_HI * a);         /* Phi(-a) e^(a^2/2) */
    double dv_ab = phi_ab + (xc * pdf) * SCALE(hi);
    double dv_lo = (e0 * (rc - a * G_INV_SQRT_2PI)) * SCALE(hi);
    double dv_hi = (1.0 - (e0 * rc) * SCALE(hi)) + (a * pdf) * SCALE(hi);
    double dv = in_b ? dv_ab : (neg ? dv_lo : dv_hi);
    PATCH(GELU, x, hi, dv);
    dv = x > 64.0 ? 1.0 : dv;
    *d = x == -INFINITY ? -0.0 : dv; /* f' < 0 in the left tail: the limit is -0 */
    KEEP_NAN(x, f, d);
}

FULL_AND_FAST(gelu)

ALWAYS_INLINE int in_tail_gelu(double x, double prm)
{
    (void)prm;
    return x < -36.0 && x > -INFINITY;
}

/* g f'(x) for x < -36: g e^(-a^2/2) (Phi(-a) e^(a^2/2) - a/sqrt(2 pi)) */
static inline double gelu_tail_product(double x, double g)
{
    double a = -x > 64.0 ? 64.0 : -x;
    double sc = 2.0 / (a * a);
    double rs = a < GELU_C_SPLIT ? horner(ERF_RA, 8, sc) / horner(ERF_SA, 9, sc)
                                 : horner(ERF_RB, 7, sc) / horner(ERF_SB, 8, sc);
    double c = exp(rs - 0.5625) / (G_SQRT2_HI * a) - a * G_INV_SQRT_2PI;
    double tt = a * 134217729.0, ah = tt - (tt - a), al = a - ah;
    return mul_exp_tail(g, c, ah * ah * -0.5, -(ah * al + al * al * 0.5));
}

ALWAYS_INLINE double tail_gelu(double x, double g, double d, double prm)
{
    (void)prm;
    return TAIL_OR_PRODUCT(d, g, gelu_tail_product(x, g));
}

#endif
