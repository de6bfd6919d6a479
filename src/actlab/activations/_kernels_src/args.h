/* The argument checks of the module's entry points (args.c).
 *
 * Every entry point checks each of its arguments before it touches memory: a wrong type is
 * a TypeError, a value out of range a ValueError, each naming the argument.  A well-formed
 * call whose buffers have a layout the loops do not take (not C-contiguous, a read-only
 * output, outputs overlapping inputs in part) returns False and writes nothing: the caller
 * then falls back to NumPy, whose own checks name the problem. */
#ifndef KERNELS_ARGS_H
#define KERNELS_ARGS_H

#include "common.h"

#define NBUF 4

typedef struct {
    Py_buffer v[NBUF];
    int held[NBUF];
    Py_ssize_t n[NBUF]; /* elements */
} buffers_t;

/* An int argument in [lo, hi]; bools are refused as not meant. 0 ok, -1 error set. */
int int_argument(const char *fn, const char *name, PyObject *obj, long long lo, long long hi,
                 long long *value);
/* A thread count: an int in [1, INT_MAX] (run_split uses at most MAX_THREADS of them). */
int threads_argument(const char *fn, PyObject *obj, int *threads);
/* The arguments of fn(..., size, threads): nargs of them, the last two a size in
 * [1, PY_SSIZE_T_MAX] (`what`, for the messages) and a thread count.  0 ok, -1 error set. */
int size_and_threads(const char *fn, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want,
                     const char *what, long long *size, int *threads);
/* Acquire objs[i] for each i with use[i] (the others are not looked at): all of one dtype,
 * those with i >= first_out outputs.  1 ok (held), 0 unsuitable layout, -1 error (both
 * released).  Lengths are the caller's to check. */
int acquire(const char *fn, const char *const *names, buffers_t *b, PyObject *const *objs,
            const int *use, int k, int first_out, int *is64);
/* acquire, and a ValueError (-1) unless every buffer has x's (objs[0]'s) length */
int acquire_like_x(const char *fn, const char *const *names, buffers_t *b,
                   PyObject *const *objs, const int *use, int k, int first_out, int *is64);
void release_all(buffers_t *b);
/* Two buffers may be the same memory (in place) or apart; a partial overlap is refused. */
int overlap_ok(const Py_buffer *a, const Py_buffer *b);
/* Outputs (index >= first_out) apart from, or the same as, every other buffer; two outputs
 * never the same. */
int overlaps_ok(const buffers_t *b, int k, int first_out);
int length_error(const char *fn, const char *name, Py_ssize_t got, Py_ssize_t want,
                 const char *what);
/* The optional argument of a setting's getter-setter: 1 and *value when given (an int in
 * [0, hi]), 0 when not, -1 with an exception set when it is bad. */
int setting_argument(const char *name, PyObject *const *args, Py_ssize_t nargs, long long hi,
                     Py_ssize_t *value);

#endif
