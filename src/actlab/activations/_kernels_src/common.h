/* What every part of actlab.activations._kernels shares: the kernel ids and tables derived
 * from kernels.def, the loop signatures, a task for the thread pool, and the per-element
 * helpers.  module.c is the Python side, args.c its argument checks, pool.c the threads;
 * isa_base.c, isa_avx2.c and isa_avx512.c compile the loops (loop.h and the headers it
 * includes) once for each instruction set.
 */
#ifndef KERNELS_COMMON_H
#define KERNELS_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.def"

#if !defined(_WIN32)
#define HAVE_PTHREADS 1
#else
#define HAVE_PTHREADS 0
#endif

#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_STREAM 1
#else
#define HAVE_STREAM 0
#endif

/* isa_avx2.c and isa_avx512.c hold code only where gcc can compile it for AVX2 and pick it at run time */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_AVX2_VERSION 1
#else
#define HAVE_AVX2_VERSION 0
#endif

#define KERNEL_ID(name, kind, split_at, streams, needs_fma) K_##name,
#define VECTOR_ID(name, kind, split_at, streams, needs_fma) V_##name,
enum { ELEMENTWISE_KERNELS(KERNEL_ID) K_COUNT };
enum { VECTOR_KERNELS(VECTOR_ID) V_COUNT };
#undef KERNEL_ID
#undef VECTOR_ID
#define KIND_EXACT 1
#define KIND_SMOOTH 0

/* MODE_FWD: o = f(x); MODE_DER: o = f'(x); MODE_BWD: o = g f'(x); MODE_FWD_DER: o = f(x),
 * o2 = f'(x).  In place (o == x, o == g) is fine: each element is read before it is written. */
enum { MODE_FWD, MODE_DER, MODE_BWD, MODE_FWD_DER };

/* (mode, x, g, o, o2, param, lo, hi): elements [lo, hi) of one dtype */
typedef void (*elementwise_loop)(int, const void *, const void *, void *, void *, double,
                                 Py_ssize_t, Py_ssize_t);
/* (x, g, o, k, lo, hi): groups [lo, hi) of k */
typedef void (*maxout_loop)(const void *, const void *, void *, Py_ssize_t, Py_ssize_t,
                            Py_ssize_t);
/* (x, g, y, o, m, s, gs, lo, hi, stream): rows [lo, hi) of m, with two scratch rows */
typedef void (*softmax_loop)(const void *, const void *, const void *, void *, Py_ssize_t,
                             double *, double *, Py_ssize_t, Py_ssize_t, int);

/* The loops of one instruction set, [dtype] = 0 float32, 1 float64. */
typedef struct {
    const char *name;
    int fast_fma;
    elementwise_loop loops[K_COUNT][2];
    softmax_loop softmax[2];
    softmax_loop log_softmax[2];
    maxout_loop maxout[2];
} isa_t;

void isa_base(isa_t *isa);
int isa_avx2(isa_t *isa); /* 0 when this build or this CPU has no AVX2+FMA version */
const char *isa_avx2_missing(void); /* NULL, or the first feature lacking */
int isa_avx512(isa_t *isa); /* 0 when this build or this CPU has no AVX-512 version */
/* NULL when isa_avx512 can run, else the first feature this CPU (or build) lacks */
const char *isa_avx512_missing(void);

typedef enum { TASK_ELEMENTWISE, TASK_SOFTMAX, TASK_MAXOUT } task_kind;

typedef struct {
    task_kind kind;
    elementwise_loop loop;
    softmax_loop sloop;
    maxout_loop mloop;
    int mode;
    int stream;          /* elementwise, softmax's backward: non-temporal stores */
    Py_ssize_t itemsize; /* elementwise: 4 or 8 */
    const void *x, *g, *y;
    void *o, *o2;
    double prm;
    Py_ssize_t m; /* softmax row length, maxout group size */
    Py_ssize_t lo, hi;
    int failed;
} task_t;

/* pool.c */
void run_task(task_t *t);
/* [0, n) in chunks (multiples of `align`) on the caller and up to threads-1 helpers; each of
 * the n items is `unit` elements.  Returns whether a chunk failed (out of memory). */
int run_split(task_t *proto, Py_ssize_t n, int threads, Py_ssize_t align, Py_ssize_t unit);
/* t over [0, n): on the calling thread alone when small (no GIL dance, no threads), else
 * by run_split with the GIL released.  Returns whether it failed. */
int run_call(task_t *t, Py_ssize_t n, int small, int threads, Py_ssize_t align, Py_ssize_t unit);
long pool_spin_ns(long set); /* set < 0: leave it; returns the value (0 without a pool) */
extern Py_ssize_t stream_at;

/* Every per-element helper is inlined, whatever gcc's size heuristics say: one call left in
 * a loop stops it from being vectorised (the float64 forwards then take 3-5x the time). */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE uint64_t asuint64(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

ALWAYS_INLINE double asdouble(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

ALWAYS_INLINE double neg_abs(double x)
{
    return asdouble(asuint64(x) | 0x8000000000000000ull);
}

/* Element i of a float32 (is64 = 0) or float64 buffer, as a double; is64 is a constant
 * wherever these are inlined, so each loop is compiled for its dtype alone. */
ALWAYS_INLINE double load_elem(const void *p, Py_ssize_t i, int is64)
{
    return is64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

/* v rounded once to the buffer's dtype, into element i */
ALWAYS_INLINE void store_elem(void *p, Py_ssize_t i, int is64, double v)
{
    if (is64)
        ((double *)p)[i] = v;
    else
        ((float *)p)[i] = (float)v;
}

ALWAYS_INLINE const void *elem_ptr(const void *p, Py_ssize_t i, int is64)
{
    return (const char *)p + i * (is64 ? 8 : 4);
}

#endif
