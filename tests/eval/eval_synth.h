/* eval_synth.h - synthetic "digit-like" image fixtures for the evaluation tests: ten classes of
 * anti-aliased strokes and blobs (ring, bars, diagonals, plus, cross, blob, two blobs, T, L),
 * each example jittered (offset, scale, rotation, stroke width, contrast) and lightly noised,
 * all a pure function of (seed, index) through core/rng.h. Grey images look like MNIST
 * (dark background); RGB images get a class tint and a coloured, noisy background (CIFAR-like).
 * Also: an in-memory TfDataset of such images, additive noise and Gaussian blur in [-1, 1]. */
#ifndef TF_TESTS_EVAL_SYNTH_H
#define TF_TESTS_EVAL_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/dataset.h"

/* Distance from (x, y) to the segment (ax, ay)-(bx, by). */
static inline double synth_seg(double x, double y, double ax, double ay, double bx, double by) {
    double dx = bx - ax, dy = by - ay, L = dx * dx + dy * dy;
    double t = L > 0 ? ((x - ax) * dx + (y - ay) * dy) / L : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double px = ax + t * dx - x, py = ay + t * dy - y;
    return sqrt(px * px + py * py);
}

/* Ink in [0, 1] of class k at unit-square coordinates (u, v) in [-1, 1]^2, stroke width w. */
static inline double synth_ink(int k, double u, double v, double w) {
    double d = 1e9;
    switch (k) {
    case 0: d = fabs(sqrt(u * u + v * v) - 0.55); break;
    case 1: d = synth_seg(u, v, 0, -0.7, 0, 0.7); break;
    case 2: d = synth_seg(u, v, -0.7, 0, 0.7, 0); break;
    case 3: d = synth_seg(u, v, -0.6, -0.6, 0.6, 0.6); break;
    case 4: d = synth_seg(u, v, -0.6, 0.6, 0.6, -0.6); break;
    case 5: d = fmin(synth_seg(u, v, 0, -0.6, 0, 0.6), synth_seg(u, v, -0.6, 0, 0.6, 0)); break;
    case 6: d = fmin(synth_seg(u, v, -0.55, -0.55, 0.55, 0.55), synth_seg(u, v, -0.55, 0.55, 0.55, -0.55)); break;
    case 7: return exp(-(u * u + v * v) / (2 * 0.3 * 0.3));
    case 8: return fmax(exp(-((u + 0.4) * (u + 0.4) + v * v) / 0.05), exp(-((u - 0.4) * (u - 0.4) + v * v) / 0.05));
    default: d = fmin(synth_seg(u, v, -0.6, -0.6, 0.6, -0.6), synth_seg(u, v, 0, -0.6, 0, 0.65)); break; /* T */
    }
    return exp(-d * d / (2 * w * w));
}

/* Example `idx` of class `k` (C = 1 or 3 planes of S x S bytes). */
static inline void synth_image(int k, uint64_t seed, uint64_t idx, int C, int S, uint8_t *out) {
    TfRng r = tf_rng(seed, TF_STREAM_USER + 20, 0, idx);
    double ox = 0.15 * (2 * tf_rng_uniform(&r, 0) - 1), oy = 0.15 * (2 * tf_rng_uniform(&r, 1) - 1);
    double sc = 0.8 + 0.3 * tf_rng_uniform(&r, 2), rot = 0.35 * (2 * tf_rng_uniform(&r, 3) - 1);
    double w = 0.07 + 0.06 * tf_rng_uniform(&r, 4), amp = 0.75 + 0.25 * tf_rng_uniform(&r, 5);
    double tint[3] = {0.4 + 0.6 * ((k * 37) % 10) / 9.0, 0.4 + 0.6 * ((k * 53 + 3) % 10) / 9.0,
                      0.4 + 0.6 * ((k * 71 + 7) % 10) / 9.0};
    double bg[3] = {0.1 + 0.3 * tf_rng_uniform(&r, 6), 0.1 + 0.3 * tf_rng_uniform(&r, 7), 0.1 + 0.3 * tf_rng_uniform(&r, 8)};
    const double cr = cos(rot), sr = sin(rot);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double px = (2.0 * x + 1) / S - 1 - ox, py = (2.0 * y + 1) / S - 1 - oy;
            double u = (cr * px + sr * py) / sc, v = (-sr * px + cr * py) / sc;
            double ink = amp * synth_ink(k, u, v, w);
            for (int c = 0; c < C; c++) {
                double noise = 0.04 * tf_rng_normal(&r, 16 + ((uint64_t)c * S + y) * S + x);
                double val = C == 1 ? ink + noise : bg[c] * (1 - ink) + tint[c] * ink + noise;
                val = val < 0 ? 0 : val > 1 ? 1 : val;
                out[((size_t)c * S + y) * S + x] = (uint8_t)lround(val * 255);
            }
        }
}

/* n examples, labels idx % 10 (classes < 10 restricts to the first `classes` classes). */
static inline TfDataset *synth_dataset(const char *name, int64_t n, int C, int S, uint64_t seed, uint64_t first,
                                       int classes) {
    TfDataset *ds = calloc(1, sizeof *ds);
    ds->kind = C == 3 ? TF_DATA_CIFAR10 : TF_DATA_MNIST;
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->n = n, ds->c = C, ds->h = ds->w = S, ds->num_classes = 10;
    ds->pixels = malloc((size_t)n * C * S * S);
    ds->labels = malloc((size_t)n);
    for (int64_t i = 0; i < n; i++) {
        int k = (int)((first + (uint64_t)i) % (uint64_t)classes);
        ds->labels[i] = (uint8_t)k;
        synth_image(k, seed, first + (uint64_t)i, C, S, ds->pixels + (size_t)i * C * S * S);
    }
    return ds;
}

/* x in [-1, 1] of every image of ds: out[n][C][S][S]. */
static inline float *synth_floats(const TfDataset *ds) {
    size_t m = (size_t)ds->n * ds->c * ds->h * ds->w;
    float *x = malloc(sizeof(float) * m);
    for (size_t i = 0; i < m; i++) x[i] = ds->pixels[i] / 127.5f - 1.0f;
    return x;
}

/* x + sigma N(0, 1), clamped to [-1, 1]. */
static inline void synth_add_noise(float *x, size_t m, float sigma, uint64_t seed) {
    TfRng r = tf_rng(seed, TF_STREAM_USER + 21, 0, 0);
    for (size_t i = 0; i < m; i++) {
        float v = x[i] + sigma * tf_rng_normal(&r, i);
        x[i] = v < -1 ? -1 : v > 1 ? 1 : v;
    }
}

/* Separable Gaussian blur (std sigma pixels, radius 3 sigma, edges clamped) of n C x S x S images. */
static inline void synth_blur(float *x, int64_t n, int C, int S, float sigma) {
    int R = (int)ceilf(3 * sigma);
    float *k = malloc(sizeof(float) * (2 * R + 1)), *t = malloc(sizeof(float) * S * S), sum = 0;
    for (int i = -R; i <= R; i++) sum += k[i + R] = expf(-(float)(i * i) / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * R; i++) k[i] /= sum;
    for (int64_t p = 0; p < n * C; p++) {
        float *im = x + (size_t)p * S * S;
        for (int y = 0; y < S; y++)
            for (int xx = 0; xx < S; xx++) {
                float a = 0;
                for (int i = -R; i <= R; i++) { int q = xx + i < 0 ? 0 : xx + i >= S ? S - 1 : xx + i; a += k[i + R] * im[y * S + q]; }
                t[y * S + xx] = a;
            }
        for (int y = 0; y < S; y++)
            for (int xx = 0; xx < S; xx++) {
                float a = 0;
                for (int i = -R; i <= R; i++) { int q = y + i < 0 ? 0 : y + i >= S ? S - 1 : y + i; a += k[i + R] * t[q * S + xx]; }
                im[y * S + xx] = a;
            }
    }
    free(k);
    free(t);
}

#endif
