/* The elementwise and softmax loops of _kernels.c, compiled once per instruction set.
 *
 * _kernels.c includes this file twice: once under `#pragma GCC target("avx2,fma")` with
 * SFX=avx2 and once for the baseline with SFX=base, and picks one at import time by
 * __builtin_cpu_supports.  Everything here is written as scalar C that gcc vectorises at
 * -O3: branch-free selects, explicit fma(), no libm calls, no -ffast-math.  fma() is
 * correctly rounded in both versions, and -ffp-contract=off keeps the compiler from fusing
 * anything else, so the two versions return the same bits.
 *
 * Everything is computed in double and rounded once to the output's dtype, as the NumPy
 * reference kernels do.  The `hi` flag picks the polynomial degree: full double accuracy
 * for float64 output (hi = 1), about 5e-10 relative for float32 output (hi = 0), far below
 * float32's half ULP (3e-8).
 */

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SFX)

/* ------------------------------------------------------------------ exp and expm1 */
/* x <= 0 (or NaN) is written as k ln2 + r, |r| <= ln2/2.  Returns expm1(r).
 *
 * hi (float64 results): *sbig = 2^(k+512) = 2^k / SCALE(hi), exact for every k the clamp at
 * -1000 allows, so that 2^k itself may be subnormal or 0 without an integer underflow.
 * lo (float32 results): *sbig = 2^k, the clamp at EXP_LOWEST_LO (-200) below every float32
 * result, even times a grad (see its definition), and one fma for the reduction: its
 * error, k ulp(ln2) <= 4e-14 relative, is far below float32's. */
#define SCALE(hi) ((hi) ? TWO_M512 : 1.0)
#define UNSCALE(hi) ((hi) ? TWO_P512 : 1.0)
ALWAYS_INLINE double FN(expm1_reduced_in_range)(double x, int hi, double *sbig);
ALWAYS_INLINE double FN(expm1_reduced)(double x, int hi, double *sbig)
{
    const double lowest = hi ? -1000.0 : EXP_LOWEST_LO;
    x = lowest > x ? lowest : x;          /* -inf too; NaN compares false and stays */
    return FN(expm1_reduced_in_range)(x, hi, sbig);
}

/* The same for x already in [lowest, 0] (or NaN). */
ALWAYS_INLINE double FN(expm1_reduced_in_range)(double x, int hi, double *sbig)
{
    /* the shift carries the exponent bias, so that 2^k is ki << 52 */
    const double shift = hi ? SHIFT + (1023 + 512) : SHIFT + 1023;
    double kd = fma(x, INV_LN2, shift);
    uint64_t ki = asuint64(kd);
    kd -= shift;
    double r = fma(kd, -LN2_HI, x);
    if (hi)
        r = fma(kd, -LN2_LO, r);
    *sbig = asdouble(ki << 52);
    double r2 = r * r, q;
    if (hi) {
        /* Estrin's scheme: a short dependency chain, so more elements are in flight */
        double r4 = r2 * r2;
        const double *c = EXPM1_HI;
        double c01 = fma(c[1], r, c[0]), c23 = fma(c[3], r, c[2]), c45 = fma(c[5], r, c[4]);
        double c67 = fma(c[7], r, c[6]), c89 = fma(c[9], r, c[8]), cab = fma(c[11], r, c[10]);
        double c03 = fma(c23, r2, c01), c47 = fma(c67, r2, c45), c8b = fma(cab, r2, c89);
        q = fma(fma(c8b, r4, c47), r4, c03);
    } else {
        /* Horner's scheme: float32 loops are bound by the multiply-add throughput, not
         * by the latency, and Estrin's costs two more multiplications (r^4) */
        const double *c = EXPM1_LO;
        q = fma(c[5], r, c[4]);
        q = fma(q, r, c[3]);
        q = fma(q, r, c[2]);
        q = fma(q, r, c[1]);
        q = fma(q, r, c[0]);
    }
    return fma(r2, q, r);
}

/* e^x / SCALE(hi) for x <= 0 or NaN, always normal (or NaN): a product or quotient of it
 * is multiplied by SCALE(hi) last, so that a subnormal float64 result is rounded once, not
 * flushed (4 e^{-746} is the smallest subnormal, not 0).  For normal results the scaling is
 * exact and the bits are those of the same formula applied to e^x. */
ALWAYS_INLINE double FN(exp_big_le0)(double x, int hi)
{
    double sbig;
    double p = FN(expm1_reduced)(x, hi, &sbig);
    return fma(sbig, p, sbig);
}

/* e^x for x <= 0 or NaN: one rounding for normal results, correct subnormals, 0 below. */
ALWAYS_INLINE double FN(exp_le0)(double x, int hi)
{
    return FN(exp_big_le0)(x, hi) * SCALE(hi);
}

/* e^x for float32 results, x in [EXP_LOWEST_LO, 0] (or NaN): exp_le0(x, 0) without the
 * clamp, which would not move x; the same bits. */
ALWAYS_INLINE double FN(exp_le0_in_range_lo)(double x)
{
    double sbig;
    double p = FN(expm1_reduced_in_range)(x, 0, &sbig);
    return fma(sbig, p, sbig);
}

/* (e^x / SCALE(hi), e^x - 1) for x <= 0 or NaN, from one reduction. */
ALWAYS_INLINE void FN(exp_expm1_le0)(double x, int hi, double *ebig, double *em)
{
    double sbig;
    double p = FN(expm1_reduced)(x, hi, &sbig);
    double s = sbig * SCALE(hi);
    *ebig = fma(sbig, p, sbig);
    *em = fma(s, p, s - 1.0);
}

/* ------------------------------------------------------------------ the functions */
/* Each computes f and f' of a double; after inlining, the loops keep only what they use. */

/* (1 + e)^2 for e in [0, 1] as 1 + e (2 + e), as square_of_one_plus in _stable.py: the
 * square of a rounded 1 + e rounds twice (up to 2.5 ULP), this about once.  Used for float64
 * results; for float32 results the double's error is far below their half ULP either way. */
ALWAYS_INLINE double FN(square_of_one_plus)(double e)
{
    return e * (2.0 + e) + 1.0;
}

ALWAYS_INLINE void FN(f_sigmoid)(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    if (!hi) {
        /* float32 results: e = e^x for x in [-200, 200], f = e/(1 + e), f' = e/(1 + e)^2.
         * Unlike the form below it needs no select on x's sign, one vector operation fewer
         * in a loop bound by their count. For x <= 0 the operations are the same as below. */
        double sbig, xc = x > SIGMOID_X_MAX_LO ? SIGMOID_X_MAX_LO : x; /* NaN stays */
        double p = FN(expm1_reduced)(xc, 0, &sbig);
        double e = fma(sbig, p, sbig), den = e + 1.0;
        *f = e / den;
        *d = fabs(x) == INFINITY ? 0.0 : e / (den * den); /* the clamp made e > 0 there */
        return;
    }
    double eb = FN(exp_big_le0)(neg_abs(x), hi);  /* e^{-|x|} / SCALE */
    double e = eb * SCALE(hi), den = e + 1.0;
    /* e/(1+e) for x < 0, 1/(1+e) else: one division, scaled so subnormals round once */
    *f = ((x < 0 ? eb : UNSCALE(hi)) / den) * SCALE(hi);
    *d = (eb / FN(square_of_one_plus)(e)) * SCALE(hi);
}

ALWAYS_INLINE void FN(f_tanh)(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    double eb, em;
    FN(exp_expm1_le0)(neg_abs(2.0 * x), hi, &eb, &em);  /* e^{-2|x|} / SCALE, e^{-2|x|} - 1 */
    *f = copysign(-em / (em + 2.0), x);
    double e = eb * SCALE(hi), den = e + 1.0;
    double den2 = hi ? FN(square_of_one_plus)(e) : den * den; /* float32: as tanh4 */
    /* f'(±inf) = 0 exactly, not the clamped exponential's tiny value */
    *d = fabs(x) == INFINITY ? 0.0 : ((eb / den2) * 4.0) * SCALE(hi);
}

ALWAYS_INLINE void FN(f_arctan)(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    double a = fabs(x);
    int big = a > TAN_3PI_8, mid = a > TAN_PI_8;
    double num = big ? -1.0 : (mid ? a - 1.0 : a);
    double den = big ? a : (mid ? a + 1.0 : 1.0);
    double t = num / den;
    double u = t * t;
    double p;
    if (hi) {
        p = fma(ATAN_HI[10], u, ATAN_HI[9]);
        p = fma(p, u, ATAN_HI[8]);
        p = fma(p, u, ATAN_HI[7]);
        p = fma(p, u, ATAN_HI[6]);
        p = fma(p, u, ATAN_HI[5]);
        p = fma(p, u, ATAN_HI[4]);
        p = fma(p, u, ATAN_HI[3]);
        p = fma(p, u, ATAN_HI[2]);
        p = fma(p, u, ATAN_HI[1]);
        p = fma(p, u, ATAN_HI[0]);
    } else {
        p = fma(ATAN_LO[6], u, ATAN_LO[5]);
        p = fma(p, u, ATAN_LO[4]);
        p = fma(p, u, ATAN_LO[3]);
        p = fma(p, u, ATAN_LO[2]);
        p = fma(p, u, ATAN_LO[1]);
        p = fma(p, u, ATAN_LO[0]);
    }
    double y_hi = big ? PIO2_HI : (mid ? PIO4_HI : 0.0);
    double y_lo = big ? PIO2_LO : (mid ? PIO4_LO : 0.0);
    *f = copysign(y_hi + (t + fma(t * u, p, y_lo)), x);
    /* 1/(1+x^2) as the NumPy kernel computes it: x^2 only for |x| <= 1, else r/(x+r), r=1/x */
    int small = a <= 1.0;
    double s = small ? x : 0.0;
    double bg = small ? 2.0 : x;
    double r = 1.0 / bg;
    double dn = small ? 1.0 : r;
    double dd = small ? s * s + 1.0 : bg + r;
    *d = dn / dd;
}

ALWAYS_INLINE void FN(f_selu)(double x, int hi, double prm, double *f, double *d)
{
    (void)prm;
    /* min(x, 0) without a compare (gcc turned the compares and selects into float32
     * compares and mask widening): 2x / 2 is exact, -inf for x < -DBL_MAX / 2, NaN for NaN;
     * +inf gives NaN, which only the x >= 0 branches below would see, and they do not */
    double neg = (x - fabs(x)) * 0.5;
    double eb, em;
    FN(exp_expm1_le0)(neg, hi, &eb, &em);
    int pos = x >= 0.0;
    *f = pos ? x * SELU_LAMBDA : em * SELU_LAMBDA_ALPHA;
    *d = pos ? SELU_LAMBDA : (x == -INFINITY ? 0.0 : (eb * SELU_LAMBDA_ALPHA) * SCALE(hi));
}

/* ------------------------------------------------------------------ backward in the tails */
/* backward is g f'(x) rounded once.  For float64 results f'(x) itself may be subnormal or 0
 * (the sigmoid's for |x| > 708) while g f'(x) is not, or g is ±inf: then d g loses digits or
 * gives inf 0 = NaN.  There the product is formed as below.  (For float32 results the
 * double f'(x), and the clamps, leave room for every float32 g.) */

/* c g e^z for z <= -700 and finite g, as exp_product in _stable.py: e^z taken as e^-500
 * ... e^-500 e^r, r in [-700, 0], from g down; every factor normal.  ±inf and NaN g as
 * they are (e^z > 0). */
ALWAYS_INLINE double FN(exp_product)(double g, double z, double c)
{
    if (!(fabs(g) <= DBL_MAX))
        return g;
    double p = (g * EXP_M500) * c, r = z + 500.0;
    for (int k = 0; k < 4 && r < -700.0 && p != 0.0; k++) {
        p *= EXP_M500;
        r += 500.0;
    }
    return p * FN(exp_le0)(r, 1);
}

/* in_tail_NAME(x): f'(x) may be below the smallest normal double (and is > 0: x finite);
 * tail_NAME(x, g, d): g f'(x) there, d the f'(x) computed as usual */
ALWAYS_INLINE int FN(in_tail_sigmoid)(double x)
{
    return fabs(x) > 700.0 && fabs(x) < INFINITY;
}
ALWAYS_INLINE double FN(tail_sigmoid)(double x, double g, double d)
{
    return d >= DBL_MIN ? d * g : FN(exp_product)(g, -fabs(x), 1.0);
}
ALWAYS_INLINE int FN(in_tail_tanh)(double x)
{
    return fabs(x) > 350.0 && fabs(x) < INFINITY;
}
ALWAYS_INLINE double FN(tail_tanh)(double x, double g, double d)
{
    return d >= DBL_MIN ? d * g : FN(exp_product)(g, -(fabs(x) + fabs(x)), 4.0);
}
ALWAYS_INLINE int FN(in_tail_selu)(double x)
{
    return x < -700.0 && x > -INFINITY;
}
ALWAYS_INLINE double FN(tail_selu)(double x, double g, double d)
{
    return d >= DBL_MIN ? d * g : FN(exp_product)(g, x, SELU_LAMBDA_ALPHA);
}
ALWAYS_INLINE int FN(in_tail_arctan)(double x)
{
    return fabs(x) > 1e153 && fabs(x) < INFINITY;
}
ALWAYS_INLINE double FN(tail_arctan)(double x, double g, double d)
{
    return d >= DBL_MIN ? d * g : (g / x) / x; /* 1/(1 + x^2) = 1/x^2 there */
}

/* The exact functions are computed in their own dtype T (float or double). */
#define EXACT_FUNCTIONS(T, sfx)                                                           \
    static inline void FN(f_step_##sfx)(T x, T prm, T *f, T *d)                           \
    {                                                                                     \
        (void)prm;                                                                        \
        *f = x < (T)0 ? (T)0 : (x == x ? (T)1 : x);                                       \
        *d = x == x ? (T)0 : x;                                                           \
    }                                                                                     \
    static inline void FN(f_relu_##sfx)(T x, T prm, T *f, T *d)                           \
    {                                                                                     \
        (void)prm;                                                                        \
        *f = (x > (T)0 || x != x) ? x : (T)0;                                             \
        *d = x < (T)0 ? (T)0 : (x == x ? (T)1 : x);                                       \
    }                                                                                     \
    static inline void FN(f_leaky_relu_##sfx)(T x, T prm, T *f, T *d)                     \
    {                                                                                     \
        /* with a = 0, a x is -0 for every x < 0; so at -inf too, not 0 * -inf = NaN */   \
        T neg = (prm == (T)0 && x < (T)0) ? -prm : x * prm;                               \
        *f = x >= (T)0 ? x : neg;                                                         \
        *d = x >= (T)0 ? (T)1 : (x == x ? prm : x);                                       \
    }                                                                                     \
    static inline void FN(f_identity_##sfx)(T x, T prm, T *f, T *d)                       \
    {                                                                                     \
        (void)prm;                                                                        \
        *f = x;                                                                           \
        *d = x == x ? (T)1 : x;                                                           \
    }

EXACT_FUNCTIONS(float, f32)
EXACT_FUNCTIONS(double, f64)

/* ------------------------------------------------------------------ loops */
/* MODE_FWD: o = f(x); MODE_DER: o = f'(x); MODE_BWD: o = g f'(x); MODE_FWD_DER: o = f, o2 = f'.
 * In place (o == x, o == g) is fine: each element is read before it is written. */

/* Computed in double, rounded once to T. */
#ifndef TAIL_BLOCK
#define TAIL_BLOCK 512
#endif
#define DOUBLE_LOOPS(name, T, hi)                                                         \
    static void FN(name##_##T)(int mode, const T *restrict_x, const T *g, T *o, T *o2,   \
                               double prm, Py_ssize_t lo, Py_ssize_t hi_)                 \
    {                                                                                     \
        const T *x = restrict_x;                                                          \
        Py_ssize_t i;                                                                     \
        switch (mode) {                                                                   \
        case MODE_FWD:                                                                    \
            for (i = lo; i < hi_; i++) {                                                  \
                double f, d;                                                              \
                FN(f_##name)((double)x[i], hi, prm, &f, &d);                              \
                o[i] = (T)f;                                                              \
            }                                                                             \
            break;                                                                        \
        case MODE_DER:                                                                    \
            for (i = lo; i < hi_; i++) {                                                  \
                double f, d;                                                              \
                FN(f_##name)((double)x[i], hi, prm, &f, &d);                              \
                o[i] = (T)d;                                                              \
            }                                                                             \
            break;                                                                        \
        case MODE_BWD:                                                                    \
            if (hi) { /* blocks with a tail entry take the tail's product (above): found  \
                       * while the block is written, or before when o is x or g */        \
                const int in_place = (const void *)o == (const void *)x ||                \
                                     (const void *)o == (const void *)g;                  \
                for (Py_ssize_t b = lo; b < hi_; b += TAIL_BLOCK) {                       \
                    Py_ssize_t e = hi_ - b < TAIL_BLOCK ? hi_ : b + TAIL_BLOCK;           \
                    int tail = 0;                                                         \
                    if (in_place)                                                         \
                        for (i = b; i < e; i++)                                           \
                            tail |= FN(in_tail_##name)((double)x[i]);                     \
                    if (!in_place || !tail) {                                             \
                        for (i = b; i < e; i++) {                                         \
                            double f, d, xv = (double)x[i];                               \
                            FN(f_##name)(xv, hi, prm, &f, &d);                            \
                            o[i] = (T)(d * (double)g[i]);                                 \
                            tail |= FN(in_tail_##name)(xv);                               \
                        }                                                                 \
                        if (!tail)                                                        \
                            continue;                                                     \
                    }                                                                     \
                    for (i = b; i < e; i++) {                                             \
                        double f, d, xv = (double)x[i], gv = (double)g[i];                \
                        FN(f_##name)(xv, hi, prm, &f, &d);                                \
                        o[i] = (T)(FN(in_tail_##name)(xv) ? FN(tail_##name)(xv, gv, d)    \
                                                          : d * gv);                      \
                    }                                                                     \
                }                                                                         \
                break;                                                                    \
            }                                                                             \
            for (i = lo; i < hi_; i++) {                                                  \
                double f, d;                                                              \
                FN(f_##name)((double)x[i], hi, prm, &f, &d);                              \
                o[i] = (T)(d * (double)g[i]);                                             \
            }                                                                             \
            break;                                                                        \
        default:                                                                          \
            for (i = lo; i < hi_; i++) {                                                  \
                double f, d;                                                              \
                FN(f_##name)((double)x[i], hi, prm, &f, &d);                              \
                o[i] = (T)f;                                                              \
                o2[i] = (T)d;                                                             \
            }                                                                             \
        }                                                                                 \
    }

/* Computed in T itself. */
#define EXACT_LOOPS(name, T, sfx)                                                         \
    static void FN(name##_##T)(int mode, const T *x, const T *g, T *o, T *o2,            \
                               double prm_, Py_ssize_t lo, Py_ssize_t hi_)                \
    {                                                                                     \
        const T prm = (T)prm_;                                                            \
        Py_ssize_t i;                                                                     \
        switch (mode) {                                                                   \
        case MODE_FWD:                                                                    \
            for (i = lo; i < hi_; i++) {                                                  \
                T f, d;                                                                   \
                FN(f_##name##_##sfx)(x[i], prm, &f, &d);                                  \
                o[i] = f;                                                                 \
            }                                                                             \
            break;                                                                        \
        case MODE_DER:                                                                    \
            for (i = lo; i < hi_; i++) {                                                  \
                T f, d;                                                                   \
                FN(f_##name##_##sfx)(x[i], prm, &f, &d);                                  \
                o[i] = d;                                                                 \
            }                                                                             \
            break;                                                                        \
        case MODE_BWD:                                                                    \
            for (i = lo; i < hi_; i++) {                                                  \
                T f, d;                                                                   \
                FN(f_##name##_##sfx)(x[i], prm, &f, &d);                                  \
                o[i] = d * g[i];                                                          \
            }                                                                             \
            break;                                                                        \
        default:                                                                          \
            for (i = lo; i < hi_; i++) {                                                  \
                T f, d;                                                                   \
                FN(f_##name##_##sfx)(x[i], prm, &f, &d);                                  \
                o[i] = f;                                                                 \
                o2[i] = d;                                                                \
            }                                                                             \
        }                                                                                 \
    }

DOUBLE_LOOPS(sigmoid, float, 0)
DOUBLE_LOOPS(sigmoid, double, 1)
DOUBLE_LOOPS(tanh, float, 0)
DOUBLE_LOOPS(tanh, double, 1)
DOUBLE_LOOPS(arctan, float, 0)
DOUBLE_LOOPS(arctan, double, 1)
DOUBLE_LOOPS(selu, float, 0)
DOUBLE_LOOPS(selu, double, 1)
EXACT_LOOPS(step, float, f32)
EXACT_LOOPS(step, double, f64)
EXACT_LOOPS(relu, float, f32)
EXACT_LOOPS(relu, double, f64)
EXACT_LOOPS(leaky_relu, float, f32)
EXACT_LOOPS(leaky_relu, double, f64)
EXACT_LOOPS(identity, float, f32)
EXACT_LOOPS(identity, double, f64)

#if BODY_AVX2
/* The float32 sigmoid, tanh and selu, forward and backward, written out in AVX2, four
 * floats at a time widened to double: the operations of f_sigmoid, f_tanh and f_selu
 * (hi = 0) in the same order, so the same bits (tested against the baseline build), but
 * with single instructions where gcc emits a compare and a blend: the clamp at -200 as
 * vmaxpd(-200, a), which returns a when a is NaN, as the C does.  At 1e7 elements:
 * 0.87-0.94x the time of gcc's loops for sigmoid, 0.89-0.93x for selu (tanh, one vector a
 * step, was no faster); then four vectors a step (AVX2_FLOAT_LOOP), and the sigmoid as
 * e^x/(1 + e^x), without the select on x's sign. */
ALWAYS_INLINE __m256d expm1_reduced4_lo_scaled(__m256d a, __m256d *s, int log2_scale)
{
    const double *c = EXPM1_LO;
    /* 2^log2_scale rides in the exponent bias: *s = 2^(k + log2_scale), the same k */
    const __m256d shift = _mm256_set1_pd(SHIFT + 1023 + log2_scale);
    a = _mm256_max_pd(_mm256_set1_pd(EXP_LOWEST_LO), a);
    __m256d kd = _mm256_fmadd_pd(a, _mm256_set1_pd(INV_LN2), shift);
    *s = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(kd), 52));
    kd = _mm256_sub_pd(kd, shift);
    __m256d r = _mm256_fmadd_pd(kd, _mm256_set1_pd(-LN2_HI), a);
    __m256d q = _mm256_fmadd_pd(_mm256_set1_pd(c[5]), r, _mm256_set1_pd(c[4]));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(c[3]));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(c[2]));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(c[1]));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(c[0]));
    return _mm256_fmadd_pd(_mm256_mul_pd(r, r), q, r);
}

ALWAYS_INLINE __m256d expm1_reduced4_lo(__m256d a, __m256d *s)
{
    return expm1_reduced4_lo_scaled(a, s, 0);
}

ALWAYS_INLINE __m256d load4_widen(const float *p)
{
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}

ALWAYS_INLINE void store4_narrow(float *p, __m256d v)
{
    _mm_storeu_ps(p, _mm256_cvtpd_ps(v));
}

#define SIGN_BIT _mm256_set1_pd(-0.0)
#define ONE _mm256_set1_pd(1.0)

/* all ones where x is ±inf: f' is 0 there, where the clamped exponential is not */
ALWAYS_INLINE __m256d is_inf4(__m256d x)
{
    return _mm256_cmp_pd(_mm256_andnot_pd(SIGN_BIT, x), _mm256_set1_pd(INFINITY), _CMP_EQ_OQ);
}

/* e / (1 + e)^2, as f_sigmoid rounds it */
ALWAYS_INLINE __m256d bell4(__m256d e)
{
    __m256d den = _mm256_add_pd(e, ONE);
    return _mm256_div_pd(e, _mm256_mul_pd(den, den));
}

/* sigmoid of 4 floats (forward), or g times its derivative (backward), as f_sigmoid
 * computes them for float32 results: e^x for x in [-200, 200], then e/(1 + e) */
ALWAYS_INLINE __m256d sigmoid4(int mode, const float *x, const float *g, Py_ssize_t i)
{
    __m256d xv = load4_widen(x + i), s;
    /* vminpd(200, a) returns a when a is NaN, as the C's compare does */
    __m256d p = expm1_reduced4_lo(_mm256_min_pd(_mm256_set1_pd(SIGMOID_X_MAX_LO), xv), &s);
    __m256d e = _mm256_fmadd_pd(s, p, s);
    if (mode == MODE_FWD)
        return _mm256_div_pd(e, _mm256_add_pd(e, ONE));
    return _mm256_mul_pd(_mm256_andnot_pd(is_inf4(xv), bell4(e)), load4_widen(g + i));
}

/* NAME_float_avx2_fwd_bwd: the forward and backward by NAME4, four independent vectors per
 * step (all loaded before any is stored, so o may be x or g): the scheduler sees more work
 * that does not wait on the long chain of one exponential.  Against one vector per step,
 * in cache on one thread: sigmoid 0.96 (forward) and 0.92 (backward) the time, selu 0.97
 * and 0.97, and tanh, which took gcc's loop before, 0.99 and 0.88.  The other modes and
 * the tail take gcc's loop. */
#define AVX2_FLOAT_STEPS(NAME, MODE)                                                      \
    for (; i + 16 <= hi_; i += 16) {                                                      \
        __m256d r0 = NAME##4(MODE, x, g, i), r1 = NAME##4(MODE, x, g, i + 4);             \
        __m256d r2 = NAME##4(MODE, x, g, i + 8), r3 = NAME##4(MODE, x, g, i + 12);        \
        store4_narrow(o + i, r0);                                                         \
        store4_narrow(o + i + 4, r1);                                                     \
        store4_narrow(o + i + 8, r2);                                                     \
        store4_narrow(o + i + 12, r3);                                                    \
    }                                                                                     \
    for (; i + 4 <= hi_; i += 4)                                                          \
        store4_narrow(o + i, NAME##4(MODE, x, g, i));

/* one loop per mode, so that each is compiled for its mode alone (gcc does not unswitch a
 * loop on the mode, and kept a test and a branch per vector in it) */
#define AVX2_FLOAT_LOOP(NAME)                                                             \
    static void NAME##_float_avx2_fwd_bwd(int mode, const float *x, const float *g,       \
                                          float *o, float *o2, double prm, Py_ssize_t lo, \
                                          Py_ssize_t hi_)                                 \
    {                                                                                     \
        Py_ssize_t i = lo;                                                                \
        if (mode == MODE_FWD) {                                                           \
            AVX2_FLOAT_STEPS(NAME, MODE_FWD)                                              \
        } else if (mode == MODE_BWD) {                                                    \
            AVX2_FLOAT_STEPS(NAME, MODE_BWD)                                              \
        }                                                                                 \
        FN(NAME##_float)(mode, x, g, o, o2, prm, i, hi_);                                 \
    }

AVX2_FLOAT_LOOP(sigmoid)

/* tanh of 4 floats (forward), or g times its derivative (backward): f_tanh's operations,
 * copysign as an or of x's sign bit into the positive -em / (em + 2) */
ALWAYS_INLINE __m256d tanh4(int mode, const float *x, const float *g, Py_ssize_t i)
{
    __m256d xv = load4_widen(x + i), s, a = _mm256_or_pd(_mm256_add_pd(xv, xv), SIGN_BIT);
    if (mode == MODE_FWD) {
        __m256d p = expm1_reduced4_lo(a, &s);
        __m256d em = _mm256_fmadd_pd(s, p, _mm256_sub_pd(s, ONE)); /* e^{-2|x|} - 1 */
        __m256d t = _mm256_div_pd(_mm256_xor_pd(em, SIGN_BIT),
                                  _mm256_add_pd(em, _mm256_set1_pd(2.0)));
        return _mm256_or_pd(_mm256_andnot_pd(SIGN_BIT, t), _mm256_and_pd(SIGN_BIT, xv));
    }
    /* 4 e / (1 + e)^2 with the 4 in s (exact: e >= e^-200 is far from underflow), so the
     * same bits as f_tanh's bell times 4, one multiplication fewer */
    __m256d p = expm1_reduced4_lo_scaled(a, &s, 2);
    __m256d e4 = _mm256_fmadd_pd(s, p, s); /* 4 e^{-2|x|} */
    __m256d den = _mm256_fmadd_pd(e4, _mm256_set1_pd(0.25), ONE);
    __m256d d = _mm256_andnot_pd(is_inf4(xv), _mm256_div_pd(e4, _mm256_mul_pd(den, den)));
    return _mm256_mul_pd(d, load4_widen(g + i));
}

AVX2_FLOAT_LOOP(tanh)

/* selu of 4 floats (forward), or g times its derivative (backward) */
ALWAYS_INLINE __m256d selu4(int mode, const float *x, const float *g, Py_ssize_t i)
{
    __m256d xv = load4_widen(x + i), s;
    /* f_selu's (x - |x|) / 2 in one instruction: vminpd(0, x) returns x when x is NaN, and
     * -0 for x = -0; it differs only for x = +inf, whose lane takes the other branch */
    __m256d neg = _mm256_min_pd(_mm256_setzero_pd(), xv);
    __m256d p = expm1_reduced4_lo(neg, &s);
    __m256d pos = _mm256_cmp_pd(xv, _mm256_setzero_pd(), _CMP_GE_OQ);
    if (mode == MODE_FWD) {
        __m256d em = _mm256_fmadd_pd(s, p, _mm256_sub_pd(s, ONE));
        return _mm256_blendv_pd(_mm256_mul_pd(em, _mm256_set1_pd(SELU_LAMBDA_ALPHA)),
                                _mm256_mul_pd(xv, _mm256_set1_pd(SELU_LAMBDA)), pos);
    }
    __m256d e = _mm256_fmadd_pd(s, p, s);
    __m256d d = _mm256_blendv_pd(_mm256_mul_pd(e, _mm256_set1_pd(SELU_LAMBDA_ALPHA)),
                                 _mm256_set1_pd(SELU_LAMBDA), pos);
    __m256d minus_inf = _mm256_cmp_pd(xv, _mm256_set1_pd(-INFINITY), _CMP_EQ_OQ);
    return _mm256_mul_pd(_mm256_andnot_pd(minus_inf, d), load4_widen(g + i));
}

AVX2_FLOAT_LOOP(selu)
#undef AVX2_FLOAT_LOOP
#undef AVX2_FLOAT_STEPS
#undef SIGN_BIT
#undef ONE
#endif

static const elementwise_loop FN(LOOPS)[K_COUNT][2] = {
    [K_STEP] = {(elementwise_loop)FN(step_float), (elementwise_loop)FN(step_double)},
#if BODY_AVX2
    [K_SIGMOID] = {(elementwise_loop)sigmoid_float_avx2_fwd_bwd,
                   (elementwise_loop)FN(sigmoid_double)},
    [K_SELU] = {(elementwise_loop)selu_float_avx2_fwd_bwd, (elementwise_loop)FN(selu_double)},
    [K_TANH] = {(elementwise_loop)tanh_float_avx2_fwd_bwd, (elementwise_loop)FN(tanh_double)},
#else
    [K_SIGMOID] = {(elementwise_loop)FN(sigmoid_float), (elementwise_loop)FN(sigmoid_double)},
    [K_SELU] = {(elementwise_loop)FN(selu_float), (elementwise_loop)FN(selu_double)},
    [K_TANH] = {(elementwise_loop)FN(tanh_float), (elementwise_loop)FN(tanh_double)},
#endif
    [K_ARCTAN] = {(elementwise_loop)FN(arctan_float), (elementwise_loop)FN(arctan_double)},
    [K_RELU] = {(elementwise_loop)FN(relu_float), (elementwise_loop)FN(relu_double)},
    [K_LEAKY_RELU] = {(elementwise_loop)FN(leaky_relu_float),
                      (elementwise_loop)FN(leaky_relu_double)},
    [K_IDENTITY] = {(elementwise_loop)FN(identity_float), (elementwise_loop)FN(identity_double)},
};

#if BODY_AVX2 && HAVE_STREAM
/* o[j] = y[j] (g[j] - inner) with the rounding of the C below it, the aligned middle of
 * the row written by non-temporal stores from the registers.  For softmax's backward from
 * the saved output at 1e7 elements (rows of 1,000, 2 threads) this took 0.78-0.82 of the
 * time of plain stores: it moves three arrays, and the output's lines are no longer read
 * before they are written.  (Through an L1 block, as the exact kernels stream, it saved
 * nothing; the forward, streamed the same way, took 1.15x: it prefetches the next row's
 * output.) */
static void stream_y_g_minus_float(const float *y, const float *g, float *o, Py_ssize_t m,
                                   double inner, Py_ssize_t k, double dom)
{
    Py_ssize_t j = 0;
    for (; j < m && ((uintptr_t)(o + j) & 15); j++)
        o[j] = (float)(j == k ? dom : (double)y[j] * ((double)g[j] - inner));
    const __m256d in = _mm256_set1_pd(inner);
    for (; j + 4 <= m; j += 4) {
        __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(g + j)), in);
        __m128 v = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(y + j)), d));
        if ((size_t)(k - j) < 4) { /* the dominant entry, computed apart */
            float lanes[4];
            _mm_storeu_ps(lanes, v);
            lanes[k - j] = (float)dom;
            v = _mm_loadu_ps(lanes);
        }
        _mm_stream_ps(o + j, v);
    }
    for (; j < m; j++)
        o[j] = (float)(j == k ? dom : (double)y[j] * ((double)g[j] - inner));
}

static void stream_y_g_minus_double(const double *y, const double *g, double *o,
                                    Py_ssize_t m, double inner, Py_ssize_t k, double dom)
{
    Py_ssize_t j = 0;
    for (; j < m && ((uintptr_t)(o + j) & 31); j++)
        o[j] = j == k ? dom : y[j] * (g[j] - inner);
    const __m256d in = _mm256_set1_pd(inner);
    for (; j + 4 <= m; j += 4) {
        __m256d d = _mm256_sub_pd(_mm256_loadu_pd(g + j), in);
        __m256d v = _mm256_mul_pd(_mm256_loadu_pd(y + j), d);
        if ((size_t)(k - j) < 4) {
            double lanes[4];
            _mm256_storeu_pd(lanes, v);
            lanes[k - j] = dom;
            v = _mm256_loadu_pd(lanes);
        }
        _mm256_stream_pd(o + j, v);
    }
    for (; j < m; j++)
        o[j] = j == k ? dom : y[j] * (g[j] - inner);
}
#define STREAM_Y_G_MINUS(T, stream, y, g, o, m, inner, k, dom) \
    ((stream) ? (stream_y_g_minus_##T(y, g, o, m, inner, k, dom), 1) : 0)
#else
#define STREAM_Y_G_MINUS(T, stream, y, g, o, m, inner, k, dom) 0
#endif

/* ------------------------------------------------------------------ softmax rows */
/* NumPy's pairwise sum (8 accumulators over blocks of up to 128, halves above that), so
 * that the row sums round as the reference's np.sum does. */
static double FN(pairwise_sum)(const double *a, Py_ssize_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (Py_ssize_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        Py_ssize_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return FN(pairwise_sum)(a, n2) + FN(pairwise_sum)(a + n2, n - n2);
}

/* pairwise_sum of the products a[i] b[i] (each rounded to double as a stored product
 * would be), summed in the same order, so the same bits without the array of products */
#define PAIRWISE_DOT(T)                                                                   \
    static double FN(pairwise_dot_##T)(const T *a, const T *b, Py_ssize_t n)             \
    {                                                                                     \
        if (n < 8) {                                                                      \
            double res = 0.0;                                                             \
            for (Py_ssize_t i = 0; i < n; i++)                                            \
                res += (double)a[i] * (double)b[i];                                       \
            return res;                                                                   \
        }                                                                                 \
        if (n <= 128) {                                                                   \
            double r[8];                                                                  \
            Py_ssize_t i;                                                                 \
            for (int j = 0; j < 8; j++)                                                   \
                r[j] = (double)a[j] * (double)b[j];                                       \
            for (i = 8; i < n - (n % 8); i += 8)                                          \
                for (int j = 0; j < 8; j++)                                               \
                    r[j] += (double)a[i + j] * (double)b[i + j];                          \
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])); \
            for (; i < n; i++)                                                            \
                res += (double)a[i] * (double)b[i];                                       \
            return res;                                                                   \
        }                                                                                 \
        Py_ssize_t n2 = n / 2;                                                            \
        n2 -= n2 % 8;                                                                     \
        return FN(pairwise_dot_##T)(a, b, n2) + FN(pairwise_dot_##T)(a + n2, b + n2, n - n2); \
    }
PAIRWISE_DOT(float)
PAIRWISE_DOT(double)

/* pairwise_sum of t_j = (gk - g[j]) y[j], with t_k = 0 (k is an index into a, b), in the
 * same order: softmax's largest entry, without an array of the terms */
#define TERM(j) ((j) == k ? 0.0 : (gk - (double)g[j]) * (double)y[j])
#define PAIRWISE_TERMS(NAME, TG, TY)                                                      \
    static double FN(NAME)(const TG *g, const TY *y, double gk, Py_ssize_t k, Py_ssize_t n) \
    {                                                                                     \
        if (n < 8) {                                                                      \
            double res = 0.0;                                                             \
            for (Py_ssize_t i = 0; i < n; i++)                                            \
                res += TERM(i);                                                           \
            return res;                                                                   \
        }                                                                                 \
        if (n <= 128) {                                                                   \
            double r[8];                                                                  \
            Py_ssize_t i;                                                                 \
            for (int j = 0; j < 8; j++)                                                   \
                r[j] = TERM(j);                                                           \
            for (i = 8; i < n - (n % 8); i += 8)                                          \
                for (int j = 0; j < 8; j++)                                               \
                    r[j] += TERM(i + j);                                                  \
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])); \
            for (; i < n; i++)                                                            \
                res += TERM(i);                                                           \
            return res;                                                                   \
        }                                                                                 \
        Py_ssize_t n2 = n / 2;                                                            \
        n2 -= n2 % 8;                                                                     \
        return FN(NAME)(g, y, gk, k, n2) + FN(NAME)(g + n2, y + n2, gk, k - n2, n - n2);  \
    }
PAIRWISE_TERMS(terms_float_float, float, float)
PAIRWISE_TERMS(terms_double_double, double, double)
PAIRWISE_TERMS(terms_float_s, float, double)
PAIRWISE_TERMS(terms_double_s, double, double)
#undef PAIRWISE_TERMS
#undef TERM


/* The row's maximum and whether it holds a NaN (float64 rows; float32 rows have their own
 * below, which also gives the row's minimum).  Two lanes of 4 running maxima and of
 * v - v (0, or NaN for NaN and ±inf), written with GCC vector types because the vectoriser
 * leaves a NaN-aware max reduction scalar; only a row holding a NaN or an infinity takes
 * the exact scalar pass. */
#define ROW_MAX(T)                                                                        \
    static double FN(row_max_##T)(const T *x, Py_ssize_t m, int *nan, double *mn)        \
    {                                                                                     \
        *mn = -INFINITY; /* unknown: the exponentials clamp their argument */             \
        v4d acc0 = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, acc1 = acc0;             \
        v4d chk0 = {0.0, 0.0, 0.0, 0.0}, chk1 = chk0;                                     \
        Py_ssize_t j = 0;                                                                 \
        for (; j + 8 <= m; j += 8) {                                                      \
            v4d a = load4_##T(x + j), b = load4_##T(x + j + 4);                           \
            v4i ma = (v4i)(a > acc0), mb = (v4i)(b > acc1);                               \
            acc0 = (v4d)(((v4i)a & ma) | ((v4i)acc0 & ~ma));                              \
            acc1 = (v4d)(((v4i)b & mb) | ((v4i)acc1 & ~mb));                              \
            chk0 += a - a;                                                                \
            chk1 += b - b;                                                                \
        }                                                                                 \
        double mx = -INFINITY, ck = 0.0;                                                  \
        for (int k = 0; k < 4; k++) {                                                     \
            mx = acc0[k] > mx ? acc0[k] : mx;                                             \
            mx = acc1[k] > mx ? acc1[k] : mx;                                             \
            ck += chk0[k] + chk1[k];                                                      \
        }                                                                                 \
        for (; j < m; j++) {                                                              \
            double v = (double)x[j];                                                      \
            mx = v > mx ? v : mx;                                                         \
            ck += v - v;                                                                  \
        }                                                                                 \
        *nan = 0;                                                                         \
        if (ck != ck) { /* a NaN or an infinity somewhere: look closely */               \
            mx = -INFINITY;                                                               \
            for (j = 0; j < m; j++) {                                                     \
                double v = (double)x[j];                                                  \
                *nan |= v != v;                                                           \
                mx = v > mx ? v : mx;                                                     \
            }                                                                             \
        }                                                                                 \
        return mx;                                                                        \
    }

/* float rows: the maximum on 8 floats per vector with no widening (a float's order and its
 * being NaN or infinite do not change in double).  In the AVX2 build one vmaxps per vector
 * and no NaN check: vmaxps(v, acc) keeps acc where v is NaN, so a NaN among finite
 * entries leaves the maximum finite and shows up as a NaN sum (softmax_row checks it); an
 * infinite maximum, or none (a row of NaN and -inf), takes the exact scalar pass. */
static double FN(row_max_float)(const float *x, Py_ssize_t m, int *nan, double *mn)
{
    Py_ssize_t j = 0;
    float mx = -INFINITY;
    *mn = -INFINITY; /* unknown: the exponentials clamp their argument */
#if BODY_AVX2
    /* and the minimum (NaN passed over the same way), which spares the clamp when every
     * x - max is above the clamp's bound */
    __m256 acc0 = _mm256_set1_ps(-INFINITY), acc1 = acc0;
    __m256 low0 = _mm256_set1_ps(INFINITY), low1 = low0;
    for (; j + 16 <= m; j += 16) {
        __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
        acc0 = _mm256_max_ps(a, acc0);
        acc1 = _mm256_max_ps(b, acc1);
        low0 = _mm256_min_ps(a, low0);
        low1 = _mm256_min_ps(b, low1);
    }
    float lanes[8], lows[8], lo = INFINITY;
    _mm256_storeu_ps(lanes, _mm256_max_ps(acc0, acc1));
    _mm256_storeu_ps(lows, _mm256_min_ps(low0, low1));
    for (int k = 0; k < 8; k++) {
        mx = lanes[k] > mx ? lanes[k] : mx;
        lo = lows[k] < lo ? lows[k] : lo;
    }
    for (; j < m; j++) {
        mx = x[j] > mx ? x[j] : mx;
        lo = x[j] < lo ? x[j] : lo;
    }
    *mn = (double)lo;
    int look = isinf(mx);
#else
    const v8f lowest = {-INFINITY, -INFINITY, -INFINITY, -INFINITY,
                        -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    v8f acc0 = lowest, acc1 = lowest;
    v8f chk0 = {0, 0, 0, 0, 0, 0, 0, 0}, chk1 = chk0;
    for (; j + 16 <= m; j += 16) {
        v8f a = load8_float(x + j), b = load8_float(x + j + 8);
        v8i ma = (v8i)(a > acc0), mb = (v8i)(b > acc1);
        acc0 = (v8f)(((v8i)a & ma) | ((v8i)acc0 & ~ma));
        acc1 = (v8f)(((v8i)b & mb) | ((v8i)acc1 & ~mb));
        chk0 += a - a;
        chk1 += b - b;
    }
    float ck = 0.0f;
    for (int k = 0; k < 8; k++) {
        mx = acc0[k] > mx ? acc0[k] : mx;
        mx = acc1[k] > mx ? acc1[k] : mx;
        ck += chk0[k] + chk1[k];
    }
    for (; j < m; j++) {
        mx = x[j] > mx ? x[j] : mx;
        ck += x[j] - x[j];
    }
    int look = ck != ck; /* a NaN or an infinity somewhere */
#endif
    *nan = 0;
    if (look) {
        mx = -INFINITY;
        for (j = 0; j < m; j++) {
            *nan |= x[j] != x[j];
            mx = x[j] > mx ? x[j] : mx;
        }
    }
    return (double)mx;
}

/* s[i] = EXPR for i in [0, m), in blocks of one cache line of x when pf is given: each
 * block also prefetches that line of the next row's x (pf) and of its output (pfo, for
 * writing), so that their transfers from memory overlap this row's exponentials instead of
 * following them.  (A row's maximum pass reads it from memory at once, and the output row
 * is read before it is written; without the prefetches each waited for memory.) */
#define EXP_PASS(T, EXPR)                                                                 \
    do {                                                                                  \
        const Py_ssize_t line = 64 / (Py_ssize_t)sizeof(T);                               \
        Py_ssize_t i = 0;                                                                 \
        if (pf != NULL) {                                                                 \
            for (Py_ssize_t b = 0; b + line <= m; b += line) {                            \
                __builtin_prefetch(pf + b, 0, 3);                                         \
                __builtin_prefetch(pfo + b, 1, 3);                                        \
                for (i = b; i < b + line; i++)                                            \
                    s[i] = (EXPR);                                                        \
            }                                                                             \
        }                                                                                 \
        for (; i < m; i++)                                                                \
            s[i] = (EXPR);                                                                \
    } while (0)

/* e^{x - max} of the row into the double buffer s (which may be the output row itself when
 * T is double: each entry of x is read before s overwrites it); returns their sum, by
 * NumPy's pairwise summation.  Rows that are final already return 1: an infinite maximum
 * gives equal shares to the entries equal to it (an all -inf row is uniform), a NaN makes
 * the row NaN.  (The NumPy kernel keeps the maximum's 1 out of the sum and adds it last,
 * which can change the last bit; both are within the accuracy bound.) */
#define SOFTMAX_ROW(T)                                                                    \
    static double FN(softmax_row_##T)(const T *x, double *s, Py_ssize_t m, int hi,       \
                                      const T *pf, T *pfo)                                \
    {                                                                                     \
        int nan;                                                                          \
        double mn;                                                                        \
        double mx = FN(row_max_##T)(x, m, &nan, &mn);                                     \
        if (nan) {                                                                        \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                s[j] = NAN;                                                               \
            return 1.0;                                                                   \
        }                                                                                 \
        if (isinf(mx)) {                                                                  \
            double count = 0.0;                                                           \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                count += (double)x[j] == mx;                                              \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                s[j] = (double)x[j] == mx ? 1.0 / count : 0.0;                            \
            return 1.0;                                                                   \
        }                                                                                 \
        if (hi)                                                                           \
            EXP_PASS(T, FN(exp_le0)((double)x[i] - mx, 1));                               \
        else if (mn - mx >= EXP_LOWEST_LO) /* every x - max as large: no clamp */         \
            EXP_PASS(T, FN(exp_le0_in_range_lo)((double)x[i] - mx));                      \
        else                                                                              \
            EXP_PASS(T, FN(exp_le0)((double)x[i] - mx, 0));                               \
        double total = FN(pairwise_sum)(s, m);                                            \
        if (total != total) { /* a NaN the maximum passed over */                          \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                s[j] = NAN;                                                               \
            return 1.0;                                                                   \
        }                                                                                 \
        return total;                                                                     \
    }                                                                                     \
    /* s /= total: divided for float64 results; for float32 results multiplied by 1/total,\
     * exact to 2^-52, far below float32's half ULP, and 4x cheaper than a divide */      \
    static void FN(softmax_scale_##T)(double *s, Py_ssize_t m, double total)             \
    {                                                                                     \
        if (sizeof(T) == sizeof(double)) {                                                \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                s[j] /= total;                                                            \
        } else {                                                                          \
            double inv = 1.0 / total;                                                     \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                s[j] *= inv;                                                              \
        }                                                                                 \
    }                                                                                     \
    /* rows [lo, hi_): forward (g == NULL) into o, or backward y (g - sum g y), its largest \
     * y_k's entry as y_k sum_{j != k} (g_k - g_j) y_j, which does not cancel; stream:   \
     * the backward from the saved output writes o with non-temporal stores */            \
    static void FN(softmax_rows_##T)(const T *x, const T *g, const T *y, T *o,           \
                                     Py_ssize_t m, double *s, double *gs,                 \
                                     Py_ssize_t lo, Py_ssize_t hi_, int stream)           \
    {                                                                                     \
        (void)stream;                                                                     \
        const int hi = sizeof(T) == sizeof(double);                                       \
        for (Py_ssize_t row = lo; row < hi_; row++) {                                     \
            const T *xr = x + row * m;                                                    \
            T *orow = o + row * m;                                                        \
            if (g == NULL && hi) {                                                        \
                double *od = (double *)(void *)orow;                                      \
                FN(softmax_scale_##T)(od, m, FN(softmax_row_##T)(xr, od, m, 1, NULL, NULL)); \
                continue;                                                                 \
            }                                                                             \
            if (g == NULL) {                                                              \
                /* the next row's prefetch, if it is ours: 0.84x the time at 1e7 for rows   \
                 * of 1,000, 0.88x for rows of 10,000, no change for rows of 100, 1.01x for  \
                 * rows of 37 and 1.01-1.04x for float64 rows, which go without */        \
                const T *pf = row + 1 < hi_ && m >= 64 ? xr + m : NULL;                   \
                double inv = 1.0 / FN(softmax_row_##T)(xr, s, m, 0, pf, orow + m);         \
                for (Py_ssize_t j = 0; j < m; j++)                                        \
                    orow[j] = (T)(s[j] * inv);                                            \
                continue;                                                                 \
            }                                                                             \
            const T *gr = g + row * m;                                                    \
            if (y != NULL) { /* from the saved output, read where it is: no copies */     \
                const T *yr = y + row * m;                                                \
                double inner = FN(pairwise_dot_##T)(gr, yr, m);                           \
                Py_ssize_t k = FN(dominant_##T)(yr, m);                                   \
                double dom = k < 0 ? 0.0 : (double)yr[k] *                                \
                    FN(terms_##T##_##T)(gr, yr, (double)gr[k], k, m);                     \
                if (STREAM_Y_G_MINUS(T, stream, yr, gr, orow, m, inner, k, dom))          \
                    continue;                                                             \
                for (Py_ssize_t j = 0; j < m; j++)                                        \
                    orow[j] = (T)((double)yr[j] * ((double)gr[j] - inner));               \
                if (k >= 0)                                                               \
                    orow[k] = (T)dom;                                                     \
                continue;                                                                 \
            }                                                                             \
            FN(softmax_scale_##T)(s, m, FN(softmax_row_##T)(xr, s, m, hi, NULL, NULL));   \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                gs[j] = (double)gr[j] * s[j];                                             \
            double inner = FN(pairwise_sum)(gs, m);                                       \
            Py_ssize_t k = FN(dominant_double)(s, m);                                     \
            double dom = k < 0 ? 0.0 : s[k] * FN(terms_##T##_s)(gr, s, (double)gr[k], k, m); \
            for (Py_ssize_t j = 0; j < m; j++)                                            \
                orow[j] = (T)(s[j] * ((double)gr[j] - inner));                            \
            if (k >= 0)                                                                   \
                orow[k] = (T)dom;                                                         \
        }                                                                                 \
    }

ROW_MAX(double)
/* The index of the first largest entry when it is above 1/2 (its g_k - sum g y would
 * cancel), else -1; -1 for a row holding a NaN too, which is NaN either way. */
#define DOMINANT(T)                                                                       \
    static Py_ssize_t FN(dominant_##T)(const T *y, Py_ssize_t m)                          \
    {                                                                                     \
        int nan;                                                                          \
        double mn, mx = FN(row_max_##T)(y, m, &nan, &mn);                                 \
        if (nan || !(mx > 0.5))                                                           \
            return -1;                                                                    \
        Py_ssize_t k = 0;                                                                 \
        while (k < m - 1 && !((double)y[k] == mx))                                        \
            k++;                                                                          \
        return k;                                                                         \
    }
DOMINANT(float)
DOMINANT(double)
#undef DOMINANT

SOFTMAX_ROW(float)
SOFTMAX_ROW(double)

/* ------------------------------------------------------------------ maxout groups */
/* Forward (g == NULL): o[grp] = the maximum of the group's k entries, chained as
 * np.maximum chains them ((r > v || r != r) ? r : v: NaN propagates, ties keep the later
 * zero).  Backward: the group's gradient to its first maximum (np.argmax: the first NaN, if
 * any), 0 to the others; a group holding a NaN gets NaN everywhere. */
#define MAXOUT_LOOP(T)                                                                    \
    static void FN(maxout_##T)(const T *x, const T *g, T *o, Py_ssize_t k, Py_ssize_t lo,\
                               Py_ssize_t hi_)                                            \
    {                                                                                     \
        if (g == NULL && k == 2) { /* the common case, in a loop the compiler vectorises */ \
            for (Py_ssize_t grp = lo; grp < hi_; grp++) {                                 \
                T a = x[2 * grp], c = x[2 * grp + 1];                                     \
                o[grp] = (a > c || a != a) ? a : c;                                       \
            }                                                                             \
            return;                                                                       \
        }                                                                                 \
        if (k == 2) { /* the backward of the same, without the general loop's branches, \
                       * which random data mispredicts half the time (3x the time) */     \
            for (Py_ssize_t grp = lo; grp < hi_; grp++) {                                 \
                T a = x[2 * grp], c = x[2 * grp + 1], gv = g[grp];                        \
                int nan = a != a || c != c, second = c > a;                               \
                o[2 * grp] = nan ? (T)NAN : (second ? (T)0 : gv);                         \
                o[2 * grp + 1] = nan ? (T)NAN : (second ? gv : (T)0);                     \
            }                                                                             \
            return;                                                                       \
        }                                                                                 \
        for (Py_ssize_t grp = lo; grp < hi_; grp++) {                                     \
            const T *v = x + grp * k;                                                     \
            if (g == NULL) {                                                              \
                T r = v[0];                                                               \
                for (Py_ssize_t j = 1; j < k; j++)                                        \
                    r = (r > v[j] || r != r) ? r : v[j];                                  \
                o[grp] = r;                                                               \
                continue;                                                                 \
            }                                                                             \
            T best = v[0];                                                                \
            Py_ssize_t idx = 0;                                                           \
            int nan = v[0] != v[0];                                                       \
            for (Py_ssize_t j = 1; j < k && !nan; j++) {                                  \
                if (v[j] != v[j]) {                                                       \
                    nan = 1;                                                              \
                } else if (v[j] > best) {                                                 \
                    best = v[j];                                                          \
                    idx = j;                                                              \
                }                                                                         \
            }                                                                             \
            T *orow = o + grp * k;                                                        \
            for (Py_ssize_t j = 0; j < k; j++)                                            \
                orow[j] = nan ? (T)NAN : (j == idx ? g[grp] : (T)0);                      \
        }                                                                                 \
    }

MAXOUT_LOOP(float)
MAXOUT_LOOP(double)

static const maxout_loop FN(MAXOUT)[2] = {(maxout_loop)FN(maxout_float),
                                          (maxout_loop)FN(maxout_double)};

static const softmax_loop FN(SOFTMAX)[2] = {(softmax_loop)FN(softmax_rows_float),
                                            (softmax_loop)FN(softmax_rows_double)};

#undef STREAM_Y_G_MINUS
#undef CAT2
#undef CAT
#undef FN
#undef SCALE
#undef UNSCALE
#undef DOUBLE_LOOPS
#undef TAIL_BLOCK
#undef EXACT_LOOPS
#undef EXACT_FUNCTIONS
#undef SOFTMAX_ROW
#undef EXP_PASS
#undef MAXOUT_LOOP
#undef ROW_MAX
