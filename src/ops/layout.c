/* layout.c - ops that only move data: channel concat, nearest upsampling x2,
 * average and max pooling. Must not know about models. */
#include <float.h>
#include <string.h>

#include "ops/ops.h"

void tf_concat_fwd(int B, int Ca, int Cb, int N, const float *a, const float *b, float *y) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < B; i++) {
        float *yi = y + (size_t)i * (Ca + Cb) * N;
        memcpy(yi, a + (size_t)i * Ca * N, sizeof(float) * Ca * N);
        memcpy(yi + (size_t)Ca * N, b + (size_t)i * Cb * N, sizeof(float) * Cb * N);
    }
}

static void copy_or_add(float *d, const float *s, size_t n, int acc) {
    if (!acc) { memcpy(d, s, sizeof(float) * n); return; }
    for (size_t k = 0; k < n; k++) d[k] += s[k];
}

void tf_concat_bwd(int B, int Ca, int Cb, int N, const float *dy, float *da, int acc_a, float *db,
                   int acc_b) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * (Ca + Cb) * N;
        if (da) copy_or_add(da + (size_t)i * Ca * N, dyi, (size_t)Ca * N, acc_a);
        if (db) copy_or_add(db + (size_t)i * Cb * N, dyi + (size_t)Ca * N, (size_t)Cb * N, acc_b);
    }
}

void tf_upsample2_fwd(int B, int C, int H, int W, const float *x, float *y) {
    const int W2 = 2 * W;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < B * C; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * 4 * H * W;
        for (int h = 0; h < H; h++) {
            float *r0 = yp + (size_t)(2 * h) * W2;
            const float *xr = xp + (size_t)h * W;
            for (int w = 0; w < W; w++) r0[2 * w] = r0[2 * w + 1] = xr[w];
            memcpy(r0 + W2, r0, sizeof(float) * W2);
        }
    }
}

void tf_upsample2_bwd(int B, int C, int H, int W, const float *dy, float *dx, int acc) {
    const int W2 = 2 * W;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < B * C; p++) {
        const float *dp = dy + (size_t)p * 4 * H * W;
        float *xp = dx + (size_t)p * H * W;
        for (int h = 0; h < H; h++) {
            const float *r0 = dp + (size_t)(2 * h) * W2, *r1 = r0 + W2;
            for (int w = 0; w < W; w++) {
                float v = r0[2 * w] + r0[2 * w + 1] + r1[2 * w] + r1[2 * w + 1];
                xp[h * W + w] = acc ? xp[h * W + w] + v : v;
            }
        }
    }
}

static int pool_out(int n, int K, int S) { return (n - K) / S + 1; }

void tf_avgpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
    const float inv = 1.0f / (float)(K * K);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < B * C; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                float s = 0.0f;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) s += xp[(oh * S + i) * W + ow * S + j];
                yp[oh * Wo + ow] = s * inv;
            }
    }
}

void tf_avgpool_bwd(int B, int C, int H, int W, int K, int S, const float *dy, float *dx, int acc) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
    const float inv = 1.0f / (float)(K * K);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < B * C; p++) {
        float *xp = dx + (size_t)p * H * W;
        const float *dp = dy + (size_t)p * Ho * Wo;
        if (!acc) memset(xp, 0, sizeof(float) * H * W);
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                float g = dp[oh * Wo + ow] * inv;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) xp[(oh * S + i) * W + ow * S + j] += g;
            }
    }
}

void tf_maxpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y, int32_t *idx) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < B * C; p++) {
        const float *xp = x + (size_t)p * H * W;
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                float best = -FLT_MAX;
                int bi = (oh * S) * W + ow * S;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        int k = (oh * S + i) * W + ow * S + j;
                        if (xp[k] > best) { best = xp[k]; bi = k; }
                    }
                y[(size_t)p * Ho * Wo + oh * Wo + ow] = best;
                idx[(size_t)p * Ho * Wo + oh * Wo + ow] = bi;
            }
    }
}

void tf_maxpool_bwd(int B, int C, int H, int W, int K, int S, const int32_t *idx, const float *dy,
                    float *dx, int acc) {
    const int Ho = pool_out(H, K, S), Wo = pool_out(W, K, S);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < B * C; p++) {
        float *xp = dx + (size_t)p * H * W;
        if (!acc) memset(xp, 0, sizeof(float) * H * W);
        for (int o = 0; o < Ho * Wo; o++) xp[idx[(size_t)p * Ho * Wo + o]] += dy[(size_t)p * Ho * Wo + o];
    }
}
