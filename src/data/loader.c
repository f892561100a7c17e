/* loader.c - keyed per-epoch permutations, per-rank shares of each global batch, flips,
 * and a prefetch thread over a ring of preallocated slots (see loader.h for the contract).
 * Test builds only (-DTF_FAULT_INJECTION, docs/reliability.md): the rules "sample:RANK:STEPS"
 * of TINYFLOW_FAULT corrupt that rank's first sample of the batch of those steps (NaN values,
 * as a sample that failed to decode), and TINYFLOW_SAMPLE_LOG=PREFIX appends one line per
 * batch handed out, "STEP RANK EXAMPLE...", to PREFIX.rank<R> (the consumed-sample record
 * the reliability tests compare across runs). Step = epoch * steps_per_epoch + cursor / B.
 * Knows nothing about MPI, configs or models. */
#include "data/loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef TF_FAULT_INJECTION
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#endif

#include "core/check.h"
#include "core/rng.h"

struct TfLoader {
    TfLoaderConfig cfg;
    int64_t local, dim, n_examples;
    float lut[256]; /* u8 -> [-1, 1] */
    /* ring of slots */
    int nslots;
    TfBatch *slots;
    /* producer side (the thread, or the caller without prefetch) */
    uint32_t *perm;
    int64_t perm_epoch;
    TfLoaderState prod; /* next batch to prepare */
    /* consumer side */
    TfLoaderState cons; /* position after the last batch handed out */
    TfLoaderStats stats;
    /* synchronisation */
    pthread_t thread;
    int running, stop, holding;
    int64_t produced, consumed, released;
    pthread_mutex_t mu;
    pthread_cond_t can_produce, can_consume;
#ifdef TF_FAULT_INJECTION
    int log_fd;     /* TINYFLOW_SAMPLE_LOG, or -1 */
    char *log_buf;  /* one line of it, allocated at creation (nothing is allocated per batch) */
    size_t log_cap;
    int n_bad;
    struct { int rank; int64_t lo, hi; } bad[8]; /* sample:RANK:STEPS rules (rank -1: any) */
#endif
};

#ifdef TF_FAULT_INJECTION
/* Test hooks (see the top of this file). Malformed sample rules end the program. */
static void fault_init(TfLoader *l) {
    l->log_fd = -1;
    const char *log = getenv("TINYFLOW_SAMPLE_LOG");
    if (log && log[0]) {
        char path[4200];
        snprintf(path, sizeof path, "%s.rank%d", log, l->cfg.rank);
        l->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (l->log_fd < 0) tf_die("TINYFLOW_SAMPLE_LOG: cannot open '%s'", path);
        l->log_cap = 64 + (size_t)l->local * 21;
        l->log_buf = tf_malloc(l->log_cap);
    }
    const char *env = getenv("TINYFLOW_FAULT");
    for (const char *r = env; r && *r; r = strchr(r, ',') ? strchr(r, ',') + 1 : NULL) {
        if (strncmp(r, "sample:", 7) != 0) continue;
        char *end;
        int rank = -1;
        const char *p = r + 7;
        if (*p == '*') end = (char *)p + 1;
        else rank = (int)strtol(p, &end, 10);
        if (*end != ':' || l->n_bad >= 8) tf_die_usage("sample:RANK:STEP[-STEP]", "malformed fault rule '%s'", r);
        int64_t lo = strtoll(end + 1, &end, 10), hi = lo;
        if (*end == '-') hi = strtoll(end + 1, &end, 10);
        if ((*end && *end != ',') || hi < lo) tf_die_usage("sample:RANK:STEP[-STEP]", "malformed fault rule '%s'", r);
        l->bad[l->n_bad].rank = rank;
        l->bad[l->n_bad].lo = lo;
        l->bad[l->n_bad].hi = hi;
        l->n_bad++;
    }
}

static void fault_batch(TfLoader *l, TfBatch *b) {
    int64_t step = b->epoch * (l->n_examples / l->cfg.global_batch) + b->cursor / l->cfg.global_batch;
    for (int i = 0; i < l->n_bad; i++)
        if ((l->bad[i].rank < 0 || l->bad[i].rank == l->cfg.rank) && step >= l->bad[i].lo && step <= l->bad[i].hi) {
            for (int64_t k = 0; k < l->dim; k++) b->x[k] = NAN;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            fprintf(stderr, "[rank %d] fault injected: sample at step %lld (example %lld; t=%.3f)\n", l->cfg.rank,
                    (long long)step, (long long)b->example[0], (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
            fflush(stderr);
            break;
        }
    if (l->log_fd < 0) return;
    size_t cap = l->log_cap, o = 0;
    char *buf = l->log_buf;
    o += (size_t)snprintf(buf, cap, "%lld %d", (long long)step, l->cfg.rank);
    for (int64_t j = 0; j < b->n; j++) o += (size_t)snprintf(buf + o, cap - o, " %lld", (long long)b->example[j]);
    buf[o++] = '\n';
    if (write(l->log_fd, buf, o) != (ssize_t)o) tf_die("TINYFLOW_SAMPLE_LOG: write failed");
}
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tf_loader_permutation(uint64_t seed, int64_t epoch, uint32_t *perm, int64_t n) {
    TF_ASSERT(n >= 0 && n <= (int64_t)UINT32_MAX);
    for (int64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    TfRng r = tf_rng(seed, TF_STREAM_SHUFFLE, (uint64_t)epoch, 0);
    uint32_t w[4];
    for (int64_t i = n - 1; i > 0; i--) {
        /* Two words per position (64 bits): the modulo bias is below 2^-32. */
        tf_rng_block(&r, (uint32_t)(i >> 1), w);
        uint64_t x = (uint64_t)w[(i & 1) * 2] << 32 | w[(i & 1) * 2 + 1];
        int64_t j = (int64_t)(x % (uint64_t)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Where the next whole global batch starts (a partial tail moves to the next epoch). */
static TfLoaderState normalise(const TfLoader *l, TfLoaderState s) {
    if (s.cursor + l->cfg.global_batch > l->n_examples) { s.epoch++; s.cursor = 0; }
    return s;
}

/* Fill slot b with the batch at l->prod and advance l->prod (producer side only). */
static void prepare(TfLoader *l, TfBatch *b) {
    double t0 = now_s();
    TfLoaderState at = normalise(l, l->prod);
    const TfLoaderConfig *c = &l->cfg;
    if (c->shuffle && l->perm_epoch != at.epoch) {
        tf_loader_permutation(c->seed, at.epoch, l->perm, l->n_examples);
        l->perm_epoch = at.epoch;
    }
    const TfDataset *ds = c->ds;
    int64_t base = at.cursor + (int64_t)c->rank * l->local;
    int flip_ok = c->hflip && ds->pixels && ds->w > 1;
    for (int64_t j = 0; j < l->local; j++) {
        int64_t pos = base + j;
        int64_t ex = c->shuffle ? (int64_t)l->perm[pos] : pos;
        b->example[j] = ex;
        b->index_in_batch[j] = (int64_t)c->rank * l->local + j;
        b->y[j] = ds->labels ? ds->labels[ex] : 0;
        float *dst = b->x + j * l->dim;
        int flip = 0;
        TfRng r = tf_rng(c->seed, TF_STREAM_AUGMENT, (uint64_t)at.epoch, (uint64_t)ex);
        if (flip_ok) flip = (int)(tf_rng_u32(&r, 0) >> 31);
        b->flipped[j] = (uint8_t)flip;
        if (ds->pixels) {
            const uint8_t *src = ds->pixels + ex * l->dim;
            if (!flip) {
                for (int64_t k = 0; k < l->dim; k++) dst[k] = l->lut[src[k]];
            } else {
                int W = ds->w;
                for (int64_t row = 0; row < l->dim / W; row++)
                    for (int x = 0; x < W; x++) dst[row * W + x] = l->lut[src[row * W + (W - 1 - x)]];
            }
            if (c->dequantize) /* pixel k of the stored (unflipped) image gets element 2^32 + k */
                for (int64_t k = 0; k < l->dim; k++) {
                    int64_t row = k / ds->w, x = k % ds->w;
                    int64_t s = flip ? row * ds->w + (ds->w - 1 - x) : k;
                    dst[k] += (float)((double)tf_rng_uniform(&r, ((uint64_t)1 << 32) + (uint64_t)s) / 127.5);
                }
        } else {
            memcpy(dst, ds->values + ex * l->dim, (size_t)l->dim * sizeof(float));
        }
    }
    b->epoch = at.epoch;
    b->cursor = at.cursor;
    l->prod.epoch = at.epoch;
    l->prod.cursor = at.cursor + c->global_batch;
    b->prepare_s = now_s() - t0;
}

static void *producer(void *arg) {
    TfLoader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && l->produced >= l->released + l->nslots) pthread_cond_wait(&l->can_produce, &l->mu);
        if (l->stop) break;
        TfBatch *b = &l->slots[l->produced % l->nslots];
        pthread_mutex_unlock(&l->mu);
        prepare(l, b);
        pthread_mutex_lock(&l->mu);
        l->produced++;
        pthread_cond_signal(&l->can_consume);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void start(TfLoader *l) {
    l->produced = l->consumed = l->released = 0;
    l->holding = 0;
    l->stop = 0;
    l->prod = l->cons;
    if (l->cfg.prefetch <= 0) return;
    if (pthread_create(&l->thread, NULL, producer, l)) tf_die("cannot start the data-loader thread");
    l->running = 1;
}

static void stop(TfLoader *l) {
    if (!l->running) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->can_produce);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->running = 0;
}

TfLoader *tf_loader_create(const TfLoaderConfig *cfg) {
    const TfDataset *ds = cfg->ds;
    TF_ASSERT(ds && ds->n > 0 && (ds->pixels || ds->values));
    if (cfg->world < 1 || cfg->rank < 0 || cfg->rank >= cfg->world)
        tf_die_usage(NULL, "data loader: rank %d of world %d is invalid", cfg->rank, cfg->world);
    if (cfg->global_batch < 1 || cfg->global_batch % cfg->world)
        tf_die_usage("dataset.batch_size is the GLOBAL batch: make it a multiple of the number of ranks",
                     "data loader: global batch %lld is not divisible by the world size %d", (long long)cfg->global_batch,
                     cfg->world);
    if (cfg->global_batch > ds->n)
        tf_die_usage("lower dataset.batch_size (or raise dataset.n_samples for toy data)",
                     "data loader: global batch %lld exceeds the %lld examples of '%s'", (long long)cfg->global_batch,
                     (long long)ds->n, ds->name);
    if (ds->n > (int64_t)UINT32_MAX) tf_die_usage(NULL, "data loader: dataset too large");
    TfLoader *l = tf_calloc(1, sizeof *l);
    l->cfg = *cfg;
    l->local = cfg->global_batch / cfg->world;
    l->dim = (int64_t)ds->c * ds->h * ds->w;
    l->n_examples = ds->n;
    for (int k = 0; k < 256; k++) l->lut[k] = (float)k / 127.5f - 1.0f;
    l->nslots = cfg->prefetch > 0 ? cfg->prefetch + 1 : 1;
    l->slots = tf_calloc((size_t)l->nslots, sizeof *l->slots);
    for (int s = 0; s < l->nslots; s++) {
        TfBatch *b = &l->slots[s];
        b->n = l->local;
        b->c = ds->c; b->h = ds->h; b->w = ds->w;
        b->x = tf_aligned_alloc(tf_mul_size((size_t)l->local, (size_t)l->dim * sizeof(float), "loader batch"));
        b->y = tf_calloc((size_t)l->local, sizeof *b->y);
        b->index_in_batch = tf_calloc((size_t)l->local, sizeof *b->index_in_batch);
        b->example = tf_calloc((size_t)l->local, sizeof *b->example);
        b->flipped = tf_calloc((size_t)l->local, 1);
    }
    if (cfg->shuffle) l->perm = tf_malloc((size_t)ds->n * sizeof *l->perm);
    l->perm_epoch = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->can_produce, NULL);
    pthread_cond_init(&l->can_consume, NULL);
#ifdef TF_FAULT_INJECTION
    fault_init(l);
#endif
    start(l);
    return l;
}

void tf_loader_free(TfLoader *l) {
    if (!l) return;
    stop(l);
    for (int s = 0; s < l->nslots; s++) {
        free(l->slots[s].x);
        free(l->slots[s].y);
        free(l->slots[s].index_in_batch);
        free(l->slots[s].example);
        free(l->slots[s].flipped);
    }
    free(l->slots);
    free(l->perm);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->can_produce);
    pthread_cond_destroy(&l->can_consume);
#ifdef TF_FAULT_INJECTION
    if (l->log_fd >= 0) close(l->log_fd);
    free(l->log_buf);
#endif
    free(l);
}

const TfBatch *tf_loader_next(TfLoader *l) {
    double t0 = now_s();
    TfBatch *b;
    if (!l->running) {
        b = &l->slots[0];
        prepare(l, b);
    } else {
        pthread_mutex_lock(&l->mu);
        if (l->holding) {
            l->released = l->consumed;
            l->holding = 0;
            pthread_cond_signal(&l->can_produce);
        }
        while (l->produced <= l->consumed) pthread_cond_wait(&l->can_consume, &l->mu);
        b = &l->slots[l->consumed % l->nslots];
        l->consumed++;
        l->holding = 1;
        pthread_mutex_unlock(&l->mu);
    }
    double wait = now_s() - t0;
    l->cons.epoch = b->epoch;
    l->cons.cursor = b->cursor + l->cfg.global_batch;
    l->stats.batches++;
    l->stats.wait_s += wait;
    l->stats.prepare_s += b->prepare_s;
    l->stats.last_wait_s = wait;
    l->stats.last_prepare_s = b->prepare_s;
#ifdef TF_FAULT_INJECTION
    fault_batch(l, b);
#endif
    return b;
}

TfLoaderState tf_loader_state(const TfLoader *l) { return l->cons; }

void tf_loader_set_state(TfLoader *l, TfLoaderState s) {
    if (s.epoch < 0 || s.cursor < 0 || s.cursor > l->n_examples)
        tf_die_usage("the checkpoint does not belong to this dataset",
                     "data loader: cannot resume at epoch %lld, cursor %lld of %lld examples", (long long)s.epoch,
                     (long long)s.cursor, (long long)l->n_examples);
    stop(l);
    l->cons = s;
    start(l);
}

int64_t tf_loader_steps_per_epoch(const TfLoader *l) { return l->n_examples / l->cfg.global_batch; }

void tf_loader_stats(const TfLoader *l, TfLoaderStats *out) { *out = l->stats; }
