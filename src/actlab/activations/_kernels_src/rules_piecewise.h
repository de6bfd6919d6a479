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

/* clip(x, -1, 1); f' = 1 on [-1, 1), the right piece at each kink */
#define RULE_hardtanh(x, prm, f, d)                                 \
    do {                                                            \
        (f) = (x) < -1 ? -1 : ((x) > 1 ? 1 : (x));                  \
        (d) = ((x) >= -1 && (x) < 1) ? 1 : ((x) == (x) ? 0 : (x));  \
    } while (0)

/* min(max(x, 0), 6), with max(-0, 0) = +0 as NumPy's; f' = 1 on [0, 6) */
#define RULE_relu6(x, prm, f, d)                                    \
    do {                                                            \
        (f) = (x) > 0 ? ((x) < 6 ? (x) : 6) : ((x) == (x) ? 0 : (x)); \
        (d) = ((x) >= 0 && (x) < 6) ? 1 : ((x) == (x) ? 0 : (x));   \
    } while (0)

/* leaky_relu's rule with the learned slope a as prm */
#define RULE_prelu(x, prm, f, d) RULE_leaky_relu(x, prm, f, d)

#define RULE_identity(x, prm, f, d)                   \
    do {                                              \
        (f) = (x);                                    \
        (d) = (x) == (x) ? 1 : (x);                   \
    } while (0)

#endif
