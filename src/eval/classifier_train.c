/* classifier_train.c - the data-parallel training loop of the feature classifier: each rank
 * takes its share of every global batch from data/loader.h (keyed shuffles and flips), random
 * translations keyed by (seed, TF_STREAM_EVAL_AUGMENT, step, GLOBAL row), dropout keyed by the
 * global row, softmax cross-entropy over the global batch, the gradient arena summed over the
 * ranks by the caller's allreduce (one call per step), AdamW with linear warm-up and cosine
 * decay on every rank alike. One process is a world of one (no reduction at all). Threads come
 * from the ops' OpenMP loops.
 * Must not know about MPI (the reduction is a callback), flow models, files or FID. */
#include "eval/classifier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "core/rng.h"
#include "data/loader.h"
#include "eval/kid.h"
#include "ops/ops.h"
#include "optim/optim.h"

#define WINDOW 100

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

float tf_classifier_lr(const TfClassifierTrainOpts *o, int64_t s) {
    if (o->warmup > 0 && s < o->warmup) return o->lr * (float)(s + 1) / (float)o->warmup;
    const double span = (double)(o->steps - o->warmup), done = (double)(s - o->warmup);
    const double cosv = span > 1 ? 0.5 * (1.0 + cos(3.14159265358979323846 * done / (span - 1))) : 1.0;
    return (float)(o->min_lr + (o->lr - o->min_lr) * cosv);
}

/* out = in translated by (dx, dy) per row, uncovered pixels set to -1 (background). */
static void shift_batch(const float *in, float *out, int n, int C, int H, int W, int smax, uint64_t seed,
                        uint64_t step, uint64_t row0) {
    const uint32_t span = (uint32_t)(2 * smax + 1);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++) {
        TfRng r = tf_rng(seed, TF_STREAM_EVAL_AUGMENT, step, row0 + (uint64_t)b); /* global row */
        const int dx = (int)tf_rng_below(&r, 0, span) - smax, dy = (int)tf_rng_below(&r, 1, span) - smax;
        for (int c = 0; c < C; c++) {
            const float *src = in + ((size_t)b * C + c) * H * W;
            float *dst = out + ((size_t)b * C + c) * H * W;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const int sy = y - dy, sx = x - dx;
                    dst[y * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[sy * W + sx] : -1.0f;
                }
        }
    }
}

/* In-place sum over the ranks (nothing with one). */
static void reduce_f32(const TfClassifierTrainOpts *o, float *buf, size_t n) {
    if (o->world > 1) o->allreduce(o->allreduce_ctx, buf, n);
}

void tf_classifier_train(TfTape *tp, const TfModelConfig *cfg, const TfClassifierTrainOpts *o,
                         const TfDataset *train, TfClassifierTrainResult *res) {
    if (!train->pixels || train->c != cfg->in_ch || train->h != cfg->image_size || train->w != cfg->image_size ||
        train->num_classes != cfg->num_classes)
        tf_die_usage("the classifier takes the dataset's images: check dataset.name",
                     "classifier for %dx%dx%d images / %d classes cannot train on %s", cfg->in_ch, cfg->image_size,
                     cfg->image_size, cfg->num_classes, train->name);
    if (o->steps < 1 || o->batch < 1 || o->batch > train->n)
        tf_die_usage("use eval.classifier.batch_size <= the dataset size and at least one step",
                     "classifier training: %lld steps of batch %d on %lld examples", (long long)o->steps, o->batch,
                     (long long)train->n);
    const int world = o->world > 1 ? o->world : 1, rank = world > 1 ? o->rank : 0;
    if (world > 1 && (!o->allreduce || rank < 0 || rank >= world))
        tf_die("classifier training on %d ranks needs an allreduce and a rank in [0, %d) (rank %d)", world, world, rank);
    if (o->batch % world)
        tf_die_usage("make eval.classifier.batch_size a multiple of the number of ranks",
                     "classifier batch %d does not split over %d ranks", o->batch, world);
    const int G = o->batch, B = G / world, K = cfg->num_classes, C = cfg->in_ch, S = cfg->image_size;
    const uint64_t row0 = (uint64_t)rank * (uint64_t)B; /* this rank's first row of the global batch */
    const size_t per = (size_t)C * S * S;
    tf_model_build(tp, cfg, tf_backend_cpu(), B, TF_BUILD_TRAIN, o->seed, NULL);
    const TfBackend *be = tp->be;
    TfLoaderConfig lc = {train, o->seed, G, rank, world, 1, o->hflip, 2, 0};
    TfLoader *ld = tf_loader_create(&lc);
    const size_t np = tp->n_param_floats;
    float *m = tf_aligned_alloc(sizeof(float) * np), *v = tf_aligned_alloc(sizeof(float) * np);
    float *x = tf_malloc(sizeof(float) * per * (size_t)B), *logits = tf_malloc(sizeof(float) * (size_t)B * K),
          *probs = tf_malloc(sizeof(float) * (size_t)B * K);
    int32_t *y = tf_malloc(sizeof(int32_t) * (size_t)B);
    /* this rank's part of each step's loss (global denominator) and correct count */
    float *sl = tf_calloc((size_t)o->steps, sizeof(float)), *sr = tf_calloc((size_t)o->steps, sizeof(float));
    TfAdamConfig ac = {TF_OPTIM_ADAMW, 0.9f, 0.999f, 1e-8f, o->weight_decay};
    double t0 = now_s();
    int64_t s, logged = 0;
    for (s = 0; s < o->steps; s++) {
        const TfBatch *b = tf_loader_next(ld);
        if (o->shift > 0) shift_batch(b->x, x, B, C, S, S, o->shift, o->seed, (uint64_t)s, row0);
        else memcpy(x, b->x, sizeof(float) * per * (size_t)B);
        for (int i = 0; i < B; i++) y[i] = b->y[i];
        be->upload(tf_tape_data(tp, tp->input), x, sizeof(float) * per * (size_t)B);
        tp->training = 1;
        tp->seed = o->seed;
        tp->step = (uint64_t)s;
        tp->sample0 = row0;
        tf_tape_zero_grad(tp);
        tf_tape_forward(tp);
        be->download(logits, tf_tape_data(tp, tp->output), sizeof(float) * (size_t)B * K);
        const double loss = tf_xent_fwd(B, K, logits, y, probs, (double)G);
        if (!isfinite(loss))
            tf_die_hint("lower eval.classifier.lr", "classifier training diverged at step %lld (loss %g)", (long long)s, loss);
        int right = 0;
        for (int i = 0; i < B; i++) {
            int best = 0;
            for (int k = 1; k < K; k++) if (logits[(size_t)i * K + k] > logits[(size_t)i * K + best]) best = k;
            right += best == y[i];
        }
        tf_xent_bwd(B, K, probs, y, (double)G, logits, 0); /* logits now holds dL/dlogits */
        be->upload(tf_tape_grad(tp, tp->output), logits, sizeof(float) * (size_t)B * K);
        tf_tape_backward(tp);
        reduce_f32(o, tp->grad, np); /* the gradient of the global mean, the same bits on every rank */
        const float lr = tf_classifier_lr(o, s);
        tf_adam_update(&ac, np, tp->param, tp->grad, m, v, (long)(s + 1), lr);
        sl[s] = (float)loss;
        sr[s] = (float)right;
        if (o->log_every > 0 && ((s + 1) % o->log_every == 0 || s + 1 == o->steps)) {
            /* the window since the last log line, over all ranks */
            float w[2] = {0, 0};
            for (int64_t i = logged; i <= s; i++) w[0] += sl[i], w[1] += sr[i];
            reduce_f32(o, w, 2);
            const double k = (double)(s + 1 - logged), el = now_s() - t0;
            logged = s + 1;
            if (o->log)
                fprintf(o->log, "classifier step %lld/%lld  epoch %lld  loss %.4f  train acc %.4f  lr %.2e  %.0f img/s"
                        "%s\n", (long long)(s + 1), (long long)o->steps, (long long)b->epoch, w[0] / k,
                        w[1] / (k * G), (double)lr, (double)(s + 1) * G / (el > 0 ? el : 1e-9),
                        world > 1 ? " (all ranks)" : "");
            if (o->log) fflush(o->log);
        }
    }
    res->seconds = now_s() - t0;
    reduce_f32(o, sl, (size_t)s); /* per-step global loss and correct counts, once at the end */
    reduce_f32(o, sr, (size_t)s);
    const int64_t k = s < WINDOW ? s : WINDOW;
    res->steps = s;
    res->loss = res->train_acc = 0;
    for (int64_t i = s - k; i < s; i++) res->loss += sl[i] / (double)k, res->train_acc += sr[i] / ((double)k * G);
    res->step_loss = sl;
    tf_loader_free(ld);
    free(m); free(v); free(x); free(logits); free(probs); free(y); free(sr);
}
