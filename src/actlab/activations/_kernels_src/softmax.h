/* softmax over rows, forward and backward, as the NumPy kernel computes it: e^{x - max} in
 * double by exp_le0, summed by NumPy's pairwise summation, rounded once to the row's dtype.
 * Included by isa_base.c and isa_avx2.c (after avx2.h there). */
#ifndef KERNELS_SOFTMAX_H
#define KERNELS_SOFTMAX_H

#include "pairwise.h"
#include "reductions.h"

/* GCC vector types, for the maximum the vectoriser leaves scalar (a NaN-aware reduction) */
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

/* The exact maximum, and whether there is a NaN: the pass for rows the fast one leaves open. */
ALWAYS_INLINE double row_max_exact(int is64, const void *x, Py_ssize_t m, int *nan)
{
    double mx = -INFINITY;
    *nan = 0;
    for (Py_ssize_t j = 0; j < m; j++) {
        double v = load_elem(x, j, is64);
        *nan |= v != v;
        mx = v > mx ? v : mx;
    }
    return mx;
}

/* 4 entries from p + j as doubles (exact for float32) */
ALWAYS_INLINE v4d load4(const void *p, Py_ssize_t j, int is64)
{
    if (is64) {
        v4d v;
        memcpy(&v, (const double *)p + j, sizeof v);
        return v;
    }
    v4f v;
    memcpy(&v, (const float *)p + j, sizeof v);
    return __builtin_convertvector(v, v4d);
}

/* A row's maximum and whether it holds a NaN.  Two lanes of 4 running maxima and of v - v
 * (0, or NaN for NaN and ±inf); only a row holding a NaN or an infinity takes the exact
 * pass.  *mn = -inf: unknown (the exponentials then clamp their argument). */
ALWAYS_INLINE double row_max_vec(int is64, const void *x, Py_ssize_t m, int *nan, double *mn)
{
    *mn = -INFINITY;
    v4d acc0 = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, acc1 = acc0;
    v4d chk0 = {0.0, 0.0, 0.0, 0.0}, chk1 = chk0;
    Py_ssize_t j = 0;
    for (; j + 8 <= m; j += 8) {
        v4d a = load4(x, j, is64), b = load4(x, j + 4, is64);
        v4i ma = (v4i)(a > acc0), mb = (v4i)(b > acc1);
        acc0 = (v4d)(((v4i)a & ma) | ((v4i)acc0 & ~ma));
        acc1 = (v4d)(((v4i)b & mb) | ((v4i)acc1 & ~mb));
        chk0 += a - a;
        chk1 += b - b;
    }
    double mx = -INFINITY, ck = 0.0;
    for (int k = 0; k < 4; k++) {
        mx = acc0[k] > mx ? acc0[k] : mx;
        mx = acc1[k] > mx ? acc1[k] : mx;
        ck += chk0[k] + chk1[k];
    }
    for (; j < m; j++) {
        double v = load_elem(x, j, is64);
        mx = v > mx ? v : mx;
        ck += v - v;
    }
    *nan = 0;
    return ck != ck ? row_max_exact(is64, x, m, nan) : mx; /* a NaN or an infinity somewhere */
}

static double row_max_double(const double *x, Py_ssize_t m, int *nan, double *mn)
{
    return row_max_vec(1, x, m, nan, mn);
}

/* A float32 row's: in the AVX2 build by row_max_float_avx2, which also gives the row's
 * minimum; else widened to double as a float64 row's. */
static double row_max_float(const float *x, Py_ssize_t m, int *nan, double *mn)
{
#if defined(ACTLAB_AVX2)
    float mx;
    *nan = 0;
    if (row_max_float_avx2(x, m, &mx, mn))
        return row_max_exact(0, x, m, nan);
    return (double)mx;
#else
    return row_max_vec(0, x, m, nan, mn);
#endif
}

ALWAYS_INLINE double row_max(int is64, const void *x, Py_ssize_t m, int *nan, double *mn)
{
    return is64 ? row_max_double(x, m, nan, mn) : row_max_float(x, m, nan, mn);
}

/* The index of the first largest entry when it is above 1/2 (its g_k - sum g y would
 * cancel), else -1; -1 for a row holding a NaN too, which is NaN either way. */
ALWAYS_INLINE Py_ssize_t dominant_of(int is64, const void *y, Py_ssize_t m)
{
    int nan;
    double mn, mx = row_max(is64, y, m, &nan, &mn);
    if (nan || !(mx > 0.5))
        return -1;
    Py_ssize_t k = 0;
    while (k < m - 1 && !(load_elem(y, k, is64) == mx))
        k++;
    return k;
}

static Py_ssize_t dominant_f32(const void *y, Py_ssize_t m)
{
    return dominant_of(0, y, m);
}

static Py_ssize_t dominant_f64(const void *y, Py_ssize_t m)
{
    return dominant_of(1, y, m);
}

ALWAYS_INLINE Py_ssize_t dominant(int is64, const void *y, Py_ssize_t m)
{
    return is64 ? dominant_f64(y, m) : dominant_f32(y, m);
}

/* e^v for v = x - max <= 0: float64 results; float32 results with v known to be above the
 * clamp; float32 results with the clamp */
enum { EXP_HI, EXP_LO_IN_RANGE, EXP_LO };
ALWAYS_INLINE double shifted_exp(int how, double v)
{
    return how == EXP_HI ? exp_le0(v, 1) : how == EXP_LO_IN_RANGE ? exp_le0_in_range_lo(v)
                                                                  : exp_le0(v, 0);
}

/* s[i] = e^{x[i] - mx} for i in [0, m), in blocks of one cache line of x when pf is given:
 * each block also prefetches that line of the next row's x (pf) and of its output (pfo,
 * for writing), so that their transfers from memory overlap this row's exponentials. */
ALWAYS_INLINE void exp_pass(int is64, int how, const void *x, double *s, Py_ssize_t m,
                            double mx, const void *pf, const void *pfo)
{
    const Py_ssize_t line = is64 ? 8 : 16;
    Py_ssize_t i = 0;
    if (pf != NULL) {
        for (Py_ssize_t b = 0; b + line <= m; b += line) {
            __builtin_prefetch(elem_ptr(pf, b, is64), 0, 3);
            __builtin_prefetch(elem_ptr(pfo, b, is64), 1, 3);
            for (i = b; i < b + line; i++)
                s[i] = shifted_exp(how, load_elem(x, i, is64) - mx);
        }
    }
    for (; i < m; i++)
        s[i] = shifted_exp(how, load_elem(x, i, is64) - mx);
}

ALWAYS_INLINE double row_of_nan(double *s, Py_ssize_t m)
{
    for (Py_ssize_t j = 0; j < m; j++)
        s[j] = NAN;
    return 1.0;
}

/* e^{x - max} of the row into the double buffer s (which may be the output row itself for
 * float64: each entry of x is read before s overwrites it); returns their sum.  Rows that
 * are final already return 1: an infinite maximum gives equal shares to the entries equal
 * to it (an all -inf row is uniform), a NaN makes the row NaN.  (The NumPy kernel keeps the
 * maximum's 1 out of the sum and adds it last, which can change the last bit; both are
 * within the accuracy bound.) */
ALWAYS_INLINE double softmax_row(int is64, const void *x, double *s, Py_ssize_t m,
                                 const void *pf, const void *pfo)
{
    int nan;
    double mn, mx = row_max(is64, x, m, &nan, &mn);
    if (nan)
        return row_of_nan(s, m);
    if (isinf(mx)) {
        double count = 0.0;
        for (Py_ssize_t j = 0; j < m; j++)
            count += load_elem(x, j, is64) == mx;
        for (Py_ssize_t j = 0; j < m; j++)
            s[j] = load_elem(x, j, is64) == mx ? 1.0 / count : 0.0;
        return 1.0;
    }
    if (is64)
        exp_pass(1, EXP_HI, x, s, m, mx, pf, pfo);
    else if (mn - mx >= EXP_LOWEST_LO) /* every x - max as large: no clamp */
        exp_pass(0, EXP_LO_IN_RANGE, x, s, m, mx, pf, pfo);
    else
        exp_pass(0, EXP_LO, x, s, m, mx, pf, pfo);
    double total = pairwise_sum(s, m);
    return total != total ? row_of_nan(s, m) : total; /* a NaN the maximum passed over */
}

/* s /= total: divided for float64 results; for float32 results multiplied by 1/total,
 * exact to 2^-52, far below float32's half ULP, and 4x cheaper than a divide */
ALWAYS_INLINE void softmax_scale(int is64, double *s, Py_ssize_t m, double total)
{
    if (is64) {
        for (Py_ssize_t j = 0; j < m; j++)
            s[j] /= total;
    } else {
        double inv = 1.0 / total;
        for (Py_ssize_t j = 0; j < m; j++)
            s[j] *= inv;
    }
}

/* o = y (g - inner), o[k] = dom (k >= 0), with streaming stores where stream asks and the
 * build has them */
ALWAYS_INLINE void y_g_minus(int is64, int stream, const void *y, const void *g, void *o,
                             Py_ssize_t m, double inner, Py_ssize_t k, double dom)
{
#if defined(HAVE_STREAM_Y_G_MINUS)
    if (stream) {
        stream_y_g_minus(is64, y, g, o, m, inner, k, dom);
        return;
    }
#else
    (void)stream;
#endif
    for (Py_ssize_t j = 0; j < m; j++)
        store_elem(o, j, is64, load_elem(y, j, is64) * (load_elem(g, j, is64) - inner));
    if (k >= 0)
        store_elem(o, k, is64, dom);
}

/* rows [lo, hi): forward (g == NULL) into o, or backward y (g - sum g y), its largest
 * y_k's entry as y_k sum_{j != k} (g_k - g_j) y_j, which does not cancel; from the saved
 * output y when given (read where it is: no copies), else from softmax(x) */
ALWAYS_INLINE void softmax_rows(int is64, const void *x, const void *g, const void *y, void *o,
                                Py_ssize_t m, double *s, double *gs, Py_ssize_t lo,
                                Py_ssize_t hi, int stream)
{
    for (Py_ssize_t row = lo; row < hi; row++) {
        const void *xr = elem_ptr(x, row * m, is64);
        void *orow = (char *)o + row * m * (is64 ? 8 : 4);
        if (g == NULL && is64) {
            softmax_scale(1, orow, m, softmax_row(1, xr, orow, m, NULL, NULL));
            continue;
        }
        if (g == NULL) {
            /* the next row's prefetch, if it is ours (float32 rows of 64 and more) */
            const void *pf = row + 1 < hi && m >= 64 ? elem_ptr(xr, m, 0) : NULL;
            double inv = 1.0 / softmax_row(0, xr, s, m, pf, elem_ptr(orow, m, 0));
            for (Py_ssize_t j = 0; j < m; j++)
                ((float *)orow)[j] = (float)(s[j] * inv);
            continue;
        }
        const void *gr = elem_ptr(g, row * m, is64);
        if (y != NULL) {
            const void *yr = elem_ptr(y, row * m, is64);
            double inner = pairwise_dot(is64, gr, yr, m);
            Py_ssize_t k = dominant(is64, yr, m);
            double dom = k < 0 ? 0.0 : load_elem(yr, k, is64) *
                pairwise_terms(is64, is64, gr, yr, load_elem(gr, k, is64), k, m);
            y_g_minus(is64, stream, yr, gr, orow, m, inner, k, dom);
            continue;
        }
        softmax_scale(is64, s, m, softmax_row(is64, xr, s, m, NULL, NULL));
        for (Py_ssize_t j = 0; j < m; j++)
            gs[j] = load_elem(gr, j, is64) * s[j];
        double inner = pairwise_sum(gs, m);
        Py_ssize_t k = dominant(1, s, m);
        double dom = k < 0 ? 0.0 : s[k] * pairwise_terms(is64, 1, gr, s, load_elem(gr, k, is64),
                                                          k, m);
        for (Py_ssize_t j = 0; j < m; j++)
            store_elem(orow, j, is64, s[j] * (load_elem(gr, j, is64) - inner));
        if (k >= 0)
            store_elem(orow, k, is64, dom);
    }
}

static void softmax_rows_f32(const void *x, const void *g, const void *y, void *o, Py_ssize_t m,
                             double *s, double *gs, Py_ssize_t lo, Py_ssize_t hi, int stream)
{
    softmax_rows(0, x, g, y, o, m, s, gs, lo, hi, stream);
}

static void softmax_rows_f64(const void *x, const void *g, const void *y, void *o, Py_ssize_t m,
                             double *s, double *gs, Py_ssize_t lo, Py_ssize_t hi, int stream)
{
    softmax_rows(1, x, g, y, o, m, s, gs, lo, hi, stream);
}

/* ------------------------------------------------------------------ log_softmax */
/* The index of the first largest entry of the double row s, or of its first NaN (np.argmax's) */
ALWAYS_INLINE Py_ssize_t first_argmax(const double *s, Py_ssize_t m)
{
    Py_ssize_t k = 0;
    double best = s[0];
    if (best != best)
        return 0;
    for (Py_ssize_t j = 1; j < m; j++) {
        if (s[j] != s[j])
            return j;
        if (s[j] > best) {
            best = s[j];
            k = j;
        }
    }
    return k;
}

/* One row of log_softmax's forward into o: (x - max) - log1p(sum_{j != k} e^{x_j - max}),
 * k the first maximal entry, in double and rounded once.  An infinite maximum (an all -inf
 * row too) gives -log(count) to the entries equal to it and -inf to the others; a NaN makes
 * the row NaN.  o may be x itself: each x_j is read before o_j is written. */
ALWAYS_INLINE void log_softmax_row(int is64, const void *x, void *o, double *s, Py_ssize_t m)
{
    int nan;
    double mn, mx = row_max(is64, x, m, &nan, &mn);
    if (nan) {
        for (Py_ssize_t j = 0; j < m; j++)
            store_elem(o, j, is64, NAN);
        return;
    }
    if (isinf(mx)) {
        double count = 0.0;
        for (Py_ssize_t j = 0; j < m; j++)
            count += load_elem(x, j, is64) == mx;
        double top = -log(count);
        for (Py_ssize_t j = 0; j < m; j++)
            store_elem(o, j, is64, load_elem(x, j, is64) == mx ? top : -INFINITY);
        return;
    }
    if (is64)
        exp_pass(1, EXP_HI, x, s, m, mx, NULL, NULL);
    else if (mn - mx >= EXP_LOWEST_LO)
        exp_pass(0, EXP_LO_IN_RANGE, x, s, m, mx, NULL, NULL);
    else
        exp_pass(0, EXP_LO, x, s, m, mx, NULL, NULL);
    Py_ssize_t k = 0;
    while (k < m - 1 && !(load_elem(x, k, is64) == mx))
        k++;
    s[k] = 0.0;
    double rest = pairwise_sum(s, m);
    double lse = log1p(rest);
    if (lse != lse) { /* a NaN the maximum passed over */
        for (Py_ssize_t j = 0; j < m; j++)
            store_elem(o, j, is64, NAN);
        return;
    }
    for (Py_ssize_t j = 0; j < m; j++)
        store_elem(o, j, is64, (load_elem(x, j, is64) - mx) - lse);
}

/* rows [lo, hi): forward (g == NULL) into o, or backward g - s sum(g), s = softmax(x), or
 * e^y from the saved output y; the largest s_k's entry as
 * g_k sum_{j != k} s_j - s_k sum_{j != k} g_j, which does not cancel. */
ALWAYS_INLINE void log_softmax_rows(int is64, const void *x, const void *g, const void *y,
                                    void *o, Py_ssize_t m, double *s, double *gs,
                                    Py_ssize_t lo, Py_ssize_t hi)
{
    for (Py_ssize_t row = lo; row < hi; row++) {
        const void *xr = elem_ptr(x, row * m, is64);
        void *orow = (char *)o + row * m * (is64 ? 8 : 4);
        if (g == NULL) {
            log_softmax_row(is64, xr, orow, s, m);
            continue;
        }
        const void *gr = elem_ptr(g, row * m, is64);
        if (y != NULL) {
            const void *yr = elem_ptr(y, row * m, is64);
            for (Py_ssize_t j = 0; j < m; j++) {
                double v = load_elem(yr, j, is64);
                /* a saved output is <= 0; anything else takes libm's exp */
                s[j] = v <= 0.0 ? exp_le0(v, is64) : exp(v);
            }
        } else {
            softmax_scale(is64, s, m, softmax_row(is64, xr, s, m, NULL, NULL));
        }
        for (Py_ssize_t j = 0; j < m; j++)
            gs[j] = load_elem(gr, j, is64);
        double total = pairwise_sum(gs, m);
        Py_ssize_t k = first_argmax(s, m);
        double gk = gs[k], sk = s[k];
        gs[k] = 0.0;
        s[k] = 0.0;
        double others_g = pairwise_sum(gs, m), others_s = pairwise_sum(s, m);
        s[k] = sk;
        for (Py_ssize_t j = 0; j < m; j++)
            store_elem(orow, j, is64, load_elem(gr, j, is64) - s[j] * total);
        store_elem(orow, k, is64, gk * others_s - sk * others_g);
    }
}

static void log_softmax_rows_f32(const void *x, const void *g, const void *y, void *o,
                                 Py_ssize_t m, double *s, double *gs, Py_ssize_t lo,
                                 Py_ssize_t hi, int stream)
{
    (void)stream;
    log_softmax_rows(0, x, g, y, o, m, s, gs, lo, hi);
}

static void log_softmax_rows_f64(const void *x, const void *g, const void *y, void *o,
                                 Py_ssize_t m, double *s, double *gs, Py_ssize_t lo,
                                 Py_ssize_t hi, int stream)
{
    (void)stream;
    log_softmax_rows(1, x, g, y, o, m, s, gs, lo, hi);
}

#endif
