/* draw.c - keyed draws of t, noise, label dropout, probes and dequantisation (see draw.h).
 * Uses only core/rng.h; knows nothing about ranks, models or files. */
#include "flow/draw.h"

#include <math.h>

#include "core/check.h"
#include "core/rng.h"

static void check_n(const char *what, int n, int dim) {
    if (n < 0 || dim <= 0)
        tf_die_usage("pass n >= 0 samples of dim >= 1 numbers", "%s: n = %d, dim = %d", what, n, dim);
}

TfTimeSampler tf_time_uniform(void) {
    TfTimeSampler ts = {TF_TIME_UNIFORM, 0.0, 1.0, 0.0, 1.0};
    return ts;
}

TfTimeSampler tf_time_logit_normal(double mean, double std) {
    if (!(std > 0.0 && isfinite(std) && isfinite(mean)))
        tf_die_usage("use a finite mean and a positive std, e.g. mean 0, std 1",
                     "logit-normal time sampler: mean = %g, std = %g", mean, std);
    TfTimeSampler ts = {TF_TIME_LOGIT_NORMAL, mean, std, 0.0, 1.0};
    return ts;
}

TfTimeSampler tf_time_skewed(void) { return tf_time_clip(tf_time_logit_normal(1.2, 1.2), 1e-4, 1.0); }

TfTimeSampler tf_time_clip(TfTimeSampler ts, double t_min, double t_max) {
    if (!(t_min >= 0.0 && t_max <= 1.0 && t_min < t_max))
        tf_die_usage("use 0 <= t_min < t_max <= 1 (the default [0, 1] also covers the t = 1 the sampler reaches)",
                     "time range [%g, %g] is invalid", t_min, t_max);
    ts.t_min = t_min;
    ts.t_max = t_max;
    return ts;
}

void tf_draw_time(const TfTimeSampler *ts, uint64_t seed, uint64_t step, uint64_t first, int n, float *t) {
    check_n("tf_draw_time", n, 1);
    for (int i = 0; i < n; i++) {
        TfRng r = tf_rng(seed, TF_STREAM_TIME, step, first + (uint64_t)i);
        double v;
        if (ts->kind == TF_TIME_UNIFORM) {
            v = ts->t_min + (ts->t_max - ts->t_min) * (double)tf_rng_uniform(&r, 0);
        } else if (ts->kind == TF_TIME_LOGIT_NORMAL) {
            double z = ts->mean + ts->std * (double)tf_rng_normal(&r, 0);
            v = 1.0 / (1.0 + exp(-z));
            v = fmin(fmax(v, ts->t_min), ts->t_max);
        } else {
            tf_die_usage("use TF_TIME_UNIFORM or TF_TIME_LOGIT_NORMAL", "unknown time sampler kind %d", (int)ts->kind);
        }
        t[i] = (float)v;
        if (t[i] > (float)ts->t_max) t[i] = (float)ts->t_max; /* float rounding must not leave the range */
    }
}

void tf_draw_noise(uint32_t stream, uint64_t seed, uint64_t step, uint64_t first, int n, int dim, float *x0) {
    check_n("tf_draw_noise", n, dim);
    for (int i = 0; i < n; i++) {
        TfRng r = tf_rng(seed, stream, step, first + (uint64_t)i);
        tf_rng_fill_normal(&r, 0, x0 + (size_t)i * dim, (size_t)dim);
    }
}

void tf_draw_label_dropout(uint64_t seed, uint64_t step, uint64_t first, int n, double p, int num_classes,
                           const int *labels, int *out) {
    check_n("tf_draw_label_dropout", n, 1);
    if (!(p >= 0.0 && p <= 1.0))
        tf_die_usage("use a dropout probability in [0, 1], e.g. 0.1 or 0.2", "label dropout p = %g", p);
    if (num_classes <= 0)
        tf_die_usage("label dropout needs the number of classes (the null label is num_classes)",
                     "num_classes = %d", num_classes);
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] > num_classes)
            tf_die_usage("labels must lie in [0, num_classes] (num_classes = the null label)",
                         "label[%d] = %d with num_classes = %d", i, labels[i], num_classes);
        TfRng r = tf_rng(seed, TF_STREAM_LABELDROP, step, first + (uint64_t)i);
        out[i] = (double)tf_rng_uniform(&r, 0) < p ? num_classes : labels[i];
    }
}

void tf_draw_rademacher(uint64_t seed, uint64_t step, uint64_t first, int n, int dim, int probe, float *z) {
    check_n("tf_draw_rademacher", n, dim);
    if (probe < 0) tf_die_usage("probe numbers start at 0", "tf_draw_rademacher: probe = %d", probe);
    uint64_t off = (uint64_t)probe * (uint64_t)dim;
    for (int i = 0; i < n; i++) {
        TfRng r = tf_rng(seed, TF_STREAM_PROBE, step, first + (uint64_t)i);
        float *o = z + (size_t)i * dim;
        for (int j = 0; j < dim; j++) o[j] = (tf_rng_u32(&r, off + (uint64_t)j) >> 31) ? 1.0f : -1.0f;
    }
}

void tf_draw_dequantize_u8(uint64_t seed, uint64_t step, uint64_t first, int n, int dim,
                           const unsigned char *k, double scale, float *x) {
    check_n("tf_draw_dequantize_u8", n, dim);
    if (!(scale > 0.0 && isfinite(scale)))
        tf_die_usage("pass the width of one pixel level in model units, e.g. 1/128", "dequantisation scale = %g", scale);
    const uint64_t offset = (uint64_t)1 << 32;
    for (int i = 0; i < n; i++) {
        TfRng r = tf_rng(seed, TF_STREAM_SAMPLE, step, first + (uint64_t)i);
        for (int j = 0; j < dim; j++) {
            size_t e = (size_t)i * dim + (size_t)j;
            double u = (double)tf_rng_uniform(&r, offset + (uint64_t)j);
            x[e] = (float)(((double)k[e] + u) * scale - 1.0);
        }
    }
}
