/* The loops for any CPU of the target (baseline x86-64: SSE2), picked when the CPU has no
 * AVX2+FMA, or by ACTLAB_ISA=baseline (or ACTLAB_NO_AVX2). */
#include "loop.h"
#include "maxout.h"
#include "softmax.h"

void isa_base(isa_t *isa)
{
    isa->name = "baseline";
    /* without a hardware fma (x86 before AVX2) fma() is a slow libm call: the kernels with
     * needs_fma are then slower than NumPy's, and _fast.py leaves them to NumPy */
#if defined(__FP_FAST_FMA)
    isa->fast_fma = 1;
#else
    isa->fast_fma = 0;
#endif
    ELEMENTWISE_KERNELS(LOOP_ENTRY)
    FLOAT32_LANES(F32_FORWARD_ENTRY)
    isa->softmax[0] = softmax_rows_f32;
    isa->softmax[1] = softmax_rows_f64;
    isa->log_softmax[0] = log_softmax_rows_f32;
    isa->log_softmax[1] = log_softmax_rows_f64;
    isa->maxout[0] = maxout_f32;
    isa->maxout[1] = maxout_f64;
}
