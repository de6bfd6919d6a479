/* maxout over groups of k consecutive entries, forward and backward, entries compared
 * and copied in double, which holds every float32 exactly.  Included by isa_base.c and
 * isa_avx2.c.
 *
 * Forward (g == NULL): o[grp] = the maximum of the group's k entries, chained as np.maximum
 * chains them ((r > v || r != r) ? r : v: NaN propagates, ties keep the later zero).
 * Backward: the group's gradient to its first maximum (np.argmax: the first NaN, if any),
 * 0 to the others; a group holding a NaN gets NaN everywhere. */
#ifndef KERNELS_MAXOUT_H
#define KERNELS_MAXOUT_H

#include "common.h"

/* where the gradient goes in the group of k from start, -1 when the group holds a NaN */
ALWAYS_INLINE Py_ssize_t group_argmax(int is64, const void *x, Py_ssize_t start, Py_ssize_t k)
{
    double best = load_elem(x, start, is64);
    Py_ssize_t idx = 0;
    if (best != best)
        return -1;
    for (Py_ssize_t j = 1; j < k; j++) {
        double v = load_elem(x, start + j, is64);
        if (v != v)
            return -1;
        if (v > best) {
            best = v;
            idx = j;
        }
    }
    return idx;
}

ALWAYS_INLINE void maxout_groups(int is64, const void *x, const void *g, void *o, Py_ssize_t k,
                                 Py_ssize_t lo, Py_ssize_t hi)
{
    if (g == NULL && k == 2) { /* the common case, in a loop the compiler vectorises */
        for (Py_ssize_t grp = lo; grp < hi; grp++) {
            double a = load_elem(x, 2 * grp, is64), c = load_elem(x, 2 * grp + 1, is64);
            store_elem(o, grp, is64, (a > c || a != a) ? a : c);
        }
        return;
    }
    if (k == 2) { /* the backward of the same, without the general loop's branches, which
                   * random data mispredicts half the time */
        for (Py_ssize_t grp = lo; grp < hi; grp++) {
            double a = load_elem(x, 2 * grp, is64), c = load_elem(x, 2 * grp + 1, is64);
            double gv = load_elem(g, grp, is64);
            int nan = a != a || c != c, second = c > a;
            store_elem(o, 2 * grp, is64, nan ? NAN : (second ? 0.0 : gv));
            store_elem(o, 2 * grp + 1, is64, nan ? NAN : (second ? gv : 0.0));
        }
        return;
    }
    for (Py_ssize_t grp = lo; grp < hi; grp++) {
        Py_ssize_t start = grp * k;
        if (g == NULL) {
            double r = load_elem(x, start, is64);
            for (Py_ssize_t j = 1; j < k; j++) {
                double v = load_elem(x, start + j, is64);
                r = (r > v || r != r) ? r : v;
            }
            store_elem(o, grp, is64, r);
            continue;
        }
        Py_ssize_t idx = group_argmax(is64, x, start, k);
        double gv = load_elem(g, grp, is64);
        for (Py_ssize_t j = 0; j < k; j++)
            store_elem(o, start + j, is64, idx < 0 ? NAN : (j == idx ? gv : 0.0));
    }
}

static void maxout_f32(const void *x, const void *g, void *o, Py_ssize_t k, Py_ssize_t lo,
                       Py_ssize_t hi)
{
    maxout_groups(0, x, g, o, k, lo, hi);
}

static void maxout_f64(const void *x, const void *g, void *o, Py_ssize_t k, Py_ssize_t lo,
                       Py_ssize_t hi)
{
    maxout_groups(1, x, g, o, k, lo, hi);
}

#endif
