/* The same loops compiled for AVX2+FMA, with the hand-vectorised code of avx2.h in place of
 * some, picked at import when the CPU has both but not AVX-512 (ACTLAB_ISA chooses otherwise).
 *
 * One translation unit per instruction set: this file is isa_base.c's with
 * `#pragma GCC target`, which applies to every function defined after it (all of loop.h and
 * what it includes are static), so setup.py compiles every source with the same flags. */
#include "common.h"

#if HAVE_AVX2_VERSION
#pragma GCC target("avx2,fma")
#define ACTLAB_AVX2 1
#include "avx2.h"
#include "maxout.h"
#include "softmax.h"

const char *isa_avx2_missing(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2"))
        return "avx2";
    if (!__builtin_cpu_supports("fma"))
        return "fma";
    return NULL;
}

int isa_avx2(isa_t *isa)
{
    if (isa_avx2_missing() != NULL)
        return 0;
    isa->name = "avx2+fma";
    isa->fast_fma = 1;
    ELEMENTWISE_KERNELS(LOOP_ENTRY)
    FLOAT32_LANES(F32_FORWARD_ENTRY)
    LOOP_OVERRIDES(OVERRIDE_ENTRY)
    isa->softmax[0] = softmax_rows_f32;
    isa->softmax[1] = softmax_rows_f64;
    isa->log_softmax[0] = log_softmax_rows_f32;
    isa->log_softmax[1] = log_softmax_rows_f64;
    isa->maxout[0] = maxout_f32;
    isa->maxout[1] = maxout_f64;
    return 1;
}
#else
const char *isa_avx2_missing(void)
{
    return "avx2 (this build has no AVX2 version)";
}

int isa_avx2(isa_t *isa)
{
    (void)isa;
    return 0;
}
#endif
