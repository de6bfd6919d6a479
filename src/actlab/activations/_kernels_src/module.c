/* actlab.activations._kernels: fused loops for the activations of kernels.def, on
 * contiguous float32/float64 buffers, split over threads with the GIL released.
 *
 * Optional: setup.py builds it when a C compiler is there, and actlab falls back to its
 * NumPy kernels when it is not (actlab/activations/_fast.py).  It takes any object with the
 * buffer protocol and checks the format itself, so it needs no NumPy headers; the *_tensor
 * entry points take torch tensors, read through torch's own Python API (no torch headers).
 *
 * The accuracy contract is the NumPy kernels' (docs/accuracy.md): everything is computed in
 * double and rounded once; the exact kernels in the buffer's own dtype.
 */
#include "args.h"

#if HAVE_PTHREADS
#include <unistd.h>
#endif

#define KERNEL_NAME(name, kind, split_at, streams, needs_fma) #name,
#define KERNEL_SPLIT(name, kind, split_at, streams, needs_fma) split_at,
#define KERNEL_STREAMS(name, kind, split_at, streams, needs_fma) streams,
static const char *const KERNEL_NAMES[K_COUNT] = {ELEMENTWISE_KERNELS(KERNEL_NAME)};
static const Py_ssize_t SPLIT_AT[K_COUNT] = {ELEMENTWISE_KERNELS(KERNEL_SPLIT)};
static const int STREAMS[K_COUNT] = {ELEMENTWISE_KERNELS(KERNEL_STREAMS)};
static const Py_ssize_t VECTOR_SPLIT_AT[V_COUNT] = {VECTOR_KERNELS(KERNEL_SPLIT)};
static const int VECTOR_STREAMS[V_COUNT] = {VECTOR_KERNELS(KERNEL_STREAMS)};

/* the loops in use: AVX-512's, else AVX2+FMA's when the CPU has them, else the baseline's;
 * ACTLAB_ISA=baseline|avx2|avx512 forces one (ACTLAB_NO_AVX2: baseline) */
static isa_t ISA;
/* ------------------------------------------------------------------ module functions */
/* elementwise(kernel, mode, x, g, out, out2, param, threads) -> bool
 * mode 0: out = f(x); 1: out = f'(x); 2: out = g f'(x); 3: out = f(x), out2 = f'(x).
 * g is used by mode 2 only and out2 by mode 3 only (otherwise ignored).  The buffers are
 * float32 or float64 of x's dtype and length; param is a float, threads an int >= 1.
 * False (nothing written): a buffer is not C-contiguous, an output is read-only, or an
 * output overlaps another buffer in part (or out2 is out). */
static PyObject *elementwise(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    static const char *const names[4] = {"x", "g", "out", "out2"};
    if (nargs != 8) {
        PyErr_Format(PyExc_TypeError, "elementwise takes 8 arguments (%zd given)", nargs);
        return NULL;
    }
    long long kid, mode;
    int threads;
    if (int_argument("elementwise", "kernel", args[0], 0, K_COUNT - 1, &kid) < 0 ||
        int_argument("elementwise", "mode", args[1], MODE_FWD, MODE_FWD_DER, &mode) < 0 ||
        threads_argument("elementwise", args[7], &threads) < 0)
        return NULL;
    if (!PyFloat_Check(args[6]) && !PyLong_Check(args[6])) {
        PyErr_Format(PyExc_TypeError, "elementwise: param must be a float, not %.100s",
                     Py_TYPE(args[6])->tp_name);
        return NULL;
    }
    double prm = PyFloat_AsDouble(args[6]);
    if (prm == -1.0 && PyErr_Occurred())
        return NULL;
    const int use[4] = {1, mode == MODE_BWD, 1, mode == MODE_FWD_DER};
    buffers_t b;
    int is64;
    int got = acquire_like_x("elementwise", names, &b, args + 2, use, 4, 2, &is64);
    if (got <= 0)
        return got < 0 ? NULL : Py_NewRef(Py_False);
    Py_ssize_t n = b.n[0];
    if (!overlaps_ok(&b, 4, 2)) {
        release_all(&b);
        Py_RETURN_FALSE;
    }
    task_t t = {0};
    t.kind = TASK_ELEMENTWISE;
    t.loop = ISA.loops[kid][is64];
    t.mode = (int)mode;
    t.x = b.v[0].buf;
    t.g = b.held[1] ? b.v[1].buf : NULL;
    t.o = b.v[2].buf;
    t.o2 = b.held[3] ? b.v[3].buf : NULL;
    t.prm = prm;
    t.itemsize = is64 ? 8 : 4;
    t.stream = HAVE_STREAM && STREAMS[kid] && b.v[2].len >= stream_at;
    run_call(&t, n, n < SPLIT_AT[kid] || threads <= 1, threads, 64, 1);
    release_all(&b);
    Py_RETURN_TRUE;
}

/* softmax(x, g, y, out, m, threads) -> bool: softmax over rows of length m (g and y None),
 * or its backward y (g - sum g y), with y = softmax(x) when y is None.  x, g, y and out are
 * float32 or float64 of one dtype and length, a multiple of m >= 1.  False (nothing
 * written) as for elementwise; out may be x, g or y itself.
 * log_softmax(x, g, y, out, m, threads) -> bool: the same for log_softmax, whose backward
 * is g - softmax(x) sum g, softmax = e^y when y is given. */
static PyObject *rows_call(const char *name, int vid, softmax_loop const loops[2],
                           PyObject *const *args, Py_ssize_t nargs)
{
    static const char *const names[4] = {"x", "g", "y", "out"};
    long long m;
    int threads;
    if (size_and_threads(name, args, nargs, 6, "m (the row length)", &m, &threads) < 0)
        return NULL;
    if (args[1] == Py_None && args[2] != Py_None) {
        PyErr_Format(PyExc_ValueError, "%s: y (the saved output) is for the backward only: "
                     "g is None", name);
        return NULL;
    }
    const int use[4] = {1, args[1] != Py_None, args[2] != Py_None, 1};
    buffers_t b;
    int is64;
    int got = acquire_like_x(name, names, &b, args, use, 4, 3, &is64);
    if (got <= 0)
        return got < 0 ? NULL : Py_NewRef(Py_False);
    Py_ssize_t n = b.n[0];
    if (n % m != 0) {
        PyErr_Format(PyExc_ValueError, "%s: m must divide the length of x (%zd), got %lld",
                     name, n, m);
        release_all(&b);
        return NULL;
    }
    if (!overlaps_ok(&b, 4, 3)) {
        release_all(&b);
        Py_RETURN_FALSE;
    }
    task_t t = {0};
    t.kind = TASK_SOFTMAX;
    t.sloop = loops[is64];
    t.x = b.v[0].buf;
    t.g = b.held[1] ? b.v[1].buf : NULL;
    t.y = b.held[2] ? b.v[2].buf : NULL;
    t.o = b.v[3].buf;
    t.m = (Py_ssize_t)m;
    t.stream = HAVE_STREAM && VECTOR_STREAMS[vid] && b.v[3].len >= stream_at;
    Py_ssize_t rows = n / t.m;
    int failed = run_call(&t, rows, n < VECTOR_SPLIT_AT[vid] || threads <= 1 || rows < 2,
                          threads, 1, t.m);
    release_all(&b);
    if (failed)
        return PyErr_NoMemory();
    Py_RETURN_TRUE;
}

/* ------------------------------------------------------------------ torch tensors
 * actlab.torch hands its tensors over as they are (a NumPy view of each costs more than the
 * loop at 1e3 elements).  They are read through torch._C.TensorBase's own descriptors,
 * which Python code cannot replace, and only exact torch.Tensor and torch.nn.Parameter
 * objects are taken (a subclass may redefine what its methods return). */
static PyObject *T_tensor, *T_parameter, *T_f32, *T_f64, *T_strided;
static PyObject *D_dtype, *D_layout, *D_is_cpu, *D_is_contiguous, *D_is_neg, *D_numel,
    *D_data_ptr;

static PyObject *attribute_of(const char *module, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module);
    if (mod == NULL)
        return NULL;
    PyObject *v = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return v;
}

static PyObject *descriptor(PyObject *members, const char *name)
{
    PyObject *d = PyMapping_GetItemString(members, name);
    if (d != NULL && Py_TYPE(d)->tp_descr_get == NULL) {
        PyErr_Format(PyExc_TypeError, "torch._C.TensorBase.%s is not a descriptor", name);
        Py_CLEAR(d);
    }
    return d;
}

/* torch's types, dtypes and descriptors, imported at the first call.  0 ok, -1 error set. */
static int torch_ready(void)
{
    if (D_data_ptr != NULL)
        return 0;
    PyObject *base = attribute_of("torch._C", "TensorBase");
    PyObject *members = base != NULL ? PyObject_GetAttrString(base, "__dict__") : NULL;
    Py_XDECREF(base);
    if (members == NULL)
        return -1;
    if ((T_tensor = attribute_of("torch", "Tensor")) == NULL ||
        (T_parameter = attribute_of("torch.nn", "Parameter")) == NULL ||
        (T_f32 = attribute_of("torch", "float32")) == NULL ||
        (T_f64 = attribute_of("torch", "float64")) == NULL ||
        (T_strided = attribute_of("torch", "strided")) == NULL ||
        (D_dtype = descriptor(members, "dtype")) == NULL ||
        (D_layout = descriptor(members, "layout")) == NULL ||
        (D_is_cpu = descriptor(members, "is_cpu")) == NULL ||
        (D_is_contiguous = descriptor(members, "is_contiguous")) == NULL ||
        (D_is_neg = descriptor(members, "is_neg")) == NULL ||
        (D_numel = descriptor(members, "numel")) == NULL ||
        (D_data_ptr = descriptor(members, "data_ptr")) == NULL) {
        Py_DECREF(members);
        PyObject **all[] = {&T_tensor, &T_parameter, &T_f32, &T_f64, &T_strided, &D_dtype,
                            &D_layout, &D_is_cpu, &D_is_contiguous, &D_is_neg, &D_numel};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            Py_CLEAR(*all[i]);
        return -1;
    }
    Py_DECREF(members);
    return 0;
}

/* obj's attribute (call 0) or the result of its method with no arguments (call 1), through
 * the descriptor d: a new reference, NULL with an error set */
static PyObject *tensor_member(PyObject *d, PyObject *obj, int call)
{
    if (call) /* a method descriptor called with obj as self: no bound method made */
        return PyObject_Vectorcall(d, &obj, 1, NULL);
    return Py_TYPE(d)->tp_descr_get(d, obj, (PyObject *)Py_TYPE(obj));
}

/* 1 when the member is the object `want`, 0 when not, -1 on error */
static int tensor_member_is(PyObject *d, PyObject *obj, int call, PyObject *want)
{
    PyObject *v = tensor_member(d, obj, call);
    if (v == NULL)
        return -1;
    int is = v == want;
    Py_DECREF(v);
    return is;
}

typedef struct {
    char *buf;
    Py_ssize_t n, len; /* elements, bytes */
    int is64;
} tensor_t;

/* 1: a C-contiguous CPU float32/float64 tensor with no lazy negation (t set); 0: a tensor
 * the loops do not take (a subclass, another dtype, device, layout or strides); -1: an
 * error (not a torch.Tensor at all: TypeError). */
static int tensor_argument(const char *fn, const char *name, PyObject *obj, tensor_t *t)
{
    PyObject *tp = (PyObject *)Py_TYPE(obj);
    if (torch_ready() < 0)
        return -1;
    if (tp != T_tensor && tp != T_parameter) {
        int sub = PyObject_IsInstance(obj, T_tensor);
        if (sub == 0)
            PyErr_Format(PyExc_TypeError, "%s: %s must be a torch.Tensor, not %.100s", fn,
                         name, Py_TYPE(obj)->tp_name);
        return sub > 0 ? 0 : -1; /* a subclass: declined */
    }
    int r;
    if ((r = tensor_member_is(D_dtype, obj, 0, T_f64)) < 0)
        return -1;
    t->is64 = r;
    if (!r && (r = tensor_member_is(D_dtype, obj, 0, T_f32)) <= 0)
        return r;
    if ((r = tensor_member_is(D_layout, obj, 0, T_strided)) <= 0 ||
        (r = tensor_member_is(D_is_cpu, obj, 0, Py_True)) <= 0 ||
        (r = tensor_member_is(D_is_contiguous, obj, 1, Py_True)) <= 0 ||
        (r = tensor_member_is(D_is_neg, obj, 1, Py_False)) <= 0)
        return r;
    PyObject *n = tensor_member(D_numel, obj, 1);
    if (n == NULL)
        return -1;
    t->n = PyLong_AsSsize_t(n);
    Py_DECREF(n);
    if (t->n == -1 && PyErr_Occurred())
        return -1;
    if (t->n > PY_SSIZE_T_MAX / 8) {
        PyErr_Format(PyExc_OverflowError, "%s: %s has too many elements", fn, name);
        return -1;
    }
    PyObject *p = tensor_member(D_data_ptr, obj, 1);
    if (p == NULL)
        return -1;
    t->buf = PyLong_AsVoidPtr(p);
    Py_DECREF(p);
    if (t->buf == NULL && PyErr_Occurred())
        return -1;
    t->len = t->n * (t->is64 ? 8 : 4);
    return 1;
}

/* out (o) and an input (i) of the same dtype and length are the same memory or apart */
static int tensors_apart(const tensor_t *o, const tensor_t *i)
{
    return o->buf + o->len <= i->buf || i->buf + i->len <= o->buf ||
           (o->buf == i->buf && o->len == i->len);
}

/* x, g (when used) and out as tensors of one dtype and length, out apart from (or the
 * same as) each input.  1 ok, 0 declined, -1 error. */
static int tensor_arguments(const char *fn, PyObject *const *objs, int use_g, tensor_t *t)
{
    static const char *const names[3] = {"x", "g", "out"};
    int r;
    for (int i = 0; i < 3; i++) {
        if (i == 1 && !use_g)
            continue;
        if ((r = tensor_argument(fn, names[i], objs[i], &t[i])) <= 0)
            return r;
        if (i && (t[i].is64 != t[0].is64 || t[i].n != t[0].n))
            return 0;
    }
    if (t[2].n > 0 && t[2].buf == NULL)
        return 0;
    return tensors_apart(&t[2], &t[0]) && (!use_g || tensors_apart(&t[2], &t[1]));
}

/* elementwise_tensor(kernel, mode, x, g, out, param, threads) -> bool: elementwise's modes
 * 0-2 on torch tensors (g used by mode 2 only).  False (nothing written) when a tensor is
 * not C-contiguous CPU float32/float64 memory of x's dtype and length, or out overlaps an
 * input in part. */
static PyObject *elementwise_tensor(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 7) {
        PyErr_Format(PyExc_TypeError, "elementwise_tensor takes 7 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    long long kid, mode;
    int threads;
    if (int_argument("elementwise_tensor", "kernel", args[0], 0, K_COUNT - 1, &kid) < 0 ||
        int_argument("elementwise_tensor", "mode", args[1], MODE_FWD, MODE_BWD, &mode) < 0 ||
        threads_argument("elementwise_tensor", args[6], &threads) < 0)
        return NULL;
    if (!PyFloat_Check(args[5]) && !PyLong_Check(args[5])) {
        PyErr_Format(PyExc_TypeError, "elementwise_tensor: param must be a float, not %.100s",
                     Py_TYPE(args[5])->tp_name);
        return NULL;
    }
    double prm = PyFloat_AsDouble(args[5]);
    if (prm == -1.0 && PyErr_Occurred())
        return NULL;
    tensor_t v[3];
    int got = tensor_arguments("elementwise_tensor", args + 2, mode == MODE_BWD, v);
    if (got <= 0)
        return got < 0 ? NULL : Py_NewRef(Py_False);
    task_t t = {0};
    t.kind = TASK_ELEMENTWISE;
    t.loop = ISA.loops[kid][v[0].is64];
    t.mode = (int)mode;
    t.x = v[0].buf;
    t.g = mode == MODE_BWD ? v[1].buf : NULL;
    t.o = v[2].buf;
    t.prm = prm;
    t.itemsize = v[0].is64 ? 8 : 4;
    t.stream = HAVE_STREAM && STREAMS[kid] && v[2].len >= stream_at;
    run_call(&t, v[0].n, v[0].n < SPLIT_AT[kid] || threads <= 1, threads, 64, 1);
    Py_RETURN_TRUE;
}

/* softmax_tensor(x, g, out, m, threads) -> bool: softmax over rows of length m >= 1 (g
 * None) or its backward with y = softmax(x) computed again, on torch tensors as for
 * elementwise_tensor; m must divide x's length. */
static PyObject *softmax_tensor(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    long long m;
    int threads;
    if (size_and_threads("softmax_tensor", args, nargs, 5, "m (the row length)", &m,
                         &threads) < 0)
        return NULL;
    tensor_t v[3];
    PyObject *objs[3] = {args[0], args[1], args[2]};
    int got = tensor_arguments("softmax_tensor", objs, args[1] != Py_None, v);
    if (got <= 0)
        return got < 0 ? NULL : Py_NewRef(Py_False);
    if (v[0].n % m != 0) {
        PyErr_Format(PyExc_ValueError,
                     "softmax_tensor: m must divide the length of x (%zd), got %lld", v[0].n, m);
        return NULL;
    }
    task_t t = {0};
    t.kind = TASK_SOFTMAX;
    t.sloop = ISA.softmax[v[0].is64];
    t.x = v[0].buf;
    t.g = args[1] != Py_None ? v[1].buf : NULL;
    t.o = v[2].buf;
    t.m = (Py_ssize_t)m;
    t.stream = HAVE_STREAM && VECTOR_STREAMS[V_softmax] && v[2].len >= stream_at;
    Py_ssize_t rows = v[0].n / t.m;
    int failed = run_call(&t, rows, v[0].n < VECTOR_SPLIT_AT[V_softmax] || threads <= 1 ||
                                        rows < 2, threads, 1, t.m);
    if (failed)
        return PyErr_NoMemory();
    Py_RETURN_TRUE;
}

static PyObject *softmax(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    return rows_call("softmax", V_softmax, ISA.softmax, args, nargs);
}

static PyObject *log_softmax(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    return rows_call("log_softmax", V_log_softmax, ISA.log_softmax, args, nargs);
}

/* maxout(x, g, out, k, threads) -> bool: the maximum of each group of k >= 1 consecutive
 * entries (g None; out has len(x)/k entries), or the backward step (g has len(x)/k entries,
 * out len(x)).  False (nothing written) as for elementwise; out may not be x or g. */
static PyObject *maxout(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    static const char *const names[3] = {"x", "g", "out"};
    long long k;
    int threads;
    if (size_and_threads("maxout", args, nargs, 5, "k (the group size)", &k, &threads) < 0)
        return NULL;
    int backward = args[1] != Py_None;
    PyObject *objs[3] = {args[0], args[1], args[2]};
    const int use[3] = {1, backward, 1};
    buffers_t b;
    int dt;
    int got = acquire("maxout", names, &b, objs, use, 3, 2, &dt);
    if (got < 0)
        return NULL;
    if (got == 0)
        Py_RETURN_FALSE;
    Py_ssize_t n = b.n[0];
    int bad;
    if (n % k != 0)
        bad = (PyErr_Format(PyExc_ValueError,
                            "maxout: k must divide the length of x (%zd), got %lld", n, k),
               -1);
    else if (b.n[2] != (backward ? n : n / k))
        bad = length_error("maxout", "out", b.n[2], backward ? n : n / k,
                           backward ? "the length of x" : "the length of x over k");
    else if (backward && b.n[1] != n / k)
        bad = length_error("maxout", "g", b.n[1], n / k, "the length of x over k");
    else
        bad = 0;
    if (bad != 0) {
        release_all(&b);
        return NULL;
    }
    /* out is written while x (and g) are still read: no overlap at all */
    int apart = overlap_ok(&b.v[2], &b.v[0]) && (b.v[2].len == 0 || b.v[2].buf != b.v[0].buf) &&
                (!backward || (overlap_ok(&b.v[2], &b.v[1]) &&
                               (b.v[2].len == 0 || b.v[2].buf != b.v[1].buf)));
    if (!apart) {
        release_all(&b);
        Py_RETURN_FALSE;
    }
    Py_ssize_t groups = n / (Py_ssize_t)k;
    task_t t = {0};
    t.kind = TASK_MAXOUT;
    t.mloop = ISA.maxout[dt];
    t.x = b.v[0].buf;
    t.g = backward ? b.v[1].buf : NULL;
    t.o = b.v[2].buf;
    t.m = (Py_ssize_t)k;
    run_call(&t, groups, n < VECTOR_SPLIT_AT[V_maxout] || threads <= 1 || groups < 2, threads,
             16, t.m);
    release_all(&b);
    Py_RETURN_TRUE;
}

/* The longest poll a helper may be told to make: 10 s. */
#define SPIN_NS_MAX 10000000000LL

/* A setting's getter-setter: its value, after setting it to the argument when one is given
 * (an int in [0, hi]); access(v) sets v (when v >= 0) and returns the value. */
static PyObject *setting(const char *name, PyObject *const *args, Py_ssize_t nargs,
                         long long hi, long long (*access)(long long))
{
    Py_ssize_t v;
    int given = setting_argument(name, args, nargs, hi, &v);
    if (given < 0)
        return NULL;
    return PyLong_FromLongLong(access(given ? (long long)v : -1));
}

static long long spin_ns_access(long long set)
{
    return pool_spin_ns((long)set);
}

static long long stream_at_access(long long set)
{
    if (set >= 0)
        stream_at = (Py_ssize_t)set;
    return HAVE_STREAM ? stream_at : PY_SSIZE_T_MAX;
}

/* spin_ns([ns]) -> int: how long pool helpers poll for a job before they sleep; with an
 * argument, sets it first (for benchmarks and tests). */
static PyObject *spin_ns_fn(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    return setting("spin_ns", args, nargs, SPIN_NS_MAX, spin_ns_access);
}

/* stream_at([bytes]) -> int: the output size at which elementwise kernels switch to
 * streaming stores; with an argument, sets it first (the tests force both paths). */
static PyObject *stream_at_fn(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    return setting("stream_at", args, nargs, PY_SSIZE_T_MAX, stream_at_access);
}

static PyObject *kernel_names(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *t = PyTuple_New(K_COUNT);
    if (t == NULL)
        return NULL;
    for (int i = 0; i < K_COUNT; i++) {
        PyObject *s = PyUnicode_FromString(KERNEL_NAMES[i]);
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

/* One kernel's entry of table(), or -1 with an exception set. */
static int table_entry(PyObject *table, const char *name, int exact, Py_ssize_t split_at,
                       int streams, int needs_fma)
{
    PyObject *flags = Py_BuildValue("{s:O,s:O,s:n,s:O}", "exact", exact ? Py_True : Py_False,
                                    "needs_fma", needs_fma ? Py_True : Py_False, "split_at",
                                    split_at, "streams", streams ? Py_True : Py_False);
    if (flags == NULL)
        return -1;
    int rc = PyDict_SetItemString(table, name, flags);
    Py_DECREF(flags);
    return rc;
}

/* table() -> dict: every kernel of kernels.def (softmax, log_softmax and maxout included), by name, with
 * its flags: exact, needs_fma, split_at, streams. */
/* 0, or -1 with an exception set */
static int append_name(PyObject *names, const char *name)
{
    PyObject *s = PyUnicode_FromString(name);
    if (s == NULL)
        return -1;
    int rc = PyList_Append(names, s);
    Py_DECREF(s);
    return rc;
}

static PyObject *table(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *t = PyDict_New();
    if (t == NULL)
        return NULL;
#define TABLE_ENTRY(name, kind, split_at, streams, needs_fma)                             \
    if (table_entry(t, #name, KIND_##kind, split_at, streams, needs_fma) < 0) {            \
        Py_DECREF(t);                                                                     \
        return NULL;                                                                      \
    }
    ELEMENTWISE_KERNELS(TABLE_ENTRY)
    VECTOR_KERNELS(TABLE_ENTRY)
#undef TABLE_ENTRY
    return t;
}

static PyObject *cpu_count(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
#if HAVE_PTHREADS && defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return PyLong_FromLong(n > 0 ? n : 1);
#else
    return PyLong_FromLong(1);
#endif
}

/* {"baseline": None, "avx2": ..., "avx512": ...}: None for the instruction sets this CPU
 * (and build) can run, else the first feature it lacks */
static PyObject *isas(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return Py_BuildValue("{s:O,s:z,s:z}", "baseline", Py_None, "avx2", isa_avx2_missing(),
                         "avx512", isa_avx512_missing());
}

/* the kernels whose float32 forward runs in float32 lanes */
static PyObject *float32_lanes(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *names = PyList_New(0);
    if (names == NULL)
        return NULL;
#define LANES_ENTRY(name)                                                                 \
    if (append_name(names, #name) < 0) {                                                  \
        Py_DECREF(names);                                                                 \
        return NULL;                                                                      \
    }
    FLOAT32_LANES(LANES_ENTRY)
#undef LANES_ENTRY
    return names;
}

static PyMethodDef methods[] = {
    {"elementwise", (PyCFunction)(void (*)(void))elementwise, METH_FASTCALL,
     "elementwise(kernel, mode, x, g, out, out2, param, threads) -> bool"},
    {"elementwise_tensor", (PyCFunction)(void (*)(void))elementwise_tensor, METH_FASTCALL,
     "elementwise_tensor(kernel, mode, x, g, out, param, threads) -> bool (torch tensors)"},
    {"softmax", (PyCFunction)(void (*)(void))softmax, METH_FASTCALL,
     "softmax(x, g, y, out, m, threads) -> bool"},
    {"softmax_tensor", (PyCFunction)(void (*)(void))softmax_tensor, METH_FASTCALL,
     "softmax_tensor(x, g, out, m, threads) -> bool (torch tensors)"},
    {"log_softmax", (PyCFunction)(void (*)(void))log_softmax, METH_FASTCALL,
     "log_softmax(x, g, y, out, m, threads) -> bool"},
    {"maxout", (PyCFunction)(void (*)(void))maxout, METH_FASTCALL,
     "maxout(x, g, out, k, threads) -> bool"},
    {"spin_ns", (PyCFunction)(void (*)(void))spin_ns_fn, METH_FASTCALL,
     "spin_ns([ns]) -> int: how long pool helpers poll for the next job before sleeping"},
    {"stream_at", (PyCFunction)(void (*)(void))stream_at_fn, METH_FASTCALL,
     "stream_at([bytes]) -> int: output size from which results are streamed to memory"},
    {"kernel_names", kernel_names, METH_NOARGS, "the elementwise kernels' names, by id"},
    {"table", table, METH_NOARGS,
     "table() -> dict: each kernel's flags (exact, needs_fma, split_at, streams), by name"},
    {"cpu_count", cpu_count, METH_NOARGS, "online processors"},
    {"isas", isas, METH_NOARGS,
     "isas() -> dict: None for each instruction set this CPU runs, else the feature it lacks"},
    {"float32_lanes", float32_lanes, METH_NOARGS,
     "float32_lanes() -> list: the kernels whose float32 forward runs in float32 lanes"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_kernels",
                                       "actlab's compiled activation kernels", -1, methods};

/* 0, or -1 with ValueError set: an unknown ACTLAB_ISA, or one this CPU cannot run */
static int choose_isa(void)
{
    const char *want = getenv("ACTLAB_ISA");
    if (want == NULL || *want == '\0') {
        if (getenv("ACTLAB_NO_AVX2") != NULL || (!isa_avx512(&ISA) && !isa_avx2(&ISA)))
            isa_base(&ISA);
        return 0;
    }
    if (strcmp(want, "baseline") == 0) {
        isa_base(&ISA);
        return 0;
    }
    if (strcmp(want, "avx2") == 0) {
        if (isa_avx2(&ISA))
            return 0;
        PyErr_Format(PyExc_ValueError, "ACTLAB_ISA=avx2, but this CPU lacks %s", isa_avx2_missing());
        return -1;
    }
    if (strcmp(want, "avx512") == 0) {
        if (isa_avx512(&ISA))
            return 0;
        PyErr_Format(PyExc_ValueError, "ACTLAB_ISA=avx512, but this CPU lacks %s",
                     isa_avx512_missing());
        return -1;
    }
    PyErr_Format(PyExc_ValueError, "ACTLAB_ISA must be baseline, avx2 or avx512, not '%s'", want);
    return -1;
}

PyMODINIT_FUNC PyInit__kernels(void)
{
    if (choose_isa() < 0)
        return NULL;
    PyObject *mod = PyModule_Create(&moduledef);
    if (mod == NULL)
        return NULL;
    if (PyModule_AddStringConstant(mod, "isa", ISA.name) < 0 ||
        PyModule_AddIntConstant(mod, "fast_fma", ISA.fast_fma) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_FWD", MODE_FWD) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_DER", MODE_DER) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_BWD", MODE_BWD) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_FWD_DER", MODE_FWD_DER) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
