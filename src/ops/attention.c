/* attention.c - multi-head self-attention over the N = H*W positions of a
 * channels-last feature map, from a fused qkv tensor (a 1x1 conv's output).
 * For head h with d = C/heads channels, Q, K, V are [N, d] slices of qkv
 * (row stride 3C):  S = Q K^T / sqrt(d),  P = softmax over keys (rows),
 * out = P V  (written with row stride C). P [B, heads, N, N] is saved for
 * backward. Threads take (sample, head) pairs. Must not know about models. */
#include <math.h>
#include <omp.h>

#include "ops/fastmath.h"
#include "ops/gemm.h"
#include "ops/ops.h"

size_t tf_attention_scratch(int N, int threads) { return (size_t)N * N * (size_t)threads; }

void tf_attention_fwd(int B, int C, int N, int heads, const float *qkv, float *out, float *P) {
    const int d = C / heads, ld = 3 * C;
    const float scale = 1.0f / sqrtf((float)d);
#pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * heads; bh++) {
        int b = bh / heads, h = bh % heads;
        const float *q = qkv + (size_t)b * N * ld + (size_t)h * d, *k = q + C, *v = q + 2 * C;
        float *p = P + (size_t)bh * N * N;
        tf_sgemm(0, 1, N, N, d, scale, q, ld, k, ld, 0.0f, p, N);
        for (int i = 0; i < N; i++) {
            float *r = p + (size_t)i * N, mx = r[0];
            for (int j = 1; j < N; j++) mx = r[j] > mx ? r[j] : mx;
            float s = 0.0f;
            for (int j = 0; j < N; j++) { r[j] = tf_expf(r[j] - mx); s += r[j]; }
            float inv = 1.0f / s;
            for (int j = 0; j < N; j++) r[j] *= inv;
        }
        tf_sgemm(0, 0, N, d, N, 1.0f, p, N, v, ld, 0.0f, out + (size_t)b * N * C + (size_t)h * d, C);
    }
}

void tf_attention_bwd(int B, int C, int N, int heads, const float *qkv, const float *P,
                      const float *dout, float *dqkv, int acc, float *scratch) {
    const int d = C / heads, ld = 3 * C;
    const float scale = 1.0f / sqrtf((float)d), beta = acc ? 1.0f : 0.0f;
#pragma omp parallel
    {
        float *ds = scratch + (size_t)N * N * omp_get_thread_num();
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * heads; bh++) {
            int b = bh / heads, h = bh % heads;
            size_t off = (size_t)b * N * ld + (size_t)h * d;
            const float *q = qkv + off, *k = q + C, *v = q + 2 * C;
            float *dq = dqkv + off, *dk = dq + C, *dv = dq + 2 * C;
            const float *p = P + (size_t)bh * N * N;
            const float *go = dout + (size_t)b * N * C + (size_t)h * d;
            tf_sgemm(1, 0, N, d, N, 1.0f, p, N, go, C, beta, dv, ld);     /* dV = P^T dO */
            tf_sgemm(0, 1, N, N, d, 1.0f, go, C, v, ld, 0.0f, ds, N);     /* dP = dO V^T */
            for (int i = 0; i < N; i++) {                                  /* dS = P (dP - rowdot) */
                float *r = ds + (size_t)i * N;
                const float *pr = p + (size_t)i * N;
                float dot = 0.0f;
                for (int j = 0; j < N; j++) dot += pr[j] * r[j];
                for (int j = 0; j < N; j++) r[j] = pr[j] * (r[j] - dot);
            }
            tf_sgemm(0, 0, N, d, N, scale, ds, N, k, ld, beta, dq, ld);   /* dQ = s dS K */
            tf_sgemm(1, 0, N, d, N, scale, ds, N, q, ld, beta, dk, ld);   /* dK = s dS^T Q */
        }
    }
}
