/* The scalar rules of the gated smooth kernels of the wider family, x times a smooth gate
 * (silu, mish, gelu_tanh, gelu), after the algorithms of the NumPy kernels (modern.py and
 * _stable_modern.py); the shared helpers and the simpler rules are in rules_modern.h, whose
 * header says how they are computed.
 */
#ifndef KERNELS_RULES_GATED_H
#define KERNELS_RULES_GATED_H

#include "rules_modern.h"

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

/* e^(z + w + zl) / SCALE(1) with z exact and a multiple of 2^-51 (z <= -1.5), w = O(1), zl
 * small: the exponent n from z + w, r = z - n ln2 exact, then w and the low parts added */
ALWAYS_INLINE double exp_sum_big(double z, double w, double zl)
{
    const double shift = SHIFT + (1023 + 512);
    double kd = fma(z + w, INV_LN2, shift);
    uint64_t ki = asuint64(kd);
    kd -= shift;
    double r = fma(kd, -LN2_HI, z);
    r = r + w;
    r = r + fma(kd, -LN2_LO, zl);
    double sbig = asdouble(ki << 52), r2 = r * r, r4 = r2 * r2;
    const double *c = EXPM1_HI;
    double c01 = fma(c[1], r, c[0]), c23 = fma(c[3], r, c[2]), c45 = fma(c[5], r, c[4]);
    double c67 = fma(c[7], r, c[6]), c89 = fma(c[9], r, c[8]), cab = fma(c[11], r, c[10]);
    double c03 = fma(c23, r2, c01), c47 = fma(c67, r2, c45), c8b = fma(cab, r2, c89);
    double q = fma(fma(c8b, r4, c47), r4, c03);
    return fma(sbig, fma(r2, q, r), sbig);
}

/* float32 results: Phi(-a) = e^(-a^2/2) R(t), t = 5/(5 + a), R of degree 14 in t fitted
 * (Chebyshev nodes, 40 digits) on a in [0, 20]: relative error 2.0e-12; a^2 is exact for a
 * float32 a, and a = 20 (20 e^-200 FLT_MAX rounds to 0) bounds every result's a.  f' within
 * 1/4 of its root is the Taylor series (16 terms, 2e-18 there), past which
 * e (R - a/sqrt(2 pi)) cancels at most 5-fold. */
static const double GELU_R_LO[15] = {
    -2.9952678638031664e-08, 0.07978972657502476, 0.07976436668822168, 0.07686889435101554,
    0.06816331345836099, 0.07197687203810894, 0.006908972234436888, 0.16279114838572767,
    -0.24893917223690223, 0.4655677905352148, -0.5369591635205234, 0.46798336768198645,
    -0.266160261120735, 0.08306068842128067, -0.010816513538840144};

ALWAYS_INLINE void gelu_rule_lo(double x, double *f, double *d, int full)
{
    double a = fabs(x) > 20.0 ? 20.0 : fabs(x); /* NaN stays */
    double xc = x > 20.0 ? 20.0 : (x < -20.0 ? -20.0 : x);
    double e = exp_le0_in_range_lo(-0.5 * (a * a));
    /* R(t) by Estrin's scheme: a short dependency chain after the division */
    const double *c = GELU_R_LO;
    double t = 5.0 / (5.0 + a), t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
    double q03 = fma(fma(c[3], t, c[2]), t2, fma(c[1], t, c[0]));
    double q47 = fma(fma(c[7], t, c[6]), t2, fma(c[5], t, c[4]));
    double q8b = fma(fma(c[11], t, c[10]), t2, fma(c[9], t, c[8]));
    double qce = fma(c[14], t2, fma(c[13], t, c[12]));
    double r = fma(fma(qce, t4, q8b), t8, fma(q47, t4, q03));
    double q = e * r;                                  /* Phi(-a) */
    double fv = x < 0.0 ? xc * q : x - xc * q;
    *f = half_plus_square(x, x == -INFINITY ? -0.0 : fv, full);
    double dv = x < 0.0 ? e * (r - a * G_INV_SQRT_2PI) : (1.0 - q) + a * (e * G_INV_SQRT_2PI);
    double series = taylor_at(x, GELU_ROOT_HI, GELU_ROOT_LO, GELU_TAYLOR, 16);
    dv = fabs(x - GELU_ROOT_HI) < 0.25 ? series : dv;
    *d = x == -INFINITY ? -0.0 : dv; /* f' < 0 in the left tail: the limit is -0 */
    KEEP_NAN(x, f, d);
}

/* a = |x| clamped at 40: beyond, e^(-a^2/2) rounds every result to 0 but the tails' */
#define GELU_A_MAX 40.0

ALWAYS_INLINE void gelu_rule(double x, int hi, double prm, double *f, double *d, int full)
{
    (void)prm;
    if (!hi) {
        gelu_rule_lo(x, f, d, full);
        return;
    }
    const double amax = GELU_A_MAX;
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
    double tt = a * 134217729.0, ah = tt - (tt - a), al = a - ah;
    double gz = ah * ah * -0.5, gzl = -(ah * al + al * al * 0.5);
    double w = q - 0.5625;
    /* C: Phi(-a) = e^(-a^2/2 + w)/(sqrt 2 a); x Phi(x) = -that/sqrt 2 (x = -a), and
     * x - that/sqrt 2 (x = a) */
    double ec = exp_sum_big(gz < -1.5 ? gz : -1.5, w, gzl);
    double tail_c = (ec * G_INV_SQRT2_HI) * SCALE(hi);
    double xc = x > 1.0e300 ? 1.0e300 : (x < -1.0e300 ? -1.0e300 : x);
    double fv = in_b ? xc * phi_ab : (neg ? -tail_c : x - tail_c);
    fv = x > 64.0 ? x : fv;
    *f = half_plus_square(x, x == -INFINITY ? -0.0 : fv, full);

    /* f' = Phi(x) + x phi(x); C, x < 0: e^(-a^2/2) (e^w/(sqrt 2 a) - a/sqrt(2 pi)) */
    double e0 = exp_sum_big(gz, 0.0, gzl); /* e^(-a^2/2) / SCALE */
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
