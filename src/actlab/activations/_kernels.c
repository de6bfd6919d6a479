/* actlab.activations._kernels: fused loops for the seed activations, on contiguous
 * float32/float64 buffers, split over threads with the GIL released.
 *
 * Optional: setup.py builds it when a C compiler is there, and actlab falls back to its
 * NumPy kernels when it is not (actlab/activations/_fast.py).  It takes any object with the
 * buffer protocol and checks the format itself, so it needs no NumPy headers.
 *
 * The accuracy contract is the NumPy kernels' (docs/accuracy.md): everything is computed in
 * double and rounded once; the exact functions (step, relu, leaky_relu, identity) in the
 * buffer's own dtype.  The numerics are in _kernels_body.h; the polynomial coefficients come
 * from tools/fit_polynomials.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !defined(_WIN32)
#include <pthread.h>
#include <unistd.h>
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

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define HAVE_AVX2_VERSION 1
#else
#define HAVE_AVX2_VERSION 0
#endif

enum { K_STEP, K_SIGMOID, K_TANH, K_ARCTAN, K_RELU, K_LEAKY_RELU, K_SELU, K_IDENTITY, K_COUNT };
enum { MODE_FWD, MODE_DER, MODE_BWD, MODE_FWD_DER };

static const char *const KERNEL_NAMES[K_COUNT] = {
    "step", "sigmoid", "tanh", "arctan", "relu", "leaky_relu", "selu", "identity"};
/* Below this many elements one thread does it all: waking a helper costs ~10-50 us. */
static const Py_ssize_t SPLIT_AT[K_COUNT] = {
    [K_STEP] = 1 << 16, [K_SIGMOID] = 1 << 14, [K_TANH] = 1 << 14, [K_ARCTAN] = 1 << 14,
    [K_RELU] = 1 << 16, [K_LEAKY_RELU] = 1 << 16, [K_SELU] = 1 << 14, [K_IDENTITY] = 1 << 16};
#define SOFTMAX_SPLIT_AT (1 << 14)
/* Kernels whose large outputs are written with streaming stores (below): the exact ones,
 * bound by memory.  For the others the extra pass through L1 cost more than it saved
 * (1.04-1.11x the time at 1e7 elements), since their arithmetic is the bottleneck. */
static const int STREAMS[K_COUNT] = {
    [K_STEP] = 1, [K_RELU] = 1, [K_LEAKY_RELU] = 1, [K_IDENTITY] = 1};

typedef void (*elementwise_loop)(int, const void *, const void *, void *, void *, double,
                                 Py_ssize_t, Py_ssize_t);
typedef void (*maxout_loop)(const void *, const void *, void *, Py_ssize_t, Py_ssize_t,
                            Py_ssize_t);
typedef void (*softmax_loop)(const void *, const void *, const void *, void *, Py_ssize_t,
                             double *, double *, Py_ssize_t, Py_ssize_t, int);

/* ------------------------------------------------------------------ constants */
/* Every per-element helper is inlined, whatever gcc's size heuristics say: one call left
 * in a loop stops it from being vectorised, and the loops of f and f' took 3-14x the time
 * once the backward's tail handling made the loop functions large enough for gcc to stop
 * inlining the functions they share. */
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

static const double INV_LN2 = 0x1.71547652b82fep0;
static const double LN2_HI = 0x1.62e42fefa39efp-1;
static const double LN2_LO = 0x1.abc9e3b39803fp-56;
static const double SHIFT = 0x1.8p52;
/* where exp's argument is clamped for float32 results.  Not just below every float32 result
 * (e^-104 would do for f and f'): a backward multiplies f' by g, up to FLT_MAX in size, and
 * softmax's by g_j - sum g y, up to 2 FLT_MAX.  At -200, 4 e^-200 * 2 FLT_MAX < 2^-157, so a
 * product from a clamped f' rounds to the 0 that the exact one rounds to (at -110 a grad of
 * 1e30 gave 1.7e-18 at x = -inf, where the limit is 0). */
static const double EXP_LOWEST_LO = -200.0;
/* the float32 sigmoid's x is clamped to [-200, 200], for its backward as above;
 * sigmoid(200) = 1 - e^-200 rounds to 1, and (1 + e^200)^2 (5e173) is far from overflow */
static const double SIGMOID_X_MAX_LO = 200.0;
static const double TWO_M512 = 0x1p-512;
static const double TWO_P512 = 0x1p512;
static const double TAN_3PI_8 = 2.41421356237309504880;
static const double TAN_PI_8 = 0.41421356237309504880;
static const double PIO2_HI = 0x1.921fb54442d18p0;
static const double PIO2_LO = 0x1.1a62633145c07p-54;
static const double PIO4_HI = 0x1.921fb54442d18p-1;
static const double PIO4_LO = 0x1.1a62633145c07p-55;
/* e^-500, correctly rounded: the step of exp_product's product of normal factors */
static const double EXP_M500 = 0x1.9265e78d4438dp-722;
static const double SELU_LAMBDA = 1.0507009873554804934193349852946;
static const double SELU_LAMBDA_ALPHA = 1.7580993408473768599402175208123;

/* expm1(r) = r + r^2 P(r) on |r| <= ln2/2; relative error 1.4e-18 (HI), 5.3e-10 (LO: for
 * float32 results, 0.01 of their half ULP; a sixth-degree P, 1.0e-11, cost one more fma
 * per element, and 0.91-0.98x the time of the float32 sigmoid without it). */
static const double EXPM1_HI[12] = {
    0.5, 0.16666666666666666, 0.04166666666666668, 0.008333333333333333,
    0.0013888888888879073, 0.00019841269841263298, 2.4801587336442236e-05,
    2.755731924721873e-06, 2.75572632790885e-07, 2.505207109429355e-08,
    2.0918137737642736e-09, 1.608662795678037e-10};
static const double EXPM1_LO[6] = {
    0.500000001346581, 0.16666666681623232, 0.041666464925285904, 0.0083333109254809,
    0.0013933649996309251, 0.00019890990824673654};
/* atan(t) = t + t u P(u), u = t^2 <= tan^2(pi/8); error in u P: 7.3e-18 (HI), 2.8e-12 (LO). */
static const double ATAN_HI[11] = {
    -0.3333333333333333, 0.19999999999995516, -0.14285714284665682, 0.11111111015187018,
    -0.0909090457530649, 0.07692183125376892, -0.06664510525508936, 0.05858140904866328,
    -0.050854078345894844, 0.03923044778479309, -0.019175404711104935};
static const double ATAN_LO[7] = {
    -0.33333333331439496, 0.19999998916690562, -0.14285612465275252, 0.11107493853432703,
    -0.09028967562110418, 0.07135234647464041, -0.04043033696147107};

/* 4 doubles, for the loops the vectoriser will not do by itself (GCC vector extensions:
 * plain SSE2 in the baseline version, AVX in the AVX2 one). */
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

ALWAYS_INLINE v4d load4_double(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

ALWAYS_INLINE v8f load8_float(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

ALWAYS_INLINE v4d load4_float(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, v4d);
}

/* ------------------------------------------------------------------ the two versions */
#if HAVE_AVX2_VERSION
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SFX avx2
#define BODY_AVX2 1
#include "_kernels_body.h"
#undef BODY_AVX2
#undef SFX
#pragma GCC pop_options
#endif

#define SFX base
#define BODY_AVX2 0
#include "_kernels_body.h"
#undef BODY_AVX2
#undef SFX

static const elementwise_loop (*LOOPS)[2] = LOOPS_base;
static const softmax_loop *SOFTMAX = SOFTMAX_base;
static const maxout_loop *MAXOUT = MAXOUT_base;
static const char *ISA = "baseline";
/* Without a hardware fma (x86 before AVX2), fma() is a slow libm call: the exponential
 * kernels are then slower than NumPy's and _fast.py leaves them to NumPy. */
#if defined(__FP_FAST_FMA)
static int FAST_FMA = 1;
#else
static int FAST_FMA = 0;
#endif

/* ------------------------------------------------------------------ threads */
typedef struct {
    int kind; /* 0 elementwise, 1 softmax, 2 maxout */
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

/* ------------------------------------------------------------------ streaming stores */
/* An output much larger than the last-level cache is written with non-temporal stores: a
 * plain store first reads the line it writes into the cache (read-for-ownership), so a
 * kernel that reads one array and writes another moves three arrays' worth of memory; a
 * streaming store moves two.  The loops write a block into a small buffer on the stack,
 * which stays in L1, and stream_copy sends it on.  The bits are the same either way. */
#define STREAM_BLOCK_BYTES 8192
/* Output bytes from which streaming starts.  A fixed size, about a last-level cache, not
 * sysconf's: in a virtual machine that reports the host's (256 MiB on the test machine,
 * whose guest has 32 MiB); below it, results stay in cache for the next layer to read. */
static Py_ssize_t stream_at = (Py_ssize_t)16 << 20;

#if HAVE_STREAM
static void stream_copy(void *dst, const void *src, size_t bytes)
{
    char *d = dst;
    const char *s = src;
    size_t head = (size_t)(-(uintptr_t)d) & 15;
    if (head > bytes)
        head = bytes;
    memcpy(d, s, head);
    d += head;
    s += head;
    bytes -= head;
    for (; bytes >= 64; bytes -= 64, d += 64, s += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
        __m128i e = _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
        _mm_stream_si128((__m128i *)(void *)d, a);
        _mm_stream_si128((__m128i *)(void *)(d + 16), b);
        _mm_stream_si128((__m128i *)(void *)(d + 32), c);
        _mm_stream_si128((__m128i *)(void *)(d + 48), e);
    }
    for (; bytes >= 16; bytes -= 16, d += 16, s += 16)
        _mm_stream_si128((__m128i *)(void *)d, _mm_loadu_si128((const __m128i *)(const void *)s));
    memcpy(d, s, bytes);
}

/* [lo, hi) block by block through L1, then streamed out.  In place (o == x or o == g) is
 * still fine: a block is read whole before any of it is written. */
static void run_streamed(task_t *t)
{
    double buf[STREAM_BLOCK_BYTES / sizeof(double)] __attribute__((aligned(64)));
    double buf2[STREAM_BLOCK_BYTES / sizeof(double)] __attribute__((aligned(64)));
    const Py_ssize_t size = t->itemsize, block = STREAM_BLOCK_BYTES / size;
    for (Py_ssize_t b = t->lo; b < t->hi; b += block) {
        Py_ssize_t len = t->hi - b < block ? t->hi - b : block;
        const char *x = (const char *)t->x + b * size;
        const char *g = t->g != NULL ? (const char *)t->g + b * size : NULL;
        t->loop(t->mode, x, g, buf, t->o2 != NULL ? buf2 : NULL, t->prm, 0, len);
        stream_copy((char *)t->o + b * size, buf, (size_t)(len * size));
        if (t->o2 != NULL)
            stream_copy((char *)t->o2 + b * size, buf2, (size_t)(len * size));
    }
    _mm_sfence(); /* streaming stores are weakly ordered: finish them before reporting done */
}
#endif

static void run_task(task_t *t)
{
    if (t->kind == 0) {
#if HAVE_STREAM
        if (t->stream) {
            run_streamed(t);
            return;
        }
#endif
        t->loop(t->mode, t->x, t->g, t->o, t->o2, t->prm, t->lo, t->hi);
        return;
    }
    if (t->kind == 2) {
        t->mloop(t->x, t->g, t->o, t->m, t->lo, t->hi);
        return;
    }
    double stack[2 * 1024];
    double *s = t->m <= 1024 ? stack : malloc(2 * (size_t)t->m * sizeof(double));
    if (s == NULL) {
        t->failed = 1;
        return;
    }
    t->sloop(t->x, t->g, t->y, t->o, t->m, s, s + t->m, t->lo, t->hi, t->stream);
#if HAVE_STREAM
    if (t->stream)
        _mm_sfence(); /* as in run_streamed */
#endif
    if (s != stack)
        free(s);
}

#define MAX_THREADS 64

#if HAVE_PTHREADS && !defined(__STDC_NO_ATOMICS__)
#include <sched.h>
#include <stdatomic.h>

/* A job cut into chunks that the calling thread and the pool's helpers claim one at a
 * time.  The caller never waits for a helper that has not woken up (on a busy machine that
 * can take milliseconds): it does every unclaimed chunk itself and waits only for chunks a
 * helper is working on.  The job is freed by whoever lets go of it last. */
typedef struct {
    task_t proto;
    Py_ssize_t n, chunk, nchunks;
    int helpers;         /* how many helpers may join */
    atomic_int tickets;  /* helpers joined so far */
    atomic_long next;    /* next chunk to claim */
    atomic_long done;    /* chunks finished */
    atomic_int refs;
    atomic_int failed;
} job_t;

static void job_release(job_t *job)
{
    if (atomic_fetch_sub(&job->refs, 1) == 1)
        free(job);
}

static void job_work(job_t *job)
{
    for (;;) {
        long c = atomic_fetch_add(&job->next, 1);
        if (c >= job->nchunks)
            return;
        task_t t = job->proto;
        t.lo = (Py_ssize_t)c * job->chunk;
        t.hi = t.lo + job->chunk < job->n ? t.lo + job->chunk : job->n;
        t.failed = 0;
        run_task(&t);
        if (t.failed)
            atomic_store(&job->failed, 1);
        atomic_fetch_add(&job->done, 1);
    }
}

/* The pool: helper threads started on first need, asleep on a condition variable between
 * jobs.  pool_job holds a reference to the latest job. */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static job_t *pool_job = NULL;
static atomic_ulong pool_gen = 0; /* changed under pool_mu, polled without it */
static int pool_size = 0;
/* How long a helper polls for the next job before it sleeps on the condition variable.
 * A helper that sleeps is slow to wake on a virtual machine (its idle vCPU is halted):
 * calls of 0.1-1 ms then ran on the caller alone, at half the speed.  It yields between
 * polls, so that another runnable thread (BLAS, the next op) is not held up: polling
 * without yielding cost a matmul-then-sigmoid step 1.10x its time. */
static atomic_long spin_ns = 200000;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pool_spin(unsigned long seen)
{
    long budget = atomic_load_explicit(&spin_ns, memory_order_relaxed);
    if (budget <= 0)
        return;
    double until = now_ns() + (double)budget;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(&pool_gen, memory_order_relaxed) != seen)
                return;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        if (now_ns() > until)
            return;
        sched_yield(); /* a runnable thread (BLAS, the next op) takes the core first */
    }
}

static void *pool_main(void *arg)
{
    (void)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool_mu);
    seen = atomic_load(&pool_gen);
    for (;;) {
        if (atomic_load(&pool_gen) == seen) {
            pthread_mutex_unlock(&pool_mu);
            pool_spin(seen);
            pthread_mutex_lock(&pool_mu);
        }
        while (atomic_load(&pool_gen) == seen)
            pthread_cond_wait(&pool_cv, &pool_mu);
        seen = atomic_load(&pool_gen);
        job_t *job = pool_job;
        if (job != NULL)
            atomic_fetch_add(&job->refs, 1);
        pthread_mutex_unlock(&pool_mu);
        if (job != NULL) {
            if (atomic_fetch_add(&job->tickets, 1) < job->helpers)
                job_work(job);
            job_release(job);
        }
        pthread_mutex_lock(&pool_mu);
    }
    return NULL;
}

static void pool_after_fork(void)
{
    /* the child has no helpers: callers do their jobs alone until new ones start */
    pthread_mutex_init(&pool_mu, NULL);
    pthread_cond_init(&pool_cv, NULL);
    pool_job = NULL;
    pool_size = 0;
}

/* Start helpers up to `want` (pool_mu held). */
static void pool_grow(int want)
{
    static int atfork_done = 0;
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, pool_after_fork);
        atfork_done = 1;
    }
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (pool_size < want) {
        pthread_t id;
        if (pthread_create(&id, &attr, pool_main, NULL) != 0)
            break;
        pool_size++;
    }
    pthread_attr_destroy(&attr);
}

#ifndef CHUNK_ELEMS
#define CHUNK_ELEMS ((Py_ssize_t)1 << 16)
#endif
/* Run [0, n) in chunks (multiples of `align`) on the caller and up to threads-1 helpers;
 * each of the n items is `unit` elements. */
static int run_split(task_t *proto, Py_ssize_t n, int threads, Py_ssize_t align, Py_ssize_t unit)
{
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    job_t *job = malloc(sizeof *job);
    if (job == NULL) {
        proto->lo = 0;
        proto->hi = n;
        run_task(proto);
        return proto->failed;
    }
    job->proto = *proto;
    job->n = n;
    /* at least 4 chunks per thread, and at most CHUNK_ELEMS elements each, so that a late or
     * preempted helper holds up little and the threads finish together */
    Py_ssize_t chunk = (n + 4 * threads - 1) / (4 * threads);
    Py_ssize_t cap = CHUNK_ELEMS / unit > 0 ? CHUNK_ELEMS / unit : 1; /* a row may be longer */
    chunk = chunk < cap ? chunk : cap;
    chunk = (chunk + align - 1) / align * align;
    job->chunk = chunk;
    job->nchunks = (n + chunk - 1) / chunk;
    job->helpers = threads - 1;
    atomic_init(&job->tickets, 0);
    atomic_init(&job->next, 0);
    atomic_init(&job->done, 0);
    atomic_init(&job->refs, 2); /* the caller and pool_job */
    atomic_init(&job->failed, 0);

    pthread_mutex_lock(&pool_mu);
    if (pool_size < threads - 1)
        pool_grow(threads - 1);
    job_t *old = pool_job;
    pool_job = job;
    atomic_fetch_add(&pool_gen, 1);
    pthread_cond_broadcast(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
    if (old != NULL)
        job_release(old);

    job_work(job);
    while (atomic_load(&job->done) < job->nchunks)
        sched_yield(); /* a helper is finishing its last chunk */
    int failed = atomic_load(&job->failed);

    pthread_mutex_lock(&pool_mu);
    int ours = pool_job == job;
    if (ours)
        pool_job = NULL;
    pthread_mutex_unlock(&pool_mu);
    if (ours)
        job_release(job);
    job_release(job);
    return failed;
}
#else
static int run_split(task_t *proto, Py_ssize_t n, int threads, Py_ssize_t align, Py_ssize_t unit)
{
    (void)threads;
    (void)align;
    (void)unit;
    proto->lo = 0;
    proto->hi = n;
    run_task(proto);
    return proto->failed;
}
#endif

/* ------------------------------------------------------------------ arguments */
/* Every entry point checks each of its arguments before it touches memory: a wrong type is
 * a TypeError, a value out of range a ValueError, each naming the argument.  A well-formed
 * call whose buffers have a layout the loops do not take (not C-contiguous, a read-only
 * output, outputs overlapping inputs in part) returns False and writes nothing: the caller
 * then falls back to NumPy, whose own checks name the problem. */

/* An int argument in [lo, hi]; bools are refused as not meant. 0 ok, -1 error set. */
static int int_argument(const char *fn, const char *name, PyObject *obj, long long lo,
                        long long hi, long long *value)
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

/* A thread count: an int in [1, INT_MAX] (run_split uses at most MAX_THREADS of them). */
static int threads_argument(const char *fn, PyObject *obj, int *threads)
{
    long long v;
    if (int_argument(fn, "threads", obj, 1, INT_MAX, &v) < 0)
        return -1;
    *threads = (int)v;
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

/* Two buffers may be the same memory (in place) or apart; a partial overlap is refused. */
static int overlap_ok(const Py_buffer *a, const Py_buffer *b)
{
    const char *a0 = a->buf, *a1 = (const char *)a->buf + a->len;
    const char *b0 = b->buf, *b1 = (const char *)b->buf + b->len;
    if (a1 <= b0 || b1 <= a0)
        return 1;
    return a0 == b0 && a->len == b->len;
}

#define NBUF 4

typedef struct {
    Py_buffer v[NBUF];
    int held[NBUF];
    Py_ssize_t n[NBUF]; /* elements */
} buffers_t;

static void release_all(buffers_t *b)
{
    for (int i = 0; i < NBUF; i++)
        if (b->held[i])
            PyBuffer_Release(&b->v[i]);
}

/* Acquire objs[i] for each i with use[i] (the others are not looked at): all of one dtype,
 * those with i >= first_out outputs.  1 ok (held), 0 unsuitable layout, -1 error (both
 * released).  Lengths are the caller's to check. */
static int acquire(const char *fn, const char *const *names, buffers_t *b,
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

/* Outputs (index >= first_out) apart from, or the same as, every other buffer; two outputs
 * never the same. */
static int overlaps_ok(const buffers_t *b, int k, int first_out)
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

static int length_error(const char *fn, const char *name, Py_ssize_t got, Py_ssize_t want,
                        const char *what)
{
    PyErr_Format(PyExc_ValueError, "%s: %s has %zd elements, expected %zd (%s)", fn, name, got,
                 want, what);
    return -1;
}

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
    PyObject *objs[4] = {args[2], args[3], args[4], args[5]};
    const int use[4] = {1, mode == MODE_BWD, 1, mode == MODE_FWD_DER};
    buffers_t b;
    int is64;
    int got = acquire("elementwise", names, &b, objs, use, 4, 2, &is64);
    if (got < 0)
        return NULL;
    if (got == 0)
        Py_RETURN_FALSE;
    Py_ssize_t n = b.n[0];
    for (int i = 1; i < 4; i++)
        if (b.held[i] && b.n[i] != n) {
            length_error("elementwise", names[i], b.n[i], n, "the length of x");
            release_all(&b);
            return NULL;
        }
    if (!overlaps_ok(&b, 4, 2)) {
        release_all(&b);
        Py_RETURN_FALSE;
    }
    task_t t = {0};
    t.kind = 0;
    t.loop = LOOPS[kid][is64];
    t.mode = (int)mode;
    t.x = b.v[0].buf;
    t.g = b.held[1] ? b.v[1].buf : NULL;
    t.o = b.v[2].buf;
    t.o2 = b.held[3] ? b.v[3].buf : NULL;
    t.prm = prm;
    t.itemsize = is64 ? 8 : 4;
    t.stream = HAVE_STREAM && STREAMS[kid] && b.v[2].len >= stream_at;
    if (n < SPLIT_AT[kid] || threads <= 1) {
        t.lo = 0;
        t.hi = n;
        run_task(&t); /* small: no GIL dance, no threads */
    } else {
        Py_BEGIN_ALLOW_THREADS
        run_split(&t, n, threads, 64, 1);
        Py_END_ALLOW_THREADS
    }
    release_all(&b);
    Py_RETURN_TRUE;
}

/* softmax(x, g, y, out, m, threads) -> bool: softmax over rows of length m (g and y None),
 * or its backward y (g - sum g y), with y = softmax(x) when y is None.  x, g, y and out are
 * float32 or float64 of one dtype and length, a multiple of m >= 1.  False (nothing
 * written) as for elementwise; out may be x, g or y itself. */
static PyObject *softmax(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    static const char *const names[4] = {"x", "g", "y", "out"};
    if (nargs != 6) {
        PyErr_Format(PyExc_TypeError, "softmax takes 6 arguments (%zd given)", nargs);
        return NULL;
    }
    long long m;
    int threads;
    if (int_argument("softmax", "m (the row length)", args[4], 1, PY_SSIZE_T_MAX, &m) < 0 ||
        threads_argument("softmax", args[5], &threads) < 0)
        return NULL;
    if (args[1] == Py_None && args[2] != Py_None) {
        PyErr_SetString(PyExc_ValueError, "softmax: y (the saved output) is for the backward "
                        "only: g is None");
        return NULL;
    }
    PyObject *objs[4] = {args[0], args[1], args[2], args[3]};
    const int use[4] = {1, args[1] != Py_None, args[2] != Py_None, 1};
    buffers_t b;
    int is64;
    int got = acquire("softmax", names, &b, objs, use, 4, 3, &is64);
    if (got < 0)
        return NULL;
    if (got == 0)
        Py_RETURN_FALSE;
    Py_ssize_t n = b.n[0];
    for (int i = 1; i < 4; i++)
        if (b.held[i] && b.n[i] != n) {
            length_error("softmax", names[i], b.n[i], n, "the length of x");
            release_all(&b);
            return NULL;
        }
    if (n % m != 0) {
        PyErr_Format(PyExc_ValueError, "softmax: m must divide the length of x (%zd), got %lld",
                     n, m);
        release_all(&b);
        return NULL;
    }
    if (!overlaps_ok(&b, 4, 3)) {
        release_all(&b);
        Py_RETURN_FALSE;
    }
    task_t t = {0};
    t.kind = 1;
    t.sloop = SOFTMAX[is64];
    t.x = b.v[0].buf;
    t.g = b.held[1] ? b.v[1].buf : NULL;
    t.y = b.held[2] ? b.v[2].buf : NULL;
    t.o = b.v[3].buf;
    t.m = (Py_ssize_t)m;
    t.stream = HAVE_STREAM && b.v[3].len >= stream_at;
    Py_ssize_t rows = n / t.m;
    int failed;
    if (n < SOFTMAX_SPLIT_AT || threads <= 1 || rows < 2) {
        t.lo = 0;
        t.hi = rows;
        run_task(&t);
        failed = t.failed;
    } else {
        Py_BEGIN_ALLOW_THREADS
        failed = run_split(&t, rows, threads, 1, t.m);
        Py_END_ALLOW_THREADS
    }
    release_all(&b);
    if (failed)
        return PyErr_NoMemory();
    Py_RETURN_TRUE;
}

/* maxout(x, g, out, k, threads) -> bool: the maximum of each group of k >= 1 consecutive
 * entries (g None; out has len(x)/k entries), or the backward step (g has len(x)/k entries,
 * out len(x)).  False (nothing written) as for elementwise; out may not be x or g. */
static PyObject *maxout(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    static const char *const names[3] = {"x", "g", "out"};
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError, "maxout takes 5 arguments (%zd given)", nargs);
        return NULL;
    }
    long long k;
    int threads;
    if (int_argument("maxout", "k (the group size)", args[3], 1, PY_SSIZE_T_MAX, &k) < 0 ||
        threads_argument("maxout", args[4], &threads) < 0)
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
    t.kind = 2;
    t.mloop = MAXOUT[dt];
    t.x = b.v[0].buf;
    t.g = backward ? b.v[1].buf : NULL;
    t.o = b.v[2].buf;
    t.m = (Py_ssize_t)k;
    if (n < (1 << 16) || threads <= 1 || groups < 2) {
        t.lo = 0;
        t.hi = groups;
        run_task(&t);
    } else {
        Py_BEGIN_ALLOW_THREADS
        run_split(&t, groups, threads, 16, t.m);
        Py_END_ALLOW_THREADS
    }
    release_all(&b);
    Py_RETURN_TRUE;
}

/* The optional argument of a setting's getter-setter: 1 and *value when given (an int in
 * [0, hi]), 0 when not, -1 with an exception set when it is bad. */
static int setting_argument(const char *name, PyObject *const *args, Py_ssize_t nargs,
                            long long hi, Py_ssize_t *value)
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

/* The longest poll a helper may be told to make: 10 s. */
#define SPIN_NS_MAX 10000000000LL

/* spin_ns([ns]) -> int: how long pool helpers poll for a job before they sleep; with an
 * argument, sets it first (for benchmarks and tests). */
static PyObject *spin_ns_fn(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    Py_ssize_t v;
    int given = setting_argument("spin_ns", args, nargs, SPIN_NS_MAX, &v);
    if (given < 0)
        return NULL;
#if HAVE_PTHREADS && !defined(__STDC_NO_ATOMICS__)
    if (given)
        atomic_store(&spin_ns, (long)v);
    return PyLong_FromLong(atomic_load(&spin_ns));
#else
    return PyLong_FromLong(0);
#endif
}

/* stream_at([bytes]) -> int: the output size at which elementwise kernels switch to
 * streaming stores; with an argument, sets it first (the tests force both paths). */
static PyObject *stream_at_fn(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    Py_ssize_t v;
    int given = setting_argument("stream_at", args, nargs, PY_SSIZE_T_MAX, &v);
    if (given < 0)
        return NULL;
    if (given)
        stream_at = v;
    return PyLong_FromSsize_t(HAVE_STREAM ? stream_at : PY_SSIZE_T_MAX);
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

static PyMethodDef methods[] = {
    {"elementwise", (PyCFunction)(void (*)(void))elementwise, METH_FASTCALL,
     "elementwise(kernel, mode, x, g, out, out2, param, threads) -> bool"},
    {"softmax", (PyCFunction)(void (*)(void))softmax, METH_FASTCALL,
     "softmax(x, g, y, out, m, threads) -> bool"},
    {"maxout", (PyCFunction)(void (*)(void))maxout, METH_FASTCALL,
     "maxout(x, g, out, k, threads) -> bool"},
    {"spin_ns", (PyCFunction)(void (*)(void))spin_ns_fn, METH_FASTCALL,
     "spin_ns([ns]) -> int: how long pool helpers poll for the next job before sleeping"},
    {"stream_at", (PyCFunction)(void (*)(void))stream_at_fn, METH_FASTCALL,
     "stream_at([bytes]) -> int: output size from which results are streamed to memory"},
    {"kernel_names", kernel_names, METH_NOARGS, "the kernel names, by id"},
    {"cpu_count", cpu_count, METH_NOARGS, "online processors"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_kernels",
                                       "actlab's compiled activation kernels", -1, methods};

PyMODINIT_FUNC PyInit__kernels(void)
{
#if HAVE_AVX2_VERSION
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        getenv("ACTLAB_NO_AVX2") == NULL) {
        LOOPS = LOOPS_avx2;
        SOFTMAX = SOFTMAX_avx2;
        MAXOUT = MAXOUT_avx2;
        ISA = "avx2+fma";
        FAST_FMA = 1;
    }
#endif
    PyObject *mod = PyModule_Create(&moduledef);
    if (mod == NULL)
        return NULL;
    if (PyModule_AddStringConstant(mod, "isa", ISA) < 0 ||
        PyModule_AddIntConstant(mod, "fast_fma", FAST_FMA) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_FWD", MODE_FWD) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_DER", MODE_DER) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_BWD", MODE_BWD) < 0 ||
        PyModule_AddIntConstant(mod, "MODE_FWD_DER", MODE_FWD_DER) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
