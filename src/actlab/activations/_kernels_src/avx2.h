/* The hand-vectorised AVX2 code, included by isa_avx2.c only (after loop.h): where gcc's
 * loops leave speed behind, the same operations in the same order written with
 * intrinsics, so the same bits as the generic code (the tests compare both builds).
 *
 * - the float32 sigmoid's backward, and tanh and selu forward and backward (LOOP_OVERRIDES),
 *   four floats at a time widened to double, four vectors a step: single instructions where gcc emits
 *   a compare and a blend (the clamp at -200 as vmaxpd(-200, a), which returns a when a is
 *   NaN, as the C does);
 * - the float32 softmax row's maximum and minimum (row_max_float_avx2);
 * - softmax's backward from the saved output, streamed from the registers
 *   (stream_y_g_minus_*).
 */
#ifndef KERNELS_AVX2_H
#define KERNELS_AVX2_H

#include <immintrin.h>
#include "loop.h"

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

/* NAME4(mode, x, g, i): f of 4 floats (MODE_FWD), or g times f' (MODE_BWD), as f_NAME
 * computes them for float32 results */
typedef __m256d (*vec4_rule)(int mode, const float *x, const float *g, Py_ssize_t i);

/* e^x for x in [-200, 200], then e/(1 + e) */
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

/* f_tanh's operations, copysign as an or of x's sign bit into the positive -em / (em + 2) */
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

#undef SIGN_BIT
#undef ONE

/* Four independent vectors per step, all loaded before any is stored (so o may be x or g):
 * the scheduler sees work that does not wait on the long chain of one exponential.
 * Returns where it stopped (fewer than 4 left). */
ALWAYS_INLINE Py_ssize_t avx2_steps(vec4_rule rule, int mode, const float *x, const float *g,
                                    float *o, Py_ssize_t i, Py_ssize_t hi)
{
    for (; i + 16 <= hi; i += 16) {
        __m256d r0 = rule(mode, x, g, i), r1 = rule(mode, x, g, i + 4);
        __m256d r2 = rule(mode, x, g, i + 8), r3 = rule(mode, x, g, i + 12);
        store4_narrow(o + i, r0);
        store4_narrow(o + i + 4, r1);
        store4_narrow(o + i + 8, r2);
        store4_narrow(o + i + 12, r3);
    }
    for (; i + 4 <= hi; i += 4)
        store4_narrow(o + i, rule(mode, x, g, i));
    return i;
}

/* The forward and the backward by rule, one loop per mode (gcc does not unswitch a loop on
 * the mode); the other modes and the last few elements by the generic loop. */
ALWAYS_INLINE void avx2_float_loop(vec4_rule rule, int fwd, elementwise_loop generic,
                                   LOOP_PARAMS)
{
    Py_ssize_t i = lo;
    if (mode == MODE_FWD && !fwd) {
        generic(LOOP_ARGS);
        return;
    }
    if (mode == MODE_FWD)
        i = avx2_steps(rule, MODE_FWD, x, g, o, i, hi);
    else if (mode == MODE_BWD)
        i = avx2_steps(rule, MODE_BWD, x, g, o, i, hi);
    generic(mode, x, g, o, o2, prm, i, hi);
}

/* (marked unused: isa_avx512.c includes this file for softmax's code and leaves them out) */
#define DEFINE_OVERRIDE(name, fwd, generic)                                               \
    __attribute__((unused)) static void loop_##name##_f32_avx2(LOOP_PARAMS)               \
    {                                                                                     \
        avx2_float_loop(name##4, fwd, generic, LOOP_ARGS);                                \
    }
/* the float32 loops this file replaces: (name, whether the forward too, the loop of what it
 * leaves); the sigmoid's forward is the float32 lanes' of rules_f32.h */
#define LOOP_OVERRIDES(X)                                                                 \
    X(sigmoid, 0, loop_sigmoid_f32_lanes) X(tanh, 1, loop_tanh_f32) X(selu, 1, loop_selu_f32)
LOOP_OVERRIDES(DEFINE_OVERRIDE)
#undef DEFINE_OVERRIDE
#define OVERRIDE_ENTRY(name, fwd, generic) isa->loops[K_##name][0] = loop_##name##_f32_avx2;

/* ------------------------------------------------------------------ softmax */
/* The float32 row's maximum and minimum on 8 floats per vector with no widening, one vmaxps
 * (vminps) per vector and no NaN check: vmaxps(v, acc) keeps acc where v is NaN, so a NaN
 * among finite entries leaves the maximum finite and shows up as a NaN sum (softmax_row
 * checks it).  Returns whether the row needs the exact scalar pass: an infinite maximum, or
 * none (a row of NaN and -inf). */
static int row_max_float_avx2(const float *x, Py_ssize_t m, float *max, double *mn)
{
    Py_ssize_t j = 0;
    float mx = -INFINITY;
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
    *max = mx;
    return isinf(mx);
}

#if HAVE_STREAM
/* o[j] = y[j] (g[j] - inner), o[k] = dom, with the rounding of softmax_rows' plain loop, the
 * aligned middle of the row written by non-temporal stores from the registers: the
 * output's lines are not read before they are written. */
ALWAYS_INLINE double y_g_minus_at(int is64, const void *y, const void *g, double inner,
                                   Py_ssize_t k, double dom, Py_ssize_t j)
{
    return j == k ? dom : load_elem(y, j, is64) * (load_elem(g, j, is64) - inner);
}

ALWAYS_INLINE void stream_y_g_minus(int is64, const void *yv, const void *gv, void *ov,
                                    Py_ssize_t m, double inner, Py_ssize_t k, double dom)
{
    const int align = is64 ? 31 : 15; /* a 32-byte (4 doubles), 16-byte (4 floats) store */
    const __m256d in = _mm256_set1_pd(inner);
    Py_ssize_t j = 0;
    for (; j < m && ((uintptr_t)elem_ptr(ov, j, is64) & align); j++)
        store_elem(ov, j, is64, y_g_minus_at(is64, yv, gv, inner, k, dom, j));
    for (; j + 4 <= m; j += 4) {
        __m256d y4, g4;
        if (is64) {
            y4 = _mm256_loadu_pd((const double *)yv + j);
            g4 = _mm256_loadu_pd((const double *)gv + j);
        } else {
            y4 = load4_widen((const float *)yv + j);
            g4 = load4_widen((const float *)gv + j);
        }
        __m256d v = _mm256_mul_pd(y4, _mm256_sub_pd(g4, in));
        if ((size_t)(k - j) < 4) { /* the dominant entry, computed apart */
            double lanes[4];
            _mm256_storeu_pd(lanes, v);
            lanes[k - j] = dom;
            v = _mm256_loadu_pd(lanes);
        }
        if (is64)
            _mm256_stream_pd((double *)ov + j, v);
        else
            _mm_stream_ps((float *)ov + j, _mm256_cvtpd_ps(v));
    }
    for (; j < m; j++)
        store_elem(ov, j, is64, y_g_minus_at(is64, yv, gv, inner, k, dom, j));
}
#define HAVE_STREAM_Y_G_MINUS 1
#endif

#endif
