/* The float32 forwards computed in float32 lanes (kernels.def's FLOAT32_FORWARDS): sixteen
 * elements per AVX-512 vector, eight per AVX2 one, where the double rules take half as many.
 *
 * f(x) for a float32 x is ff_NAME(x, uh, ul, s), e^a = 2^k (uh + ul) and s = 2^(k+64) from
 * expf_reduce and expf_poly of a = exp_arg_NAME(x).  Every step whose rounding would show in a float32 result is
 * kept as an unevaluated sum: e^a as 2^k (uh + ul), 1 + e as dh + dl, the numerator as
 * nh + nl; the quotient is one division and one correction step, so that the result is
 * rounded once, from a value whose relative error is below 2^-25.5 (the exponential's, 0.3
 * ULP at most).  The scaling by 2^k comes last, as two products (2^(k+64), then 2^-64), so
 * that a subnormal result is rounded once and none is flushed early.  Plain C (fmaf,
 * selects, bit casts) that gcc vectorises; fmaf is correctly rounded everywhere, so every
 * build gives the same bits.
 */
#ifndef KERNELS_RULES_F32_H
#define KERNELS_RULES_F32_H

#include "common.h"

ALWAYS_INLINE uint32_t asuint32(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

ALWAYS_INLINE float asfloat(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static const float INV_LN2_F = 0x1.715476p0f;
/* ln2 = LN2_HI_F + LN2_LO_F: k LN2_HI_F is exact for |k| < 2^8 */
static const float LN2_HI_F = 0x1.62e4p-1f;
static const float LN2_LO_F = 0x1.7f7d1cp-20f;
/* 1.5 2^23 + 191: k + 191 in the low bits of x/ln2 + SHIFT_F, so that shifting them into
 * the exponent field gives 2^(k+64) */
static const float SHIFT_F = 0x1.8p23f + 191.0f;
/* expm1(r) = r + r^2 P(r), |r| <= ln2/2: error 5.2e-10 (2^-30.8) with the coefficients
 * rounded to float (tools/fit_polynomials.py's fit, degree 5) */
static const float EXPM1_F[6] = {0x1p-1f, 0x1.555556p-3f, 0x1.5554e8p-5f, 0x1.1110ep-7f,
                                 0x1.6d44d2p-10f, 0x1.a1267p-13f};

/* e^a = 2^k (uh + ul) for a in [-131, 0] (or NaN), in two steps.  The reduction:
 * a = k ln2 + r + rl, r1 = a - k LN2_HI_F exact, r = r1 - k LN2_LO_F rounded and rl its
 * rounding error; *s = 2^(k+64). */
ALWAYS_INLINE void expf_reduce(float a, float *r, float *rl, float *s)
{
    float ks = fmaf(a, INV_LN2_F, SHIFT_F);
    *s = asfloat(asuint32(ks) << 23);
    float kd = ks - SHIFT_F;
    float r1 = fmaf(kd, -LN2_HI_F, a);
    *r = fmaf(kd, -LN2_LO_F, r1);
    *rl = fmaf(kd, -LN2_LO_F, r1 - *r);
}

/* e^(r + rl) = 1 + r + t + rl to 2^-35, t = r^2 P(r), as uh + ul: 1 + (r + t) as a sum of
 * two floats */
ALWAYS_INLINE void expf_poly(float r, float rl, float *uh, float *ul)
{
    const float *c = EXPM1_F;
    float p = fmaf(c[5], r, c[4]);
    p = fmaf(p, r, c[3]);
    p = fmaf(p, r, c[2]);
    p = fmaf(p, r, c[1]);
    p = fmaf(p, r, c[0]);
    float t = (r * r) * p;
    float ph = r + t, pl = ((r - ph) + t) + rl; /* |r| >= |t| */
    *uh = 1.0f + ph;
    *ul = ((1.0f - *uh) + ph) + pl;             /* 1 >= |ph| */
}

/* (nh + nl) / (1 + e) 2^(k+64) 2^-64 with e = 2^k (uh + ul) <= 1, s = 2^(k+64);
 * nk: whether the result carries the factor 2^k (else s is taken as 2^64) */
ALWAYS_INLINE float quotient_over_one_plus(float nh, float nl, float uh, float ul, float s,
                                           int nk)
{
    float eh = (uh * s) * 0x1p-64f, el = (ul * s) * 0x1p-64f;
    float dh = 1.0f + eh, dl = ((1.0f - dh) + eh) + el;
    float inv = 1.0f / dh;
    float q = nh * inv;
    float res = fmaf(-q, dh, nh) + (nl - q * dl);
    float b = fmaf(res, inv, q);
    return (b * (nk ? s : 0x1p64f)) * 0x1p-64f;
}

/* sigmoid: e = e^-|x| (x clamped at -104, where the float32 result has long been 0);
 * e/(1 + e) for x < 0, 1/(1 + e) else */
ALWAYS_INLINE float exp_arg_sigmoid(float x)
{
    float a = -fabsf(x);
    return a < -104.0f ? -104.0f : a; /* NaN stays */
}

ALWAYS_INLINE float ff_sigmoid(float x, float uh, float ul, float s)
{
    int neg = x < 0.0f;
    float f = quotient_over_one_plus(neg ? uh : 1.0f, neg ? ul : 0.0f, uh, ul, s, neg);
    return x != x ? x : f;
}

/* silu: x/(1 + e^-x) for x >= 0 (x itself from 32 on, where e^-x < 2^-46), x e^x/(1 + e^x)
 * else (x clamped at -112, where the float32 result has long been -0), x e^x = x (uh + ul)
 * 2^k with x uh split exactly.  Below 2^-125 in size x/2 may be a rounding tie, which the
 * exact value x/2 + x^2/4 breaks upward. */
#define SILU_LOWEST_F (-112.0f)
ALWAYS_INLINE float exp_arg_silu(float x)
{
    float xc = x < SILU_LOWEST_F ? SILU_LOWEST_F : x;
    return -fabsf(xc);
}

ALWAYS_INLINE float ff_silu(float x, float uh, float ul, float s)
{
    float xc = x < SILU_LOWEST_F ? SILU_LOWEST_F : x;
    int neg = x < 0.0f;
    float xu = xc * uh, xul = fmaf(xc, uh, -xu) + xc * ul;
    float f = quotient_over_one_plus(neg ? xu : x, neg ? xul : 0.0f, uh, ul, s, neg);
    f = x > 32.0f ? x : f;
    uint32_t ax = asuint32(fabsf(x));
    int tie = ax < 0x01000000u && (ax & 1u);
    float half = asfloat((asuint32(x) & 0x80000000u) | ((ax >> 1) + (x > 0.0f)));
    f = tie ? half : (ax < 0x21800000u ? 0.5f * x : f); /* below 2^-60: x/2 */
    return x != x ? x : f;
}

/* ------------------------------------------------------------------ without an exponential */
/* hard_sigmoid and hard_swish (kernels.def's FLOAT32_PLAIN_FORWARDS): their float32 forwards
 * correctly rounded in float32 lanes, the same bits as the double rules (checked on every
 * float32 input by tools/check_float32_lanes.py).  x + 3 = sh + sl exactly (a two-sum), the
 * numerator as nh + nl, then nh/6 by a product and two correction steps: q = nh/6 to within an
 * ULP, r = nh - 6q + nl (nh - 6q exact by an fma), c = r/6 likewise, and q + (r - 6c)/6 + c.
 * fp_NAME(x, &near_tie) also says where that float-float value, good to about 2^-45, lies
 * within 2^-12 ULP of a rounding tie: those few elements are taken again by the double rule. */
#define F32_BLOCK 256
static const float ONE_SIXTH_F = 0x1.555556p-3f;

/* nh/6 + nl/6 rounded, and whether it lies near a tie (for |result| >= 2^-100) */
ALWAYS_INLINE float div6_f(float nh, float nl, int *near_tie)
{
    float q = nh * ONE_SIXTH_F;
    float r = fmaf(-6.0f, q, nh) + nl;
    float c = r * ONE_SIXTH_F;
    float t = fmaf(fmaf(-6.0f, c, r), ONE_SIXTH_F, c);
    float f = q + t;
    float off = fabsf(t - (f - q)); /* how far the float-float value lies from f, exactly */
    uint32_t bits = asuint32(fabsf(f));
    float ulp = asfloat((bits & 0x7f800000u) - (23u << 23));
    /* at a power of two, the tie below it is a quarter of f's ULP away */
    float tie = (bits & 0x007fffffu) == 0 ? 0.25f * ulp : 0.5f * ulp;
    *near_tie = off >= tie - ulp * 0x1p-12f;
    return f;
}

ALWAYS_INLINE float clamp3_f(float x)
{
    float xc = x > -3.0f ? x : -3.0f; /* NaN becomes -3; the rules return x for NaN */
    return xc < 3.0f ? xc : 3.0f;
}

ALWAYS_INLINE float plus3_f(float x, float *lo)
{
    float s = x + 3.0f, bb = s - x;
    *lo = (x - (s - bb)) + (3.0f - bb);
    return s;
}

/* (x + 3)/6 on [-3, 3], 0 below, 1 above; never near a tie (every float32 checked) */
ALWAYS_INLINE float fp_hard_sigmoid(float x, int *near_tie)
{
    int unused;
    float sl, sh = plus3_f(clamp3_f(x), &sl);
    float f = div6_f(sh, sl, &unused);
    *near_tie = 0;
    return x != x ? x : f;
}

/* x(x + 3)/6 on [-3, 3], -0 below, x above; x/2 (a tie broken upward) below 2^-60, as
 * ff_silu */
ALWAYS_INLINE float fp_hard_swish(float x, int *near_tie)
{
    float xc = clamp3_f(x);
    float sl, sh = plus3_f(xc, &sl);
    float ph = xc * sh, pl = fmaf(xc, sh, -ph) + xc * sl;
    int near;
    float f = div6_f(ph, pl, &near);
    int middle = x > -3.0f && x < 3.0f;
    f = x < -3.0f ? -0.0f : (x >= 3.0f ? x : f);
    uint32_t ax = asuint32(fabsf(x));
    int tie = ax < 0x01000000u && (ax & 1u);
    float half = asfloat((asuint32(x) & 0x80000000u) | ((ax >> 1) + (x > 0.0f)));
    f = tie ? half : (ax < 0x21800000u ? 0.5f * x : f);
    *near_tie = middle && ax >= 0x21800000u && near;
    return x != x ? x : f;
}

/* o = f(x) on float32 elements [lo, hi): the float32 rule, then the double one (exact, as
 * the generic loop stores it) for the elements near a tie; block by block through a buffer,
 * so that o may be x */
ALWAYS_INLINE void float32_plain_forward(float (*rule)(float, int *),
                                         void (*exact)(double, int, double, double *, double *),
                                         const float *x, float *o, Py_ssize_t lo, Py_ssize_t hi)
{
    float f[F32_BLOCK];
    int near[F32_BLOCK];
    for (Py_ssize_t b = lo; b < hi; b += F32_BLOCK) {
        Py_ssize_t m = hi - b < F32_BLOCK ? hi - b : F32_BLOCK;
        int any = 0;
        for (Py_ssize_t i = 0; i < m; i++) {
            f[i] = rule(x[b + i], &near[i]);
            any |= near[i];
        }
        if (any)
            for (Py_ssize_t i = 0; i < m; i++)
                if (near[i]) {
                    double fd, dd;
                    exact((double)x[b + i], 0, 0.0, &fd, &dd);
                    f[i] = (float)fd;
                }
        memcpy(o + b, f, (size_t)m * sizeof *f);
    }
}

/* o = f(x) on float32 elements [lo, hi), in blocks: the reductions of a block first, into
 * buffers on the stack, then the polynomials, then the quotients.  Three loops with a third
 * of the dependency chain each keep more elements in flight than one (30% faster on an AMD
 * EPYC). */
ALWAYS_INLINE void float32_forward(float (*arg)(float), float (*rule)(float, float, float, float),
                                   const float *x, float *o, Py_ssize_t lo, Py_ssize_t hi)
{
    float r[F32_BLOCK], rl[F32_BLOCK], s[F32_BLOCK], uh[F32_BLOCK], ul[F32_BLOCK];
    for (Py_ssize_t b = lo; b < hi; b += F32_BLOCK) {
        Py_ssize_t m = hi - b < F32_BLOCK ? hi - b : F32_BLOCK;
        for (Py_ssize_t i = 0; i < m; i++)
            expf_reduce(arg(x[b + i]), &r[i], &rl[i], &s[i]);
        for (Py_ssize_t i = 0; i < m; i++)
            expf_poly(r[i], rl[i], &uh[i], &ul[i]);
        for (Py_ssize_t i = 0; i < m; i++)
            o[b + i] = rule(x[b + i], uh[i], ul[i], s[i]);
    }
}

#endif
