/* The scalar rules of the exact kernels (kind EXACT in kernels.def): computed in the
 * buffer's own dtype, so that the bits are NumPy's.
 *
 * RULE_NAME(x, prm, f, d) sets f = f(x) and d = f'(x) in x's type (float or double; prm is
 * of that type too).  Integer constants take x's type in the selects, so one statement
 * serves both: loop.h instantiates each rule for float and for double.
 */
#ifndef KERNELS_RULES_PIECEWISE_H
#define KERNELS_RULES_PIECEWISE_H

/* 0 below 0, 1 from 0 on; f' = 0; NaN stays NaN */
#define RULE_step(x, prm, f, d)                       \
    do {                                              \
        (f) = (x) < 0 ? 0 : ((x) == (x) ? 1 : (x));   \
        (d) = (x) == (x) ? 0 : (x);                   \
    } while (0)

#define RULE_relu(x, prm, f, d)                       \
    do {                                              \
        (f) = ((x) > 0 || (x) != (x)) ? (x) : 0;      \
        (d) = (x) < 0 ? 0 : ((x) == (x) ? 1 : (x));   \
    } while (0)

/* with a = 0, a x is -0 for every x < 0; so at -inf too, not 0 * -inf = NaN */
#define RULE_leaky_relu(x, prm, f, d)                                             \
    do {                                                                          \
        (f) = (x) >= 0 ? (x) : (((prm) == 0 && (x) < 0) ? -(prm) : (x) * (prm));  \
        (d) = (x) >= 0 ? 1 : ((x) == (x) ? (prm) : (x));                          \
    } while (0)

#define RULE_identity(x, prm, f, d)                   \
    do {                                              \
        (f) = (x);                                    \
        (d) = (x) == (x) ? 1 : (x);                   \
    } while (0)

#endif
