/* The argument and buffer checks of the module's entry points (see args.h). */
#include "args.h"

int int_argument(const char *fn, const char *name, PyObject *obj, long long lo, long long hi,
                 long long *value)
{
    if (!PyLong_Check(obj) || PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be an int, not %.100s", fn, name,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow != 0 || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be in [%lld, %lld], got %R", fn, name, lo,
                     hi, obj);
        return -1;
    }
    *value = v;
    return 0;
}

int threads_argument(const char *fn, PyObject *obj, int *threads)
{
    long long v;
    if (int_argument(fn, "threads", obj, 1, INT_MAX, &v) < 0)
        return -1;
    *threads = (int)v;
    return 0;
}

int size_and_threads(const char *fn, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want,
                     const char *what, long long *size, int *threads)
{
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "%s takes %zd arguments (%zd given)", fn, want, nargs);
        return -1;
    }
    if (int_argument(fn, what, args[want - 2], 1, PY_SSIZE_T_MAX, size) < 0 ||
        threads_argument(fn, args[want - 1], threads) < 0)
        return -1;
    return 0;
}

/* A float32 ("f") or float64 ("d") buffer in native byte order, any layout.  1 and the
 * buffer held when it is C-contiguous (and writable, for an output); 0 (released) when it is
 * not; -1 with a TypeError when the object is not such a buffer at all. */
static int get_buffer(const char *fn, const char *name, PyObject *obj, Py_buffer *view,
                      int writable, int *is64)
{
    if (obj == Py_None) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be a float32 or float64 buffer, not None",
                     fn, name);
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_RECORDS_RO) != 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: %s must be a float32 or float64 buffer, not %.100s",
                     fn, name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    const char *fmt = view->format != NULL ? view->format : "B";
    if (fmt[0] == '=' || fmt[0] == '@')
        fmt++;
    int f64 = fmt[0] == 'd' && fmt[1] == '\0' && view->itemsize == 8;
    int f32 = fmt[0] == 'f' && fmt[1] == '\0' && view->itemsize == 4;
    if (!f64 && !f32) {
        PyErr_Format(PyExc_TypeError,
                     "%s: %s must hold float32 or float64 in native byte order, got format "
                     "'%.20s' of %zd bytes", fn, name, view->format != NULL ? view->format : "B",
                     view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    *is64 = f64;
    if (!PyBuffer_IsContiguous(view, 'C') || (writable && view->readonly)) {
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

int overlap_ok(const Py_buffer *a, const Py_buffer *b)
{
    const char *a0 = a->buf, *a1 = (const char *)a->buf + a->len;
    const char *b0 = b->buf, *b1 = (const char *)b->buf + b->len;
    if (a1 <= b0 || b1 <= a0)
        return 1;
    return a0 == b0 && a->len == b->len;
}

void release_all(buffers_t *b)
{
    for (int i = 0; i < NBUF; i++)
        if (b->held[i])
            PyBuffer_Release(&b->v[i]);
}

int acquire(const char *fn, const char *const *names, buffers_t *b,
            PyObject *const *objs, const int *use, int k, int first_out, int *is64)
{
    memset(b, 0, sizeof *b);
    int dt = -1, first = -1, declined = 0;
    for (int i = 0; i < k; i++) {
        if (!use[i])
            continue;
        int this64;
        int got = get_buffer(fn, names[i], objs[i], &b->v[i], i >= first_out, &this64);
        if (got < 0) {
            release_all(b);
            return -1;
        }
        if (dt != -1 && dt != this64) {
            if (got)
                PyBuffer_Release(&b->v[i]);
            release_all(b);
            PyErr_Format(PyExc_TypeError, "%s: %s is %s but %s is %s", fn, names[i],
                         this64 ? "float64" : "float32", names[first],
                         dt ? "float64" : "float32");
            return -1;
        }
        if (dt == -1) {
            dt = this64;
            first = i;
        }
        if (!got) {
            declined = 1; /* the others are still checked for errors */
            continue;
        }
        b->held[i] = 1;
        b->n[i] = b->v[i].len / b->v[i].itemsize;
    }
    if (declined) {
        release_all(b);
        return 0;
    }
    *is64 = dt;
    return 1;
}

int overlaps_ok(const buffers_t *b, int k, int first_out)
{
    for (int i = first_out; i < k; i++)
        for (int j = 0; j < k; j++) {
            if (j == i || !b->held[i] || !b->held[j])
                continue;
            if (!overlap_ok(&b->v[i], &b->v[j]))
                return 0;
            if (j >= first_out && b->v[i].len > 0 && b->v[i].buf == b->v[j].buf)
                return 0;
        }
    return 1;
}

int acquire_like_x(const char *fn, const char *const *names, buffers_t *b,
                   PyObject *const *objs, const int *use, int k, int first_out, int *is64)
{
    int got = acquire(fn, names, b, objs, use, k, first_out, is64);
    if (got <= 0)
        return got;
    for (int i = 1; i < k; i++)
        if (b->held[i] && b->n[i] != b->n[0]) {
            length_error(fn, names[i], b->n[i], b->n[0], "the length of x");
            release_all(b);
            return -1;
        }
    return 1;
}

int length_error(const char *fn, const char *name, Py_ssize_t got, Py_ssize_t want,
                 const char *what)
{
    PyErr_Format(PyExc_ValueError, "%s: %s has %zd elements, expected %zd (%s)", fn, name, got,
                 want, what);
    return -1;
}

int setting_argument(const char *name, PyObject *const *args, Py_ssize_t nargs, long long hi,
                     Py_ssize_t *value)
{
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s takes at most 1 argument", name);
        return -1;
    }
    if (nargs == 0)
        return 0;
    long long v;
    if (int_argument(name, "its argument", args[0], LLONG_MIN, LLONG_MAX, &v) < 0)
        return -1;
    if (v < 0 || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0 and <= %lld, got %lld", name, hi, v);
        return -1;
    }
    *value = (Py_ssize_t)v;
    return 1;
}

