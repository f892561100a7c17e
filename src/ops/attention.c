/* attention.c - multi-head self-attention over the N = H*W positions of a
 * feature map, from a fused qkv tensor (the output of a 1x1 conv).
 * For head h with d = C/heads channels, Q, K, V are [d, N] slices of qkv;
 *   S = Q^T K / sqrt(d),  P = softmax over keys (rows),  out = V P^T.
 * P [B, heads, N, N] is saved for backward. Threads take (sample, head) pairs.
 * Must not know about models. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "ops/gemm.h"
#include "ops/ops.h"

size_t tf_attention_scratch(int N, int threads) { return (size_t)N * N * (size_t)threads; }

void tf_attention_fwd(int B, int C, int N, int heads, const float *qkv, float *out, float *P) {
    const int d = C / heads;
    const float scale = 1.0f / sqrtf((float)d);
#pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * heads; bh++) {
        int b = bh / heads, h = bh % heads;
        const float *q = qkv + ((size_t)b * 3 * C + (size_t)h * d) * N;
        const float *k = q + (size_t)C * N, *v = q + (size_t)2 * C * N;
        float *p = P + (size_t)bh * N * N;
        tf_sgemm(1, 0, N, N, d, scale, q, N, k, N, 0.0f, p, N);
        for (int i = 0; i < N; i++) {
            float *r = p + (size_t)i * N, mx = r[0];
            for (int j = 1; j < N; j++) mx = r[j] > mx ? r[j] : mx;
            float s = 0.0f;
            for (int j = 0; j < N; j++) { r[j] = expf(r[j] - mx); s += r[j]; }
            float inv = 1.0f / s;
            for (int j = 0; j < N; j++) r[j] *= inv;
        }
        float *o = out + ((size_t)b * C + (size_t)h * d) * N;
        tf_sgemm(0, 1, d, N, N, 1.0f, v, N, p, N, 0.0f, o, N);
    }
}

void tf_attention_bwd(int B, int C, int N, int heads, const float *qkv, const float *P,
                      const float *dout, float *dqkv, int acc, float *scratch) {
    const int d = C / heads;
    const float scale = 1.0f / sqrtf((float)d);
    const float beta = acc ? 1.0f : 0.0f;
#pragma omp parallel
    {
        float *ds = scratch + (size_t)N * N * omp_get_thread_num();
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * heads; bh++) {
            int b = bh / heads, h = bh % heads;
            size_t qoff = ((size_t)b * 3 * C + (size_t)h * d) * N;
            const float *q = qkv + qoff, *k = q + (size_t)C * N, *v = q + (size_t)2 * C * N;
            float *dq = dqkv + qoff, *dk = dq + (size_t)C * N, *dv = dq + (size_t)2 * C * N;
            const float *p = P + (size_t)bh * N * N;
            const float *go = dout + ((size_t)b * C + (size_t)h * d) * N;
            tf_sgemm(0, 0, d, N, N, 1.0f, go, N, p, N, beta, dv, N);    /* dV = dO P */
            tf_sgemm(1, 0, N, N, d, 1.0f, go, N, v, N, 0.0f, ds, N);    /* dP = dO^T V */
            for (int i = 0; i < N; i++) {                               /* dS = P (dP - rowdot) */
                float *r = ds + (size_t)i * N;
                const float *pr = p + (size_t)i * N;
                float dot = 0.0f;
                for (int j = 0; j < N; j++) dot += pr[j] * r[j];
                for (int j = 0; j < N; j++) r[j] = pr[j] * (r[j] - dot);
            }
            tf_sgemm(0, 1, d, N, N, scale, k, N, ds, N, beta, dq, N);   /* dQ = s K dS^T */
            tf_sgemm(0, 0, d, N, N, scale, q, N, ds, N, beta, dk, N);   /* dK = s Q dS */
        }
    }
}
