/* The same loops compiled for AVX-512 (F, DQ, VL) with AVX2+FMA, eight doubles a vector,
 * picked at import when the CPU has them all (ACTLAB_ISA chooses otherwise).  softmax takes
 * avx2.h's code as in isa_avx2.c; the elementwise loops do not (gcc's eight-wide loops beat
 * its four-wide float32 sigmoid, tanh and selu by 10-35%).  Every operation is the generic code's, fma()
 * correctly rounded, so the bits are the other builds'. */
#include "common.h"

#if HAVE_AVX2_VERSION
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512")
#define ACTLAB_AVX2 1
#include "avx2.h"
#include "maxout.h"
#include "softmax.h"

const char *isa_avx512_missing(void)
{
    __builtin_cpu_init();
    static const char *const features[] = {"avx512f", "avx512dq", "avx512vl", "avx2", "fma"};
    if (!__builtin_cpu_supports("avx512f"))
        return features[0];
    if (!__builtin_cpu_supports("avx512dq"))
        return features[1];
    if (!__builtin_cpu_supports("avx512vl"))
        return features[2];
    if (!__builtin_cpu_supports("avx2"))
        return features[3];
    if (!__builtin_cpu_supports("fma"))
        return features[4];
    return NULL;
}

int isa_avx512(isa_t *isa)
{
    if (isa_avx512_missing() != NULL)
        return 0;
    isa->name = "avx512";
    isa->fast_fma = 1;
    ELEMENTWISE_KERNELS(LOOP_ENTRY)
    FLOAT32_LANES(F32_FORWARD_ENTRY)
    isa->softmax[0] = softmax_rows_f32;
    isa->softmax[1] = softmax_rows_f64;
    isa->log_softmax[0] = log_softmax_rows_f32;
    isa->log_softmax[1] = log_softmax_rows_f64;
    isa->maxout[0] = maxout_f32;
    isa->maxout[1] = maxout_f64;
    return 1;
}
#else
const char *isa_avx512_missing(void)
{
    return "avx512f (this build has no AVX-512 version)";
}

int isa_avx512(isa_t *isa)
{
    (void)isa;
    return 0;
}
#endif
