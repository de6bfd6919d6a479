/* Five ways to a faster float32 sigmoid, each against actlab's loop, in cache on one
 * thread, and each one's accuracy on a sweep of floats in [-80, 80] against a long-double
 * reference.  Not part of the library: the measurements behind "slower, not kept" in
 * benchmarks/README.md.
 *
 *   gcc -O3 -mavx2 -mfma -ffp-contract=off -DVARIANT=1 -DDEG=5 sigmoid_variants.c -o v -lm
 *   ./v 997            # the sweep takes every 997th float
 *
 * cur() is a copy of sigmoid_float_avx2_fwd_bwd's forward as it was at stop 10
 * (src/actlab/activations/_kernels_body.h and the constants of _kernels.c): 4 double
 * lanes, rounded once.
 * VARIANT 1 (DEG 4 or 5): 8 float32 lanes with float-float arithmetic: e^{-|x|} =
 *   2^n (1 + u + ul) with ln2 in two floats and the low part's product kept, d = 1 + e as
 *   dh + dl, and s = N / d by one division refined once with the residual; lanes with
 *   |x| > 80 or NaN take cur().
 * VARIANT 4 and 8: 4 double lanes, e^{-|x|} = 2^n 2^(j/N) (1 + expm1(r)), |r| <= ln2/(2N),
 *   the table in registers read by vpermd, the exponent added as an integer, a polynomial
 *   of degree 3 (N = 4, 2.5e-11) or 2 (N = 8, 1.7e-10).
 * VARIANT 2: cur() with the reduction in base 2: t = -|x| log2(e) by one multiplication,
 *   k = round(t) by the shift, f = t - k exact, and 2^f - 1 as f (ln2 + f Q(f)), Q being
 *   cur's polynomial rescaled; one multiply-add fewer than cur, two additions more.
 *
 * VARIANT 3: e/(1 + e) with e = e^x for x clamped to [-110, 110], no select on x's sign:
 *   the form the library took at stop 11 (in this harness 0.89-0.92x cur's time).
 *
 * cur() takes four vectors a step, as the library's loop has since stop 10; the ratios of
 * VARIANT 1, 4 and 8 in benchmarks/README.md were measured against one vector a step.
 */
#ifndef VARIANT
#define VARIANT 1
#endif
#ifndef DEG
#define DEG 5
#endif
static const float XMAXF = 80.0f; /* VARIANT 1 takes cur() above it; the sweep stops there */
#define _GNU_SOURCE
#include <time.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdint.h>
#include <x86intrin.h>

static const double INV_LN2 = 0x1.71547652b82fep0;
static const double LN2_HI = 0x1.62e42fefa39efp-1;
static const double SHIFT = 0x1.8p52;
static const double EXP_LOWEST_LO = -110.0;
static const double EXPM1_LO[6] = {
    0.500000001346581, 0.16666666681623232, 0.041666464925285904, 0.0083333109254809,
    0.0013933649996309251, 0.00019890990824673654};
static inline __m256d expm1_reduced4_lo(__m256d a, __m256d *s)
{
    const double *c = EXPM1_LO;
    const __m256d shift = _mm256_set1_pd(SHIFT + 1023);
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
#define SIGN_BIT _mm256_set1_pd(-0.0)
#define ONE _mm256_set1_pd(1.0)
static inline __m256d cur4(__m256d xv)
{
    __m256d s;
    __m256d p = expm1_reduced4_lo(_mm256_or_pd(xv, SIGN_BIT), &s);
    __m256d e = _mm256_fmadd_pd(s, p, s);
    return _mm256_div_pd(_mm256_blendv_pd(ONE, e, xv), _mm256_add_pd(e, ONE));
}
/* NAME(x, o, n): F4 over x four vectors a step, as the library's loop takes them */
#define LOOP4(NAME, F4)                                                                 \
    static __attribute__((noinline)) void NAME(const float *x, float *o, long n)        \
    {                                                                                   \
        long i = 0;                                                                     \
        for (; i + 16 <= n; i += 16) {                                                  \
            __m256d r0 = F4(_mm256_cvtps_pd(_mm_loadu_ps(x + i)));                      \
            __m256d r1 = F4(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)));                  \
            __m256d r2 = F4(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 8)));                  \
            __m256d r3 = F4(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 12)));                 \
            _mm_storeu_ps(o + i, _mm256_cvtpd_ps(r0));                                  \
            _mm_storeu_ps(o + i + 4, _mm256_cvtpd_ps(r1));                              \
            _mm_storeu_ps(o + i + 8, _mm256_cvtpd_ps(r2));                              \
            _mm_storeu_ps(o + i + 12, _mm256_cvtpd_ps(r3));                             \
        }                                                                               \
        for (; i + 4 <= n; i += 4)                                                      \
            _mm_storeu_ps(o + i, _mm256_cvtpd_ps(F4(_mm256_cvtps_pd(_mm_loadu_ps(x + i))))); \
    }
LOOP4(cur, cur4)

#if VARIANT == 1
/* ---------------- float-float, 8 float lanes */
#if DEG == 5
static const float P[6] = {0x1.0000000000000p-1f, 0x1.5555560000000p-3f, 0x1.5554800000000p-5f, 0x1.11107c0000000p-7f, 0x1.6d96b80000000p-10f, 0x1.a1b83c0000000p-13f};
#else
static const float P[5] = {0x1.0000000000000p-1f, 0x1.55548e0000000p-3f, 0x1.55545e0000000p-5f, 0x1.123b7e0000000p-7f, 0x1.6db4620000000p-10f};
#endif
#define F(v) _mm256_set1_ps(v)
static const float LN2F_HI = 0x1.62e43p-1f;
#define LN2F_LO ((float)(0.69314718055994530942 - (double)0x1.62e43p-1f))

static inline __m256 ff8(__m256 xv)
{
    const __m256 shift = F(0x1.8p23f + 127.0f);
    __m256 z = _mm256_or_ps(xv, F(-0.0f));                 /* -|x| */
    __m256 kd = _mm256_fmadd_ps(z, F(0x1.715476p0f), shift);
    __m256 s = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(kd), 23));
    kd = _mm256_sub_ps(kd, shift);
    __m256 rh = _mm256_fmadd_ps(kd, F(-LN2F_HI), z);         /* exact */
    __m256 rl = _mm256_mul_ps(kd, F(-LN2F_LO));
    __m256 r2 = _mm256_mul_ps(rh, rh);
#if DEG == 5
    __m256 p = _mm256_fmadd_ps(F(P[5]), rh, F(P[4]));
    p = _mm256_fmadd_ps(p, rh, F(P[3]));
#else
    __m256 p = _mm256_fmadd_ps(F(P[4]), rh, F(P[3]));
#endif
    p = _mm256_fmadd_ps(p, rh, F(P[2]));
    p = _mm256_fmadd_ps(p, rh, F(P[1]));
    p = _mm256_fmadd_ps(p, rh, F(P[0]));
    __m256 w = _mm256_mul_ps(r2, p);                        /* expm1(rh) - rh */
    /* e^z / 2^n = (1 + rh + w)(1 + rl) = 1 + rh + c */
    __m256 c = _mm256_fmadd_ps(rl, _mm256_add_ps(rh, w), _mm256_add_ps(rl, w));
    __m256 u = _mm256_add_ps(rh, c);
    __m256 ul = _mm256_add_ps(_mm256_sub_ps(rh, u), c);
    __m256 eh = _mm256_fmadd_ps(s, u, s);
    __m256 el = _mm256_fmadd_ps(s, u, _mm256_sub_ps(s, eh));
    el = _mm256_fmadd_ps(s, ul, el);
    /* d = 1 + e */
    __m256 dh = _mm256_add_ps(F(1.0f), eh);
    __m256 dl = _mm256_add_ps(_mm256_add_ps(_mm256_sub_ps(F(1.0f), dh), eh), el);
    __m256 nh = _mm256_blendv_ps(F(1.0f), eh, xv);
    __m256 nl = _mm256_and_ps(el, _mm256_castsi256_ps(_mm256_srai_epi32(_mm256_castps_si256(xv), 31)));
    __m256 t = _mm256_div_ps(F(1.0f), dh);
    __m256 q0 = _mm256_mul_ps(nh, t);
    __m256 res = _mm256_fnmadd_ps(q0, dh, nh);
    res = _mm256_fnmadd_ps(q0, dl, res);
    res = _mm256_add_ps(res, nl);
    return _mm256_fmadd_ps(res, t, q0);
}
static __attribute__((noinline)) void ff(const float *x, float *o, long n)
{
    for (long i = 0; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
        /* |x| <= XMAX and not NaN, else the double loop */
        __m256 bad = _mm256_cmp_ps(_mm256_andnot_ps(F(-0.0f), xv), F(XMAXF), _CMP_NLE_UQ);
        if (__builtin_expect(!_mm256_testz_ps(bad, bad), 0)) {
            cur(x + i, o + i, 8);
            continue;
        }
        _mm256_storeu_ps(o + i, ff8(xv));
    }
}

#elif VARIANT == 4 || VARIANT == 8
static const double TAB4_P[4] = {0.4999999663891233, 0.16666665849687862, 0.04168116943408091, 0.008335911170140918};
static const double TAB8_P[3] = {0.4999999974478542, 0.16668026236755001, 0.04167063348675343};
static const double T4[4] = {0x1.0000000000000p+0, 0x1.306fe0a31b715p+0, 0x1.6a09e667f3bcdp+0, 0x1.ae89f995ad3adp+0};
static const double T8[8] = {0x1.0000000000000p+0, 0x1.172b83c7d517bp+0, 0x1.306fe0a31b715p+0, 0x1.4bfdad5362a27p+0, 0x1.6a09e667f3bcdp+0, 0x1.8ace5422aa0dbp+0, 0x1.ae89f995ad3adp+0, 0x1.d5818dcfba487p+0};
static __m256i TB_A, TB_B;  /* bits(T[j]) - (1023 << 52) as dword pairs */
static void init_tables(int N)
{
    int64_t b[8];
    for (int j = 0; j < N; j++) { memcpy(&b[j], N == 4 ? &T4[j] : &T8[j], 8); b[j] -= (int64_t)1023 << 52; }
    TB_A = _mm256_loadu_si256((const __m256i *)b);
    if (N == 8) TB_B = _mm256_loadu_si256((const __m256i *)(b + 4));
}
/* e^a for a <= 0 (clamped at -110), 2^(k/N) T[j] (1 + expm1(r)), |r| <= ln2/(2N) */
static inline __m256d exp_tab(__m256d a, int N)
{
    const int L = N == 4 ? 2 : 3;
    const __m256d shift = _mm256_set1_pd(SHIFT + N * 1023.0);
    a = _mm256_max_pd(_mm256_set1_pd(EXP_LOWEST_LO), a);
    __m256d kd = _mm256_fmadd_pd(a, _mm256_set1_pd(N * INV_LN2), shift);
    __m256i ki = _mm256_castpd_si256(kd);
    __m256i idx = _mm256_shuffle_epi32(_mm256_slli_epi64(ki, 1), _MM_SHUFFLE(2, 2, 0, 0));
    idx = _mm256_or_si256(idx, _mm256_set_epi32(1, 0, 1, 0, 1, 0, 1, 0));
    __m256i tb = _mm256_permutevar8x32_epi32(TB_A, idx);
    if (N == 8)
        tb = _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(tb),
                 _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(TB_B, idx)),
                 _mm256_castsi256_pd(_mm256_slli_epi64(ki, 61))));
    __m256d st = _mm256_castsi256_pd(_mm256_add_epi64(tb, _mm256_slli_epi64(_mm256_srli_epi64(ki, L), 52)));
    kd = _mm256_sub_pd(kd, shift);
    __m256d r = _mm256_fmadd_pd(kd, _mm256_set1_pd(-LN2_HI / N), a);
    __m256d q;
    if (N == 4) {
        q = _mm256_fmadd_pd(_mm256_set1_pd(TAB4_P[3]), r, _mm256_set1_pd(TAB4_P[2]));
        q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(TAB4_P[1]));
        q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(TAB4_P[0]));
    } else {
        q = _mm256_fmadd_pd(_mm256_set1_pd(TAB8_P[2]), r, _mm256_set1_pd(TAB8_P[1]));
        q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(TAB8_P[0]));
    }
    __m256d p = _mm256_fmadd_pd(_mm256_mul_pd(r, r), q, r);
    return _mm256_fmadd_pd(st, p, st);
}
static inline __m256d table_sigmoid4(__m256d xv, int N)
{
    __m256d e = exp_tab(_mm256_or_pd(xv, SIGN_BIT), N);
    return _mm256_div_pd(_mm256_blendv_pd(ONE, e, xv), _mm256_add_pd(e, ONE));
}
static __attribute__((noinline)) void table_loop(const float *x, float *o, long n)
{
    for (long i = 0; i + 4 <= n; i += 4)
        _mm_storeu_ps(o + i, _mm256_cvtpd_ps(table_sigmoid4(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), VARIANT)));
}
#endif


#if VARIANT == 2
/* e^{-|x|} = 2^k 2^f: t = a log2(e) rounded once, k = round(t) by the shift, f = t - k exact */
static const double LOG2E = 0x1.71547652b82fep+0, LN2 = 0x1.62e42fefa39efp-1;
static const double D[6] = {0x1.ebfbe00e67255p-3, 0x1.c6b08d77228c0p-5, 0x1.3b2a52fa1200bp-7,
    0x1.5d87c0e0428d9p-10, 0x1.441397181b518p-13, 0x1.008a28250605ep-16};
static inline __m256d v2_4(__m256d xv)
{
    const __m256d shift = _mm256_set1_pd(SHIFT + 1023);
    __m256d a = _mm256_max_pd(_mm256_set1_pd(EXP_LOWEST_LO), _mm256_or_pd(xv, SIGN_BIT));
    __m256d t = _mm256_mul_pd(a, _mm256_set1_pd(LOG2E));
    __m256d kd = _mm256_add_pd(t, shift);
    __m256d s = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(kd), 52));
    __m256d f = _mm256_sub_pd(t, _mm256_sub_pd(kd, shift));
    __m256d q = _mm256_fmadd_pd(_mm256_set1_pd(D[5]), f, _mm256_set1_pd(D[4]));
    q = _mm256_fmadd_pd(q, f, _mm256_set1_pd(D[3]));
    q = _mm256_fmadd_pd(q, f, _mm256_set1_pd(D[2]));
    q = _mm256_fmadd_pd(q, f, _mm256_set1_pd(D[1]));
    q = _mm256_fmadd_pd(q, f, _mm256_set1_pd(D[0]));
    q = _mm256_fmadd_pd(q, f, _mm256_set1_pd(LN2));
    __m256d p = _mm256_mul_pd(q, f);
    __m256d e = _mm256_fmadd_pd(s, p, s);
    return _mm256_div_pd(_mm256_blendv_pd(ONE, e, xv), _mm256_add_pd(e, ONE));
}
LOOP4(v2_loop, v2_4)
#endif

#if VARIANT == 3
/* sigmoid = e/(1 + e) with e = e^x for x clamped to [-110, 110]: no sign, no select */
static inline __m256d v3_4(__m256d xv)
{
    __m256d s;
    __m256d p = expm1_reduced4_lo(_mm256_min_pd(_mm256_set1_pd(110.0), xv), &s);
    __m256d e = _mm256_fmadd_pd(s, p, s);
    return _mm256_div_pd(e, _mm256_add_pd(e, ONE));
}
LOOP4(v3_loop, v3_4)
#endif

#if VARIANT == 1
#define variant ff
#elif VARIANT == 2
#define variant v2_loop
#elif VARIANT == 3
#define variant v3_loop
#else
#define variant table_loop
#endif

static int cmp_double(const void *a, const void *b)
{
    double d = *(const double *)a - *(const double *)b;
    return d < 0 ? -1 : d > 0;
}
static double now(void){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+1e-9*t.tv_nsec; }
static long double ref(float x) { long double e = expl(-fabsl((long double)x)); return x < 0 ? e/(1+e) : 1/(1+e); }
static double ulperr(float v, long double r)
{
    /* ulp of the float nearest r */
    float rf = (float)r; if (rf == 0) rf = 0x1p-149f;
    int ex; frexpf(fabsf(rf), &ex); double ulp = ldexp(1.0, ex - 24); if (ulp < 0x1p-149) ulp = 0x1p-149;
    /* if rf is a power of two and r below it, ulp is half */
    if (fabsl(r) < fabsf(rf) && fabsf(rf) == ldexpf(1.0f, ex-1)) ulp /= 2;
    return (double)(fabsl((long double)v - r) / ulp);
}
int main(int argc, char **argv)
{
#if VARIANT == 4 || VARIANT == 8
    init_tables(VARIANT);
#endif
    long n = 16384;
    float *x = aligned_alloc(64, n*4), *o = aligned_alloc(64, n*4);
    srand(1);
    for (long i = 0; i < n; i++) { double u1 = (rand()+1.0)/RAND_MAX, u2 = rand()/(double)RAND_MAX; x[i] = 4*sqrt(-2*log(u1))*cos(2*M_PI*u2); }
    /* the two loops alternate call by call, so that drifts of the machine's speed hit both;
     * the ratio is the median over 21 repeats of (ff's time / cur's time) */
    double ratio[21], tc[21];
    for (int r = 0; r < 21; r++) {
        double sc = 0, sf = 0;
        for (int k = 0; k < 500; k++) {
            double t0 = now(); cur(x, o, n);
            double t1 = now(); variant(x, o, n);
            double t2 = now(); sc += t1 - t0; sf += t2 - t1;
        }
        ratio[r] = sf / sc; tc[r] = sc / 500 / n * 1e9;
    }
    qsort(ratio, 21, sizeof(double), cmp_double); qsort(tc, 21, sizeof(double), cmp_double);
    printf("VARIANT %d DEG %d in cache, one thread: cur %.3f ns per element; variant / cur: median %.3f "
           "(min %.3f, max %.3f over 21 repeats)\n", VARIANT, DEG, tc[10], ratio[10], ratio[0], ratio[20]);
    /* accuracy: every float in [-XMAX, XMAX] with stride */
    long stride = argc > 1 ? atol(argv[1]) : 97;
    double worst_ff = 0, worst_cur = 0; float wx_ff = 0, wx_cur = 0; long ndiff = 0, cnt = 0;
    float buf[8], ob[8], oc[8];
    uint32_t lim; float xm = XMAXF; memcpy(&lim, &xm, 4);
    for (uint32_t b = 0; b <= lim; b += 8*stride) {
        for (int j = 0; j < 8; j++) { uint32_t bb = b + j*stride; if (j & 1) bb |= 0x80000000u; memcpy(&buf[j], &bb, 4); }
        variant(buf, ob, 8); cur(buf, oc, 8);
        for (int j = 0; j < 8; j++) {
            long double r = ref(buf[j]);
            double ef = ulperr(ob[j], r), ec = ulperr(oc[j], r);
            if (ef > worst_ff) { worst_ff = ef; wx_ff = buf[j]; }
            if (ec > worst_cur) { worst_cur = ec; wx_cur = buf[j]; }
            ndiff += ob[j] != oc[j]; cnt++;
        }
    }
    printf("points %ld  worst variant %.3f ULP at %a   worst cur %.3f at %a   differ %ld\n", cnt, worst_ff, wx_ff, worst_cur, wx_cur, ndiff);
    return 0;
}
