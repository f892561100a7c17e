/* layout.c - ops that only move data, on channels-last maps: channel concat,
 * nearest upsampling x2, average and max pooling, and the NCHW <-> NHWC
 * conversions at a model's boundary. Must not know about models. */
#include <float.h>
#include <string.h>

#include "ops/ops.h"

void tf_concat_fwd(int B, int Ca, int Cb, int N, const float *a, const float *b, float *y) {
    const int C = Ca + Cb;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < B; i++)
        for (int n = 0; n < N; n++) {
            size_t p = (size_t)i * N + n;
            memcpy(y + p * C, a + p * Ca, sizeof(float) * Ca);
            memcpy(y + p * C + Ca, b + p * Cb, sizeof(float) * Cb);
        }
}

static void copy_or_add(float *d, const float *s, size_t n, int acc) {
    if (!acc) { memcpy(d, s, sizeof(float) * n); return; }
    for (size_t k = 0; k < n; k++) d[k] += s[k];
}

void tf_concat_bwd(int B, int Ca, int Cb, int N, const float *dy, float *da, int acc_a, float *db,
                   int acc_b) {
    const int C = Ca + Cb;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < B; i++)
        for (int n = 0; n < N; n++) {
            size_t p = (size_t)i * N + n;
            if (da) copy_or_add(da + p * Ca, dy + p * C, (size_t)Ca, acc_a);
            if (db) copy_or_add(db + p * Cb, dy + p * C + Ca, (size_t)Cb, acc_b);
        }
}

void tf_upsample2_fwd(int B, int C, int H, int W, const float *x, float *y) {
    const int W2 = 2 * W;
    const size_t row2 = (size_t)W2 * C;
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *xr = x + ((size_t)b * H + h) * W * C;
            float *r0 = y + ((size_t)b * 2 * H + 2 * h) * row2;
            for (int w = 0; w < W; w++) {
                memcpy(r0 + (size_t)(2 * w) * C, xr + (size_t)w * C, sizeof(float) * C);
                memcpy(r0 + (size_t)(2 * w + 1) * C, xr + (size_t)w * C, sizeof(float) * C);
            }
            memcpy(r0 + row2, r0, sizeof(float) * row2);
        }
}

void tf_upsample2_bwd(int B, int C, int H, int W, const float *dy, float *dx, int acc) {
    const size_t row2 = (size_t)2 * W * C;
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *r0 = dy + ((size_t)b * 2 * H + 2 * h) * row2, *r1 = r0 + row2;
            float *xr = dx + ((size_t)b * H + h) * W * C;
            for (int w = 0; w < W; w++) {
                const float *a0 = r0 + (size_t)2 * w * C, *a1 = a0 + C, *b0 = r1 + (size_t)2 * w * C, *b1 = b0 + C;
                float *d = xr + (size_t)w * C;
                for (int c = 0; c < C; c++) {
                    float v = a0[c] + a1[c] + b0[c] + b1[c];
                    d[c] = acc ? d[c] + v : v;
                }
            }
        }
}

static int pool_out(int n, int K, int S) { return (n - K) / S + 1; }

void tf_avgpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
    const float inv = 1.0f / (float)(K * K);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                float *o = y + (((size_t)b * Ho + oh) * Wo + ow) * C;
                for (int c = 0; c < C; c++) o[c] = 0.0f;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        const float *r = x + (((size_t)b * H + oh * S + i) * W + ow * S + j) * C;
                        for (int c = 0; c < C; c++) o[c] += r[c];
                    }
                for (int c = 0; c < C; c++) o[c] *= inv;
            }
}

void tf_avgpool_bwd(int B, int C, int H, int W, int K, int S, const float *dy, float *dx, int acc) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
    const float inv = 1.0f / (float)(K * K);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *xb = dx + (size_t)b * H * W * C;
        if (!acc) memset(xb, 0, sizeof(float) * H * W * C);
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                const float *g = dy + (((size_t)b * Ho + oh) * Wo + ow) * C;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        float *d = xb + ((size_t)(oh * S + i) * W + ow * S + j) * C;
                        for (int c = 0; c < C; c++) d[c] += g[c] * inv;
                    }
            }
    }
}

void tf_maxpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y, int32_t *idx) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                size_t o = (((size_t)b * Ho + oh) * Wo + ow) * C;
                for (int c = 0; c < C; c++) { y[o + c] = -FLT_MAX; idx[o + c] = 0; }
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        int pos = (oh * S + i) * W + ow * S + j;
                        const float *r = x + ((size_t)b * H * W + pos) * C;
                        for (int c = 0; c < C; c++)
                            if (r[c] > y[o + c]) { y[o + c] = r[c]; idx[o + c] = pos; }
                    }
            }
}

void tf_maxpool_bwd(int B, int C, int H, int W, int K, int S, const int32_t *idx, const float *dy,
                    float *dx, int acc) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *xb = dx + (size_t)b * H * W * C;
        if (!acc) memset(xb, 0, sizeof(float) * H * W * C);
        for (int o = 0; o < Ho * Wo; o++) {
            size_t off = ((size_t)b * Ho * Wo + o) * C;
            for (int c = 0; c < C; c++) xb[(size_t)idx[off + c] * C + c] += dy[off + c];
        }
    }
}

void tf_nchw_to_nhwc(int B, int C, int N, const float *x, float *y, int acc) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) {
                float v = x[((size_t)b * C + c) * N + n];
                float *d = y + ((size_t)b * N + n) * C + c;
                *d = acc ? *d + v : v;
            }
}

void tf_nhwc_to_nchw(int B, int C, int N, const float *x, float *y, int acc) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int n = 0; n < N; n++) {
                float v = x[((size_t)b * N + n) * C + c];
                float *d = y + ((size_t)b * C + c) * N + n;
                *d = acc ? *d + v : v;
            }
}
