/* The thread pool that splits a large call over threads (the GIL released by the caller),
 * and the streaming stores of large outputs. */
#include "common.h"

#include <time.h>
#if HAVE_PTHREADS
#include <pthread.h>
#include <unistd.h>
#endif

#define MAX_THREADS 64

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
Py_ssize_t stream_at = (Py_ssize_t)16 << 20;

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

void run_task(task_t *t)
{
    if (t->kind == TASK_ELEMENTWISE) {
#if HAVE_STREAM
        if (t->stream) {
            run_streamed(t);
            return;
        }
#endif
        t->loop(t->mode, t->x, t->g, t->o, t->o2, t->prm, t->lo, t->hi);
        return;
    }
    if (t->kind == TASK_MAXOUT) {
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
 * A helper that sleeps is slow to wake on a virtual machine (its idle vCPU is halted), so
 * that calls of 0.1-1 ms would run on the caller alone.  It yields between polls, so that
 * another runnable thread (BLAS, the next op) is not held up. */
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
int run_split(task_t *proto, Py_ssize_t n, int threads, Py_ssize_t align, Py_ssize_t unit)
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
int run_split(task_t *proto, Py_ssize_t n, int threads, Py_ssize_t align, Py_ssize_t unit)
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

int run_call(task_t *t, Py_ssize_t n, int small, int threads, Py_ssize_t align, Py_ssize_t unit)
{
    if (small) {
        t->lo = 0;
        t->hi = n;
        run_task(t);
        return t->failed;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = run_split(t, n, threads, align, unit);
    Py_END_ALLOW_THREADS
    return failed;
}

long pool_spin_ns(long set)
{
#if HAVE_PTHREADS && !defined(__STDC_NO_ATOMICS__)
    if (set >= 0)
        atomic_store(&spin_ns, set);
    return atomic_load(&spin_ns);
#else
    (void)set;
    return 0;
#endif
}
