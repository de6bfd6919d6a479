/* The generic elementwise loop, instantiated for every kernel of kernels.def and both
 * dtypes.  isa_base.c and isa_avx2.c each include it once, compiled for their instruction
 * set; everything here is static, so each gets its own copy.
 *
 * The loop functions take the kernel's rule as a constant argument and are always inlined
 * into the per-kernel wrappers below (DEFINE_LOOPS), so each wrapper is one loop per mode
 * with the rule inlined into it, vectorised by gcc at -O3.  fma() is correctly rounded in
 * every build and -ffp-contract=off keeps the compiler from fusing anything else, so every
 * instruction set returns the same bits.
 */
#ifndef KERNELS_LOOP_H
#define KERNELS_LOOP_H

#include "rules_smooth.h"
#include "rules_piecewise.h"
#include "rules_f32.h"

typedef void (*smooth_rule)(double x, int hi, double prm, double *f, double *d);
typedef int (*tail_test)(double x, double prm);
typedef double (*tail_rule)(double x, double g, double d, double prm);
typedef int (*rare_test)(double x);

/* For float64 results, blocks with a tail entry take the tail's product: found while the
 * block is written, or before when o is x or g. */
#define TAIL_BLOCK 512

/* One element of a smooth kernel in a given mode (a constant where it is inlined). */
ALWAYS_INLINE void smooth_elem(smooth_rule rule, int is64, int mode, const void *x,
                               const void *g, void *o, void *o2, double prm, Py_ssize_t i)
{
    double f, d;
    rule(load_elem(x, i, is64), is64, prm, &f, &d);
    if (mode == MODE_FWD || mode == MODE_FWD_DER)
        store_elem(o, i, is64, f);
    if (mode == MODE_DER)
        store_elem(o, i, is64, d);
    if (mode == MODE_BWD)
        store_elem(o, i, is64, d * load_elem(g, i, is64));
    if (mode == MODE_FWD_DER)
        store_elem(o2, i, is64, d);
}

/* g f'(x) for float64 results, the tails' entries by tail() */
ALWAYS_INLINE void smooth_backward64(smooth_rule rule, tail_test in_tail, tail_rule tail,
                                     const double *x, const double *g, double *o, double prm,
                                     Py_ssize_t lo, Py_ssize_t hi)
{
    const int in_place = (const void *)o == (const void *)x || (const void *)o == (const void *)g;
    Py_ssize_t i;
    for (Py_ssize_t b = lo; b < hi; b += TAIL_BLOCK) {
        Py_ssize_t e = hi - b < TAIL_BLOCK ? hi : b + TAIL_BLOCK;
        int found = 0;
        if (in_place)
            for (i = b; i < e; i++)
                found |= in_tail(x[i], prm);
        if (!in_place || !found) {
            for (i = b; i < e; i++) {
                double f, d, xv = x[i];
                rule(xv, 1, prm, &f, &d);
                o[i] = d * g[i];
                found |= in_tail(xv, prm);
            }
            if (!found)
                continue;
        }
        for (i = b; i < e; i++) {
            double f, d, xv = x[i], gv = g[i];
            rule(xv, 1, prm, &f, &d);
            o[i] = in_tail(xv, prm) ? tail(xv, gv, d, prm) : d * gv;
        }
    }
}

ALWAYS_INLINE void smooth_block(smooth_rule rule, tail_test in_tail, tail_rule tail, int is64,
                                int mode, const void *x, const void *g, void *o, void *o2,
                               double prm, Py_ssize_t lo, Py_ssize_t hi)
{
    Py_ssize_t i;
    switch (mode) {
    case MODE_FWD:
        for (i = lo; i < hi; i++)
            smooth_elem(rule, is64, MODE_FWD, x, g, o, o2, prm, i);
        break;
    case MODE_DER:
        for (i = lo; i < hi; i++)
            smooth_elem(rule, is64, MODE_DER, x, g, o, o2, prm, i);
        break;
    case MODE_BWD:
        if (is64) {
            smooth_backward64(rule, in_tail, tail, x, g, o, prm, lo, hi);
            break;
        }
        for (i = lo; i < hi; i++)
            smooth_elem(rule, is64, MODE_BWD, x, g, o, o2, prm, i);
        break;
    default:
        for (i = lo; i < hi; i++)
            smooth_elem(rule, is64, MODE_FWD_DER, x, g, o, o2, prm, i);
    }
}

/* f' alone: the fast rule.  f: blocks of TAIL_BLOCK elements, the fast rule where no element is rare (a scan that
 * vectorises, and vanishes for a kernel whose rare() is 0), the full rule where one is. */
ALWAYS_INLINE void smooth_loop(smooth_rule rule, smooth_rule fast, rare_test rare,
                               tail_test in_tail, tail_rule tail, int is64, int mode,
                               const void *x, const void *g, void *o, void *o2, double prm,
                               Py_ssize_t lo, Py_ssize_t hi)
{
    if (mode == MODE_DER || mode == MODE_BWD) { /* rare() is about f alone */
        smooth_block(fast, in_tail, tail, is64, mode, x, g, o, o2, prm, lo, hi);
        return;
    }
    for (Py_ssize_t b = lo; b < hi; b += TAIL_BLOCK) {
        Py_ssize_t e = hi - b < TAIL_BLOCK ? hi : b + TAIL_BLOCK;
        int found = 0;
        for (Py_ssize_t i = b; i < e; i++)
            found |= rare(load_elem(x, i, is64));
        if (found)
            smooth_block(rule, in_tail, tail, is64, mode, x, g, o, o2, prm, b, e);
        else
            smooth_block(fast, in_tail, tail, is64, mode, x, g, o, o2, prm, b, e);
    }
}

/* The exact kernels compute in T itself: the mode's switch is written once, over an
 * element function of each type. */
#define EXACT_LOOP(sfx, T)                                                                \
    ALWAYS_INLINE void exact_loop_##sfx(void (*elem)(int, const T *, const T *, T *, T *,  \
                                                     T, Py_ssize_t),                       \
                                        int mode, const T *x, const T *g, T *o, T *o2,     \
                                        double prm, Py_ssize_t lo, Py_ssize_t hi)          \
    {                                                                                     \
        const T p = (T)prm;                                                               \
        Py_ssize_t i;                                                                     \
        switch (mode) {                                                                   \
        case MODE_FWD: for (i = lo; i < hi; i++) elem(MODE_FWD, x, g, o, o2, p, i); break; \
        case MODE_DER: for (i = lo; i < hi; i++) elem(MODE_DER, x, g, o, o2, p, i); break; \
        case MODE_BWD: for (i = lo; i < hi; i++) elem(MODE_BWD, x, g, o, o2, p, i); break; \
        default: for (i = lo; i < hi; i++) elem(MODE_FWD_DER, x, g, o, o2, p, i);         \
        }                                                                                 \
    }
EXACT_LOOP(f32, float)
EXACT_LOOP(f64, double)
#undef EXACT_LOOP

/* ------------------------------------------------------------------ the instances */
#define LOOP_PARAMS                                                                       \
    int mode, const void *x, const void *g, void *o, void *o2, double prm, Py_ssize_t lo,   \
        Py_ssize_t hi
#define LOOP_ARGS mode, x, g, o, o2, prm, lo, hi

#define DEFINE_SMOOTH(name)                                                               \
    static void loop_##name##_f32(LOOP_PARAMS)                                            \
    {                                                                                     \
        smooth_loop(f_##name, f_##name##_fast, rare_##name, in_tail_##name, tail_##name, 0,   \
                    LOOP_ARGS);                 \
    }                                                                                     \
    static void loop_##name##_f64(LOOP_PARAMS)                                            \
    {                                                                                     \
        smooth_loop(f_##name, f_##name##_fast, rare_##name, in_tail_##name, tail_##name, 1,   \
                    LOOP_ARGS);                 \
    }

/* an exact rule's element function for one type, then its loop */
#define EXACT_ELEM(name, sfx, T)                                                          \
    ALWAYS_INLINE void elem_##name##_##sfx(int mode, const T *x, const T *g, T *o, T *o2,  \
                                           T prm, Py_ssize_t i)                           \
    {                                                                                     \
        T f, d, xv = x[i];                                                                \
        RULE_##name(xv, prm, f, d);                                                       \
        if (mode == MODE_FWD || mode == MODE_FWD_DER)                                     \
            o[i] = f;                                                                     \
        if (mode == MODE_DER)                                                             \
            o[i] = d;                                                                     \
        if (mode == MODE_BWD)                                                             \
            o[i] = d * g[i];                                                              \
        if (mode == MODE_FWD_DER)                                                         \
            o2[i] = d;                                                                    \
    }                                                                                     \
    static void loop_##name##_##sfx(LOOP_PARAMS)                                          \
    {                                                                                     \
        exact_loop_##sfx(elem_##name##_##sfx, LOOP_ARGS);                                 \
    }
#define DEFINE_EXACT(name) EXACT_ELEM(name, f32, float) EXACT_ELEM(name, f64, double)

#define DEFINE_LOOPS(name, kind, split_at, streams, needs_fma) DEFINE_##kind(name)
ELEMENTWISE_KERNELS(DEFINE_LOOPS)
#undef DEFINE_LOOPS

/* f by the float32 lanes and f' by the generic loop, block by block: each block's f into a
 * buffer, then its f' into o2, then the buffer into o (so o or o2 may be x); plain: the
 * rule of a FLOAT32_PLAIN_FORWARDS kernel (arg and rule unused) */
ALWAYS_INLINE void float32_forward_der(float (*arg)(float),
                                       float (*rule)(float, float, float, float),
                                       float (*plain)(float, int *), smooth_rule exact,
                                       elementwise_loop generic,
                                       const float *x, float *o, float *o2, double prm,
                                       Py_ssize_t lo, Py_ssize_t hi)
{
    float f[F32_BLOCK];
    for (Py_ssize_t b = lo; b < hi; b += F32_BLOCK) {
        Py_ssize_t m = hi - b < F32_BLOCK ? hi - b : F32_BLOCK;
        if (plain != NULL)
            float32_plain_forward(plain, exact, x + b, f, 0, m);
        else
            float32_forward(arg, rule, x + b, f, 0, m);
        generic(MODE_DER, x, NULL, o2, NULL, prm, b, b + m);
        memcpy(o + b, f, (size_t)m * sizeof *f);
    }
}

/* the float32 loop of a FLOAT32_FORWARDS kernel: its forward in float32 lanes, also where
 * f' comes with it (the same f as the forward alone) */
#define DEFINE_F32_FORWARD(name)                                                          \
    static void loop_##name##_f32_lanes(LOOP_PARAMS)                                      \
    {                                                                                     \
        if (mode == MODE_FWD)                                                             \
            float32_forward(exp_arg_##name, ff_##name, x, o, lo, hi);                     \
        else if (mode == MODE_FWD_DER)                                                    \
            float32_forward_der(exp_arg_##name, ff_##name, NULL, NULL, loop_##name##_f32, x, \
                                o, o2, prm, lo, hi);                                      \
        else                                                                              \
            loop_##name##_f32(LOOP_ARGS);                                                 \
    }
FLOAT32_FORWARDS(DEFINE_F32_FORWARD)
#undef DEFINE_F32_FORWARD

/* the same for a FLOAT32_PLAIN_FORWARDS kernel */
#define DEFINE_F32_PLAIN_FORWARD(name)                                                    \
    static void loop_##name##_f32_lanes(LOOP_PARAMS)                                      \
    {                                                                                     \
        if (mode == MODE_FWD)                                                             \
            float32_plain_forward(fp_##name, f_##name, x, o, lo, hi);                     \
        else if (mode == MODE_FWD_DER)                                                    \
            float32_forward_der(NULL, NULL, fp_##name, f_##name, loop_##name##_f32, x, o,  \
                                o2, prm, lo, hi);                                         \
        else                                                                              \
            loop_##name##_f32(LOOP_ARGS);                                                 \
    }
FLOAT32_PLAIN_FORWARDS(DEFINE_F32_PLAIN_FORWARD)
#undef DEFINE_F32_PLAIN_FORWARD

/* the loop table entry of one kernel, then of a FLOAT32_FORWARDS kernel's float32 loop */
#define LOOP_ENTRY(name, kind, split_at, streams, needs_fma)                              \
    isa->loops[K_##name][0] = loop_##name##_f32;                                          \
    isa->loops[K_##name][1] = loop_##name##_f64;
#define F32_FORWARD_ENTRY(name) isa->loops[K_##name][0] = loop_##name##_f32_lanes;

#endif
