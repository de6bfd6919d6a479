/* The scalar rules of the smooth kernels (kind SMOOTH in kernels.def), computed in double
 * and rounded once by the loop, as the NumPy reference kernels do.
 *
 * f_NAME(x, hi, prm, &f, &d) sets f(x) and f'(x); hi is 1 for float64 results (full double
 * accuracy), 0 for float32 results (the LO polynomials).  After inlining, each loop keeps
 * only what it uses.
 *
 * The backward is g f'(x) rounded once.  For float64 results f'(x) itself may be subnormal
 * or 0 (the sigmoid's for |x| > 708) while g f'(x) is not, or g is ±inf: then d g loses
 * digits or gives inf 0 = NaN.  in_tail_NAME(x, prm) says f'(x) may be below the smallest
 * normal double there (and is != 0: x finite); tail_NAME(x, g, d, prm) gives g f'(x) there,
 * d the f'(x) computed as usual.
 *
 * f_NAME_fast(x, hi, prm, &f, &d) is the rule without what only rare inputs need, and
 * rare_NAME(x) says where its f may differ from f_NAME's (its f' never does): the loop takes the fast rule for blocks
 * without a rare element (NO_RARE(NAME): none, the rule itself).  (For float32 results the double f'(x), and the clamps, leave room for
 * every float32 g, and the tails are not looked at.)
 */
#ifndef KERNELS_RULES_SMOOTH_H
#define KERNELS_RULES_SMOOTH_H

#include "reductions.h"

/* the float32 sigmoid's x is clamped to [-200, 200], for its backward as EXP_LOWEST_LO;
 * sigmoid(200) = 1 - e^-200 rounds to 1, and (1 + e^200)^2 (5e173) is far from overflow */
static const double SIGMOID_X_MAX_LO = 200.0;
/* e^-500, correctly rounded: the step of exp_product's product of normal factors */
static const double EXP_M500 = 0x1.9265e78d4438dp-722;
static const double SELU_LAMBDA = 1.0507009873554804934193349852946;
static const double SELU_LAMBDA_ALPHA = 1.7580993408473768599402175208123;

/* (1 + e)^2 for e in [0, 1] as 1 + e (2 + e), as square_of_one_plus in _stable.py: the
 * square of a rounded 1 + e rounds twice (up to 2.5 ULP), this about once.  Used for float64
 * results; for float32 results the double's error is far below their half ULP either way. */
ALWAYS_INLINE double square_of_one_plus(double e)
{
    return e * (2.0 + e) + 1.0;
}

/* c g e^z for z <= -700 and finite g, as exp_product in _stable.py: e^z taken as e^-500
 * ... e^-500 e^r, r in [-700, 0], from g down; every factor normal.  ±inf and NaN g as
 * they are (e^z > 0). */
ALWAYS_INLINE double exp_product(double g, double z, double c)
{
    if (!(fabs(g) <= DBL_MAX))
        return g;
    double p = (g * EXP_M500) * c, r = z + 500.0;
    for (int k = 0; k < 4 && r < -700.0 && p != 0.0; k++) {
        p *= EXP_M500;
        r += 500.0;
    }
    return p * exp_le0(r, 1);
}

#define NO_RARE(name)                                                                      \
    ALWAYS_INLINE void f_##name##_fast(double x, int hi, double prm, double *f, double *d)   \
    {                                                                                     \
        f_##name(x, hi, prm, f, d);                                                       \
    }                                                                                     \
    ALWAYS_INLINE int rare_##name(double x)                                                \
    {                                                                                     \
        (void)x;                                                                          \
        return 0;                                                                         \
    }

/* in_tail_NAME and tail_NAME of a kernel whose f'(x) is never below the normals but 0 */
#define NO_TAIL(name)                                                                      \
    ALWAYS_INLINE int in_tail_##name(double x, double prm)                                 \
    {                                                                                     \
        (void)x;                                                                          \
        (void)prm;                                                                        \
        return 0;                                                                         \
    }                                                                                     \
    ALWAYS_INLINE double tail_##name(double x, double g, double d, double prm)             \
    {                                                                                     \
        (void)x;                                                                          \
        (void)prm;                                                                        \
        return d * g;                                                                     \
    }

/* ------------------------------------------------------------------ sigmoid */
ALWAYS_INLINE void f_sigmoid(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    if (!hi) {
        /* float32 results: e = e^x for x in [-200, 200], f = e/(1 + e), f' = e/(1 + e)^2.
         * Unlike the form below it needs no select on x's sign, one vector operation fewer
         * in a loop bound by their count. For x <= 0 the operations are the same as below. */
        double sbig, xc = x > SIGMOID_X_MAX_LO ? SIGMOID_X_MAX_LO : x; /* NaN stays */
        double p = expm1_reduced(xc, 0, &sbig);
        double e = fma(sbig, p, sbig), den = e + 1.0;
        *f = e / den;
        *d = fabs(x) == INFINITY ? 0.0 : e / (den * den); /* the clamp made e > 0 there */
        return;
    }
    double eb = exp_big_le0(neg_abs(x), hi); /* e^{-|x|} / SCALE */
    double e = eb * SCALE(hi), den = e + 1.0;
    /* e/(1+e) for x < 0, 1/(1+e) else: one division, scaled so subnormals round once */
    *f = ((x < 0 ? eb : UNSCALE(hi)) / den) * SCALE(hi);
    *d = (eb / square_of_one_plus(e)) * SCALE(hi);
}

NO_RARE(sigmoid)

ALWAYS_INLINE int in_tail_sigmoid(double x, double prm)
{
    (void)prm;
    return fabs(x) > 700.0 && fabs(x) < INFINITY;
}

ALWAYS_INLINE double tail_sigmoid(double x, double g, double d, double prm)
{
    (void)prm;
    return d >= DBL_MIN ? d * g : exp_product(g, -fabs(x), 1.0);
}

/* ------------------------------------------------------------------ tanh */
ALWAYS_INLINE void f_tanh(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    double eb, em;
    exp_expm1_le0(neg_abs(2.0 * x), hi, &eb, &em); /* e^{-2|x|} / SCALE, e^{-2|x|} - 1 */
    *f = copysign(-em / (em + 2.0), x);
    double e = eb * SCALE(hi), den = e + 1.0;
    double den2 = hi ? square_of_one_plus(e) : den * den; /* float32: as tanh4 */
    /* f'(±inf) = 0 exactly, not the clamped exponential's tiny value */
    *d = fabs(x) == INFINITY ? 0.0 : ((eb / den2) * 4.0) * SCALE(hi);
}

NO_RARE(tanh)

ALWAYS_INLINE int in_tail_tanh(double x, double prm)
{
    (void)prm;
    return fabs(x) > 350.0 && fabs(x) < INFINITY;
}

ALWAYS_INLINE double tail_tanh(double x, double g, double d, double prm)
{
    (void)prm;
    return d >= DBL_MIN ? d * g : exp_product(g, -(fabs(x) + fabs(x)), 4.0);
}

/* ------------------------------------------------------------------ arctan */
ALWAYS_INLINE void f_arctan(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    double a = fabs(x);
    *f = copysign(atan_abs(a, hi), x);
    /* 1/(1+x^2) as the NumPy kernel computes it: x^2 only for |x| <= 1, else r/(x+r), r=1/x */
    int small = a <= 1.0;
    double s = small ? x : 0.0;
    double bg = small ? 2.0 : x;
    double r = 1.0 / bg;
    double dn = small ? 1.0 : r;
    double dd = small ? s * s + 1.0 : bg + r;
    *d = dn / dd;
}

NO_RARE(arctan)

ALWAYS_INLINE int in_tail_arctan(double x, double prm)
{
    (void)prm;
    return fabs(x) > 1e153 && fabs(x) < INFINITY;
}

ALWAYS_INLINE double tail_arctan(double x, double g, double d, double prm)
{
    (void)prm;
    return d >= DBL_MIN ? d * g : (g / x) / x; /* 1/(1 + x^2) = 1/x^2 there */
}

/* ------------------------------------------------------------------ selu */
ALWAYS_INLINE void f_selu(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    /* min(x, 0) without a compare (gcc turned the compares and selects into float32
     * compares and mask widening): 2x / 2 is exact, -inf for x < -DBL_MAX / 2, NaN for NaN;
     * +inf gives NaN, which only the x >= 0 branches below would see, and they do not */
    double neg = (x - fabs(x)) * 0.5;
    double eb, em;
    exp_expm1_le0(neg, hi, &eb, &em);
    int pos = x >= 0.0;
    *f = pos ? x * SELU_LAMBDA : em * SELU_LAMBDA_ALPHA;
    *d = pos ? SELU_LAMBDA : (x == -INFINITY ? 0.0 : (eb * SELU_LAMBDA_ALPHA) * SCALE(hi));
}

NO_RARE(selu)

ALWAYS_INLINE int in_tail_selu(double x, double prm)
{
    (void)prm;
    return x < -700.0 && x > -INFINITY;
}

ALWAYS_INLINE double tail_selu(double x, double g, double d, double prm)
{
    (void)prm;
    return d >= DBL_MIN ? d * g : exp_product(g, x, SELU_LAMBDA_ALPHA);
}

#include "rules_gated.h"

#endif
