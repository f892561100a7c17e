/* groupnorm.cu - GroupNorm (+ optional fused SiLU) on channels-last maps on the GPU, PyTorch
 * semantics as groupnorm.c (biased variance, eps inside the sqrt, statistics in double).
 *   forward:  one block per (sample, group) sums x and x^2 over the group in double (fixed
 *             shared-memory tree), writes mean/rstd; then one elementwise pass.
 *   backward: per-sample channel sums of dh and dh*xhat (double, fixed order) into the
 *             scratch layout of groupnorm.c ([b][2C]: sum dh xhat, then sum dh); a pass that
 *             forms dx with the group means of gamma*dh and gamma*dh*xhat computed per block
 *             in shared memory; and dgamma/dbeta += the partials summed over samples in order.
 * Must not know about models. */
#include <math.h>

#include "ops/cuda_common.cuh"

#define GN_THREADS 256

__global__ void __launch_bounds__(GN_THREADS) tf_gn_stats_kernel(int C, int N, int G, float eps,
                                                                   const float *__restrict__ x,
                                                                   float *__restrict__ mean, float *__restrict__ rstd) {
    __shared__ double sh[GN_THREADS];
    const int bg = blockIdx.x, b = bg / G, g = bg % G, cg = C / G;
    const float *xb = x + (size_t)b * N * C + (size_t)g * cg;
    const size_t cnt = (size_t)N * cg;
    double s = 0.0, ss = 0.0;
    for (size_t e = threadIdx.x; e < cnt; e += GN_THREADS) {
        double v = xb[(e / cg) * C + e % cg];
        s += v;
        ss += v * v;
    }
    s = tf_dev_block_sum(s, sh);
    ss = tf_dev_block_sum(ss, sh);
    if (threadIdx.x == 0) {
        double mu = s / (double)cnt, var = ss / (double)cnt - mu * mu;
        if (var < 0.0) var = 0.0;
        mean[bg] = (float)mu;
        rstd[bg] = (float)(1.0 / sqrt(var + (double)eps));
    }
}

__global__ void tf_gn_apply_kernel(int C, int N, int G, int silu, size_t n, const float *__restrict__ x,
                                   const float *__restrict__ gamma, const float *__restrict__ beta,
                                   const float *__restrict__ mean, const float *__restrict__ rstd,
                                   float *__restrict__ y) {
    const int cg = C / G;
    TF_GRID_STRIDE(i, n) {
        int c = (int)(i % C);
        size_t b = i / ((size_t)N * C);
        size_t bg = b * G + c / cg;
        float a = gamma[c] * rstd[bg];
        float k = beta[c] - mean[bg] * a;
        float v = x[i] * a + k;
        y[i] = silu ? tf_dev_silu(v) : v;
    }
}

extern "C" void tf_groupnorm_fwd_cuda(int B, int C, int N, int G, float eps, int silu, const float *x,
                                      const float *gamma, const float *beta, float *y, float *mean, float *rstd) {
    if (C > TF_GN_MAX_CHANNELS) tf_die("group norm: %d channels exceed the supported %d", C, TF_GN_MAX_CHANNELS);
    if (G <= 0 || C % G) tf_die("group norm: %d channels are not divisible into %d groups", C, G);
    if ((size_t)B * G > 0x7fffffffu) tf_die("group norm: too many (sample, group) pairs");
    if (B * G > 0) {
        tf_gn_stats_kernel<<<(unsigned)(B * G), GN_THREADS, 0, tf_cuda_stream()>>>(C, N, G, eps, x, mean, rstd);
        TF_CUDA_LAUNCHED("tf_gn_stats_kernel");
    }
    const size_t n = (size_t)B * N * C;
    TF_LAUNCH_1D(tf_gn_apply_kernel, n, C, N, G, silu, n, x, gamma, beta, mean, rstd, y);
}

/* part[b][c] = sum_n dh*xhat, part[b][C + c] = sum_n dh   (grid: C/32 x B, block 32 x 8) */
__global__ void tf_gn_bwd_sums_kernel(int C, int N, int G, int silu, const float *__restrict__ x,
                                      const float *__restrict__ gamma, const float *__restrict__ beta,
                                      const float *__restrict__ mean, const float *__restrict__ rstd,
                                      const float *__restrict__ dy, float *__restrict__ part) {
    __shared__ double s1[8][33], s2[8][33];
    const int tx = threadIdx.x, ty = threadIdx.y, c = blockIdx.x * 32 + tx, b = blockIdx.y;
    double sdh = 0.0, sdhx = 0.0;
    if (c < C) {
        const int bg = b * G + c / (C / G);
        const float mu = mean[bg], rs = rstd[bg], gm = gamma[c], bt = beta[c];
        const size_t base = (size_t)b * N * C + c;
        for (int q = ty; q < N; q += 8) {
            size_t o = base + (size_t)q * C;
            float xh = (x[o] - mu) * rs, dh = dy[o];
            if (silu) dh *= tf_dev_silu_grad(gm * xh + bt);
            sdh += dh;
            sdhx += (double)dh * xh;
        }
    }
    s1[ty][tx] = sdh;
    s2[ty][tx] = sdhx;
    __syncthreads();
    if (ty == 0 && c < C) {
        double a = s1[0][tx], h = s2[0][tx];
        for (int k = 1; k < 8; k++) { a += s1[k][tx]; h += s2[k][tx]; }
        part[(size_t)b * 2 * C + c] = (float)h;
        part[(size_t)b * 2 * C + C + c] = (float)a;
    }
}

/* dx = rstd (gamma dh - m1_g - xhat m2_g); grid (tiles, B); shared m1/m2 per group. */
#define GN_DX_TILE 4096
__global__ void __launch_bounds__(GN_THREADS) tf_gn_bwd_dx_kernel(int C, int N, int G, int silu, const float *__restrict__ x,
                                                                    const float *__restrict__ gamma,
                                                                    const float *__restrict__ beta,
                                                                    const float *__restrict__ mean,
                                                                    const float *__restrict__ rstd,
                                                                    const float *__restrict__ dy,
                                                                    const float *__restrict__ part,
                                                                    float *__restrict__ dx, int acc) {
    extern __shared__ float m12[]; /* [G] m1 then [G] m2 */
    const int b = blockIdx.y, cg = C / G;
    const float *pb = part + (size_t)b * 2 * C;
    const double cnt = (double)cg * N;
    for (int g = threadIdx.x; g < G; g += blockDim.x) {
        double a = 0.0, h = 0.0;
        for (int c = g * cg; c < (g + 1) * cg; c++) { a += (double)gamma[c] * pb[C + c]; h += (double)gamma[c] * pb[c]; }
        m12[g] = (float)(a / cnt);
        m12[G + g] = (float)(h / cnt);
    }
    __syncthreads();
    const size_t per = (size_t)N * C, lo = (size_t)blockIdx.x * GN_DX_TILE;
    const size_t hi = lo + GN_DX_TILE < per ? lo + GN_DX_TILE : per;
    const size_t off = (size_t)b * per;
    for (size_t e = lo + threadIdx.x; e < hi; e += blockDim.x) {
        const int c = (int)(e % C), g = c / cg;
        const float mu = mean[b * G + g], rs = rstd[b * G + g];
        float xh = (x[off + e] - mu) * rs, dh = dy[off + e];
        if (silu) dh *= tf_dev_silu_grad(gamma[c] * xh + beta[c]);
        float v = rs * (gamma[c] * dh - m12[g] - xh * m12[G + g]);
        dx[off + e] = acc ? dx[off + e] + v : v;
    }
}

extern "C" void tf_groupnorm_bwd_cuda(int B, int C, int N, int G, int silu, const float *x, const float *gamma,
                                      const float *beta, const float *mean, const float *rstd, const float *dy,
                                      float *dx, int acc, float *dgamma, float *dbeta, float *scratch) {
    if (B <= 0 || C <= 0) return;
    if (B > 65535) tf_die("group norm (CUDA): %d samples exceed the grid's y limit", B);
    dim3 grid((unsigned)((C + 31) / 32), (unsigned)B), block(32, 8);
    tf_gn_bwd_sums_kernel<<<grid, block, 0, tf_cuda_stream()>>>(C, N, G, silu, x, gamma, beta, mean, rstd, dy, scratch);
    TF_CUDA_LAUNCHED("tf_gn_bwd_sums_kernel");
    if (dx && N > 0) {
        const size_t per = (size_t)N * C;
        dim3 g2((unsigned)((per + GN_DX_TILE - 1) / GN_DX_TILE), (unsigned)B);
        tf_gn_bwd_dx_kernel<<<g2, GN_THREADS, 2 * (size_t)G * sizeof(float), tf_cuda_stream()>>>(
            C, N, G, silu, x, gamma, beta, mean, rstd, dy, scratch, dx, acc);
        TF_CUDA_LAUNCHED("tf_gn_bwd_dx_kernel");
    }
    tf_cuda_rowsum(B, C, scratch, (size_t)2 * C, dgamma, 1);
    tf_cuda_rowsum(B, C, scratch + C, (size_t)2 * C, dbeta, 1);
}
