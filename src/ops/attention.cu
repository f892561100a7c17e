/* attention.cu - multi-head self-attention over positions on the GPU (see attention.c for the
 * layout: qkv [B, N, 3C], head h uses channels h*d..(h+1)*d of each block, out [B, N, C],
 * P [B, heads, N, N] saved for backward). Per head, the products are strided-batched cuBLAS
 * GEMMs over the samples; the softmax and its backward are one warp per row (shuffle trees of
 * fixed shape: deterministic).
 * Backward works on chunks of at most TF_CUDA_ATTN_CHUNK samples per head, because the tape
 * sizes this op's scratch as N*N*threads and the CUDA backend reports TF_CUDA_ATTN_CHUNK
 * as its threads. Must not know about models. */
#include <math.h>

#include "ops/cuda_common.cuh"

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* In place: each of `rows` rows of length N becomes its softmax. One warp per row. */
__global__ void tf_softmax_rows_kernel(size_t rows, int N, float *__restrict__ p) {
    const size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x & 31;
    if (warp >= rows) return;
    float *r = p + warp * N;
    float mx = -INFINITY;
    for (int j = lane; j < N; j += 32) mx = fmaxf(mx, r[j]);
    mx = warp_max(mx);
    float s = 0.0f;
    for (int j = lane; j < N; j += 32) {
        float e = expf(r[j] - mx);
        r[j] = e;
        s += e;
    }
    s = warp_sum(s);
    const float inv = 1.0f / s;
    for (int j = lane; j < N; j += 32) r[j] *= inv;
}

/* In place on ds = dP: ds = P (dP - sum_j P dP). One warp per row; ds holds the rows of the
 * chunk's samples back to back, P's samples are p_stride floats apart. */
__global__ void tf_softmax_bwd_rows_kernel(size_t rows, int N, const float *__restrict__ p, long long p_stride,
                                           float *__restrict__ ds) {
    const size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x & 31;
    if (warp >= rows) return;
    const float *pr = p + (warp / N) * (size_t)p_stride + (warp % N) * N;
    float *r = ds + warp * N;
    float dot = 0.0f;
    for (int j = lane; j < N; j += 32) dot += pr[j] * r[j];
    dot = warp_sum(dot);
    for (int j = lane; j < N; j += 32) r[j] = pr[j] * (r[j] - dot);
}

static unsigned warp_blocks(size_t rows) { return (unsigned)((rows * 32 + TF_CUDA_THREADS - 1) / TF_CUDA_THREADS); }

extern "C" void tf_attention_fwd_cuda(int B, int C, int N, int heads, const float *qkv, float *out, float *P) {
    if (B <= 0 || N <= 0) return;
    const int d = C / heads, ld = 3 * C;
    const float scale = 1.0f / sqrtf((float)d);
    const long long sq = (long long)N * ld, sp = (long long)heads * N * N, so = (long long)N * C;
    for (int h = 0; h < heads; h++) {
        const float *q = qkv + (size_t)h * d, *k = q + C;
        /* P[b,h] = scale Q K^T  ([N, N]) */
        tf_cuda_sgemm_strided(0, 1, N, N, d, scale, q, ld, sq, k, ld, sq, 0.0f, P + (size_t)h * N * N, N, sp, B);
    }
    const size_t rows = (size_t)B * heads * N;
    if ((size_t)warp_blocks(rows) > 0x7fffffffu) tf_die("attention (CUDA): too many rows");
    tf_softmax_rows_kernel<<<warp_blocks(rows), TF_CUDA_THREADS, 0, tf_cuda_stream()>>>(rows, N, P);
    TF_CUDA_LAUNCHED("tf_softmax_rows_kernel");
    for (int h = 0; h < heads; h++) {
        const float *v = qkv + (size_t)h * d + 2 * C;
        /* out[b][:, h*d..] = P V  ([N, d], row stride C) */
        tf_cuda_sgemm_strided(0, 0, N, d, N, 1.0f, P + (size_t)h * N * N, N, sp, v, ld, sq, 0.0f, out + (size_t)h * d, C,
                              so, B);
    }
}

extern "C" void tf_attention_bwd_cuda(int B, int C, int N, int heads, const float *qkv, const float *P,
                                      const float *dout, float *dqkv, int acc, float *scratch) {
    if (B <= 0 || N <= 0) return;
    const int d = C / heads, ld = 3 * C;
    const float scale = 1.0f / sqrtf((float)d), beta = acc ? 1.0f : 0.0f;
    const long long sq = (long long)N * ld, sp = (long long)heads * N * N, so = (long long)N * C, ss = (long long)N * N;
    for (int h = 0; h < heads; h++) {
        for (int b0 = 0; b0 < B; b0 += TF_CUDA_ATTN_CHUNK) {
            const int nb = B - b0 < TF_CUDA_ATTN_CHUNK ? B - b0 : TF_CUDA_ATTN_CHUNK;
            const size_t qoff = (size_t)b0 * N * ld + (size_t)h * d;
            const float *q = qkv + qoff, *k = q + C, *v = q + 2 * C;
            float *dq = dqkv + qoff, *dk = dq + C, *dv = dq + 2 * C;
            const float *p = P + ((size_t)b0 * heads + h) * N * N;
            const float *go = dout + (size_t)b0 * N * C + (size_t)h * d;
            /* dV = P^T dO */
            tf_cuda_sgemm_strided(1, 0, N, d, N, 1.0f, p, N, sp, go, C, so, beta, dv, ld, sq, nb);
            /* dS = dO V^T, then dS = P (dS - rowdot) */
            tf_cuda_sgemm_strided(0, 1, N, N, d, 1.0f, go, C, so, v, ld, sq, 0.0f, scratch, N, ss, nb);
            const size_t rows = (size_t)nb * N;
            tf_softmax_bwd_rows_kernel<<<warp_blocks(rows), TF_CUDA_THREADS, 0, tf_cuda_stream()>>>(rows, N, p, sp,
                                                                                                 scratch);
            TF_CUDA_LAUNCHED("tf_softmax_bwd_rows_kernel");
            /* dQ = scale dS K,  dK = scale dS^T Q */
            tf_cuda_sgemm_strided(0, 0, N, d, N, scale, scratch, N, ss, k, ld, sq, beta, dq, ld, sq, nb);
            tf_cuda_sgemm_strided(1, 0, N, d, N, scale, scratch, N, ss, q, ld, sq, beta, dk, ld, sq, nb);
        }
    }
}
