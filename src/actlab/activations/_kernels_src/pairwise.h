/* NumPy's pairwise summation (8 accumulators over blocks of up to 128, halves above that),
 * so that softmax's row sums round as the reference's np.sum does; over terms computed on
 * the fly, so the same bits without an array of the terms. */
#ifndef KERNELS_PAIRWISE_H
#define KERNELS_PAIRWISE_H

#include "common.h"

/* What is summed: a[i] (a double row); a[i] b[i]; or softmax's largest entry's terms
 * (gk - a[i]) b[i], with term k left out (0).  a64, b64: a and b are float64, not float32. */
typedef enum { SUM_OF, DOT_OF, DOMINANT_OF } sum_kind;

ALWAYS_INLINE double term(sum_kind kind, int a64, int b64, const void *a, const void *b,
                          double gk, Py_ssize_t k, Py_ssize_t i)
{
    if (kind == SUM_OF)
        return ((const double *)a)[i];
    double ai = load_elem(a, i, a64), bi = load_elem(b, i, b64);
    if (kind == DOT_OF)
        return ai * bi;
    return i == k ? 0.0 : (gk - ai) * bi;
}

#define TERM(i) term(kind, a64, b64, a, b, gk, k, i)

/* the sum of n <= 128 terms, in NumPy's order */
ALWAYS_INLINE double pairwise_leaf(sum_kind kind, int a64, int b64, const void *a,
                                   const void *b, double gk, Py_ssize_t k, Py_ssize_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (Py_ssize_t i = 0; i < n; i++)
            res += TERM(i);
        return res;
    }
    double r[8];
    Py_ssize_t i;
    for (int j = 0; j < 8; j++)
        r[j] = TERM(j);
    for (i = 8; i < n - (n % 8); i += 8)
        for (int j = 0; j < 8; j++)
            r[j] += TERM(i + j);
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++)
        res += TERM(i);
    return res;
}
#undef TERM

/* One recursive sum for each kind and dtypes that softmax_rows sums, its leaf inlined */
#define PAIRWISE(fn, kind, a64, b64)                                                      \
    static double fn(const void *a, const void *b, double gk, Py_ssize_t k, Py_ssize_t n)  \
    {                                                                                     \
        if (n <= 128)                                                                     \
            return pairwise_leaf(kind, a64, b64, a, b, gk, k, n);                         \
        Py_ssize_t n2 = n / 2 - (n / 2) % 8;                                              \
        return fn(a, b, gk, k, n2) + fn(elem_ptr(a, n2, a64),                             \
                                        b != NULL ? elem_ptr(b, n2, b64) : NULL, gk,      \
                                        k - n2, n - n2);                                  \
    }
PAIRWISE(sum_f64, SUM_OF, 1, 1)
PAIRWISE(dot_f32, DOT_OF, 0, 0)
PAIRWISE(dot_f64, DOT_OF, 1, 1)
PAIRWISE(dominant_f32_f32, DOMINANT_OF, 0, 0)
PAIRWISE(dominant_f32_f64, DOMINANT_OF, 0, 1)
PAIRWISE(dominant_f64_f64, DOMINANT_OF, 1, 1)
#undef PAIRWISE

ALWAYS_INLINE double pairwise_sum(const double *a, Py_ssize_t n)
{
    return sum_f64(a, NULL, 0.0, 0, n);
}

/* sum a[i] b[i], each product rounded to double as a stored product would be */
ALWAYS_INLINE double pairwise_dot(int is64, const void *a, const void *b, Py_ssize_t n)
{
    return is64 ? dot_f64(a, b, 0.0, 0, n) : dot_f32(a, b, 0.0, 0, n);
}

/* sum_{j != k} (gk - g[j]) y[j] */
ALWAYS_INLINE double pairwise_terms(int g64, int y64, const void *g, const void *y, double gk,
                                    Py_ssize_t k, Py_ssize_t n)
{
    return g64 ? dominant_f64_f64(g, y, gk, k, n)
               : y64 ? dominant_f32_f64(g, y, gk, k, n) : dominant_f32_f32(g, y, gk, k, n);
}

#endif
