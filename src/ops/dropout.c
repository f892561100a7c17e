/* dropout.c - inverted dropout whose mask is a pure function of the keyed RNG
 * (seed, step, global sample, element), so backward regenerates it instead of
 * storing it, and a 2-rank run drops exactly what a 1-rank run drops.
 * Must not know about models. */
#include "core/rng.h"
#include "ops/ops.h"

static void dropout_apply(int B, size_t per, float p, uint64_t seed, uint64_t step, uint64_t s0,
                          uint32_t salt, const float *src, float *dst, int acc) {
    const float keep = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        TfRng r = tf_rng(seed, TF_STREAM_DROPOUT, step, s0 + (uint64_t)b);
        const uint64_t base = (uint64_t)salt * per;
        const float *x = src + per * b;
        float *y = dst + per * b;
        for (size_t i = 0; i < per; i++) {
            float v = tf_rng_uniform(&r, base + i) >= p ? x[i] * keep : 0.0f;
            y[i] = acc ? y[i] + v : v;
        }
    }
}

void tf_dropout_fwd(int B, size_t per_sample, float p, uint64_t seed, uint64_t step, uint64_t sample0,
                    uint32_t salt, const float *x, float *y) {
    dropout_apply(B, per_sample, p, seed, step, sample0, salt, x, y, 0);
}

void tf_dropout_bwd(int B, size_t per_sample, float p, uint64_t seed, uint64_t step, uint64_t sample0,
                    uint32_t salt, const float *dy, float *dx, int acc) {
    dropout_apply(B, per_sample, p, seed, step, sample0, salt, dy, dx, acc);
}
