/* classifier_train.c - the self-contained, single-process training loop of the feature
 * classifier: minibatches from data/loader.h (world = 1, keyed shuffles and flips), random
 * translations keyed by (seed, TF_STREAM_EVAL_AUGMENT, step, row), softmax cross-entropy,
 * AdamW with linear warm-up and cosine decay. Threads come from the ops' OpenMP loops.
 * Multi-rank classifier training is the distributed trainer's job (src/train), not this file's.
 * Must not know about MPI, flow models, files or FID. */
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
                        uint64_t step) {
    const uint32_t span = (uint32_t)(2 * smax + 1);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++) {
        TfRng r = tf_rng(seed, TF_STREAM_EVAL_AUGMENT, step, (uint64_t)b);
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
    const int B = o->batch, K = cfg->num_classes, C = cfg->in_ch, S = cfg->image_size;
    const size_t per = (size_t)C * S * S;
    tf_model_build(tp, cfg, tf_backend_cpu(), B, TF_BUILD_TRAIN, o->seed, NULL);
    const TfBackend *be = tp->be;
    TfLoaderConfig lc = {train, o->seed, B, 0, 1, 1, o->hflip, 2};
    TfLoader *ld = tf_loader_create(&lc);
    const size_t np = tp->n_param_floats;
    float *m = tf_aligned_alloc(sizeof(float) * np), *v = tf_aligned_alloc(sizeof(float) * np);
    float *x = tf_malloc(sizeof(float) * per * (size_t)B), *logits = tf_malloc(sizeof(float) * (size_t)B * K),
          *probs = tf_malloc(sizeof(float) * (size_t)B * K);
    int32_t *y = tf_malloc(sizeof(int32_t) * (size_t)B);
    TfAdamConfig ac = {TF_OPTIM_ADAMW, 0.9f, 0.999f, 1e-8f, o->weight_decay};
    double wl[WINDOW], wa[WINDOW], t0 = now_s();
    int64_t s;
    for (s = 0; s < o->steps; s++) {
        const TfBatch *b = tf_loader_next(ld);
        if (o->shift > 0) shift_batch(b->x, x, B, C, S, S, o->shift, o->seed, (uint64_t)s);
        else memcpy(x, b->x, sizeof(float) * per * (size_t)B);
        for (int i = 0; i < B; i++) y[i] = b->y[i];
        be->upload(tf_tape_data(tp, tp->input), x, sizeof(float) * per * (size_t)B);
        tp->training = 1;
        tp->seed = o->seed;
        tp->step = (uint64_t)s;
        tp->sample0 = 0;
        tf_tape_zero_grad(tp);
        tf_tape_forward(tp);
        be->download(logits, tf_tape_data(tp, tp->output), sizeof(float) * (size_t)B * K);
        const double loss = tf_xent_fwd(B, K, logits, y, probs, (double)B);
        if (!isfinite(loss))
            tf_die_hint("lower eval.classifier.lr", "classifier training diverged at step %lld (loss %g)", (long long)s, loss);
        int right = 0;
        for (int i = 0; i < B; i++) {
            int best = 0;
            for (int k = 1; k < K; k++) if (logits[(size_t)i * K + k] > logits[(size_t)i * K + best]) best = k;
            right += best == y[i];
        }
        tf_xent_bwd(B, K, probs, y, (double)B, logits, 0); /* logits now holds dL/dlogits */
        be->upload(tf_tape_grad(tp, tp->output), logits, sizeof(float) * (size_t)B * K);
        tf_tape_backward(tp);
        const float lr = tf_classifier_lr(o, s);
        tf_adam_update(&ac, np, tp->param, tp->grad, m, v, (long)(s + 1), lr);
        wl[s % WINDOW] = loss;
        wa[s % WINDOW] = (double)right / B;
        if (o->log && o->log_every > 0 && ((s + 1) % o->log_every == 0 || s + 1 == o->steps)) {
            int k = s + 1 < WINDOW ? (int)(s + 1) : WINDOW;
            double ml = 0, ma = 0;
            for (int i = 0; i < k; i++) ml += wl[i] / k, ma += wa[i] / k;
            double el = now_s() - t0;
            fprintf(o->log, "classifier step %lld/%lld  epoch %lld  loss %.4f  train acc %.4f  lr %.2e  %.0f img/s\n",
                    (long long)(s + 1), (long long)o->steps, (long long)b->epoch, ml, ma, (double)lr,
                    (double)(s + 1) * B / (el > 0 ? el : 1e-9));
            fflush(o->log);
        }
    }
    int k = s < WINDOW ? (int)s : WINDOW;
    res->steps = s;
    res->loss = res->train_acc = 0;
    for (int i = 0; i < k; i++) res->loss += wl[i] / k, res->train_acc += wa[i] / k;
    res->seconds = now_s() - t0;
    tf_loader_free(ld);
    free(m); free(v); free(x); free(logits); free(probs); free(y);
}
