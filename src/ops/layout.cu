/* layout.cu - the data-movement ops on the GPU (see layout.c): channel concat, nearest
 * upsampling x2, average and max pooling, and the NCHW <-> NHWC conversions (a tiled
 * shared-memory transpose). Every backward is a GATHER: each input-gradient element sums its
 * own contributions in the order the CPU op adds them, so there are no atomics and
 * overwrite/accumulate is exact. Must not know about models. */
#include <float.h>

#include "ops/cuda_common.cuh"

/* ---- concat -------------------------------------------------------------------------------- */
__global__ void tf_concat_fwd_kernel(int Ca, int Cb, size_t n, const float *__restrict__ a,
                                     const float *__restrict__ b, float *__restrict__ y) {
    const int C = Ca + Cb;
    TF_GRID_STRIDE(i, n) {
        size_t p = i / C;
        int c = (int)(i % C);
        y[i] = c < Ca ? a[p * Ca + c] : b[p * Cb + (c - Ca)];
    }
}

/* d[p][c] (+)= dy[p][c0 + c] for a Cd-channel slice of a C-channel map */
__global__ void tf_concat_bwd_kernel(int C, int c0, int Cd, size_t n, const float *__restrict__ dy,
                                     float *__restrict__ d, int acc) {
    TF_GRID_STRIDE(i, n) {
        float v = dy[(i / Cd) * C + c0 + i % Cd];
        d[i] = acc ? d[i] + v : v;
    }
}

extern "C" void tf_concat_fwd_cuda(int B, int Ca, int Cb, int N, const float *a, const float *b, float *y) {
    const size_t n = (size_t)B * N * (Ca + Cb);
    TF_LAUNCH_1D(tf_concat_fwd_kernel, n, Ca, Cb, n, a, b, y);
}

extern "C" void tf_concat_bwd_cuda(int B, int Ca, int Cb, int N, const float *dy, float *da, int acc_a, float *db,
                                   int acc_b) {
    const size_t P = (size_t)B * N;
    if (da) TF_LAUNCH_1D(tf_concat_bwd_kernel, P * Ca, Ca + Cb, 0, Ca, P * Ca, dy, da, acc_a);
    if (db) TF_LAUNCH_1D(tf_concat_bwd_kernel, P * Cb, Ca + Cb, Ca, Cb, P * Cb, dy, db, acc_b);
}

/* ---- upsample x2 ------------------------------------------------------------------------- */
__global__ void tf_upsample2_fwd_kernel(int C, int H, int W, size_t n, const float *__restrict__ x,
                                        float *__restrict__ y) {
    const int W2 = 2 * W, H2 = 2 * H;
    TF_GRID_STRIDE(i, n) {
        int c = (int)(i % C);
        size_t pix = i / C;
        int w2 = (int)(pix % W2), h2 = (int)((pix / W2) % H2);
        size_t b = pix / ((size_t)W2 * H2);
        y[i] = x[((b * H + h2 / 2) * W + w2 / 2) * C + c];
    }
}

__global__ void tf_upsample2_bwd_kernel(int C, int H, int W, size_t n, const float *__restrict__ dy,
                                        float *__restrict__ dx, int acc) {
    const size_t row2 = (size_t)2 * W * C;
    TF_GRID_STRIDE(i, n) {
        int c = (int)(i % C);
        size_t pix = i / C;
        int w = (int)(pix % W), h = (int)((pix / W) % H);
        size_t b = pix / ((size_t)W * H);
        const float *a0 = dy + ((b * 2 * H + 2 * h) * row2) + (size_t)2 * w * C + c;
        const float *b0 = a0 + row2;
        float v = a0[0] + a0[C] + b0[0] + b0[C];
        dx[i] = acc ? dx[i] + v : v;
    }
}

extern "C" void tf_upsample2_fwd_cuda(int B, int C, int H, int W, const float *x, float *y) {
    const size_t n = (size_t)B * 4 * H * W * C;
    TF_LAUNCH_1D(tf_upsample2_fwd_kernel, n, C, H, W, n, x, y);
}

extern "C" void tf_upsample2_bwd_cuda(int B, int C, int H, int W, const float *dy, float *dx, int acc) {
    const size_t n = (size_t)B * H * W * C;
    TF_LAUNCH_1D(tf_upsample2_bwd_kernel, n, C, H, W, n, dy, dx, acc);
}

/* ---- pooling (window K, stride S, no padding) -------------------------------------------- */
struct PoolGeom {
    int C, H, W, K, S, Ho, Wo;
};
static PoolGeom pool_geom(int C, int H, int W, int K, int S) {
    PoolGeom g = {C, H, W, K, S, (H - K) / S + 1, (W - K) / S + 1};
    return g;
}

__global__ void tf_avgpool_fwd_kernel(PoolGeom g, size_t n, const float *__restrict__ x, float *__restrict__ y) {
    const float inv = 1.0f / (float)(g.K * g.K);
    TF_GRID_STRIDE(i, n) {
        int c = (int)(i % g.C);
        size_t pix = i / g.C;
        int ow = (int)(pix % g.Wo), oh = (int)((pix / g.Wo) % g.Ho);
        size_t b = pix / ((size_t)g.Wo * g.Ho);
        float s = 0.0f;
        for (int a = 0; a < g.K; a++)
            for (int k = 0; k < g.K; k++) s += x[((b * g.H + oh * g.S + a) * g.W + ow * g.S + k) * g.C + c];
        y[i] = s * inv;
    }
}

/* The output windows (oh, ow) that contain input row/col h: oh in [lo, hi]. */
__device__ __forceinline__ void window_range(int h, int K, int S, int Ho, int *lo, int *hi) {
    int l = h - K + 1;
    *lo = l <= 0 ? 0 : (l + S - 1) / S;
    int u = h / S;
    *hi = u < Ho - 1 ? u : Ho - 1;
}

__global__ void tf_avgpool_bwd_kernel(PoolGeom g, size_t n, const float *__restrict__ dy, float *__restrict__ dx,
                                      int acc) {
    const float inv = 1.0f / (float)(g.K * g.K);
    TF_GRID_STRIDE(i, n) {
        int c = (int)(i % g.C);
        size_t pix = i / g.C;
        int w = (int)(pix % g.W), h = (int)((pix / g.W) % g.H);
        size_t b = pix / ((size_t)g.W * g.H);
        int oh0, oh1, ow0, ow1;
        window_range(h, g.K, g.S, g.Ho, &oh0, &oh1);
        window_range(w, g.K, g.S, g.Wo, &ow0, &ow1);
        float s = acc ? dx[i] : 0.0f;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) s += dy[((b * g.Ho + oh) * g.Wo + ow) * g.C + c] * inv;
        dx[i] = s;
    }
}

__global__ void tf_maxpool_fwd_kernel(PoolGeom g, size_t n, const float *__restrict__ x, float *__restrict__ y,
                                      int32_t *__restrict__ idx) {
    TF_GRID_STRIDE(i, n) {
        int c = (int)(i % g.C);
        size_t pix = i / g.C;
        int ow = (int)(pix % g.Wo), oh = (int)((pix / g.Wo) % g.Ho);
        size_t b = pix / ((size_t)g.Wo * g.Ho);
        float m = -FLT_MAX;
        int best = 0;
        for (int a = 0; a < g.K; a++)
            for (int k = 0; k < g.K; k++) {
                int pos = (oh * g.S + a) * g.W + ow * g.S + k;
                float v = x[(b * g.H * g.W + pos) * g.C + c];
                if (v > m) { m = v; best = pos; }
            }
        y[i] = m;
        idx[i] = best;
    }
}

__global__ void tf_maxpool_bwd_kernel(PoolGeom g, size_t n, const int32_t *__restrict__ idx,
                                      const float *__restrict__ dy, float *__restrict__ dx, int acc) {
    TF_GRID_STRIDE(i, n) {
        int c = (int)(i % g.C);
        size_t pix = i / g.C;
        int w = (int)(pix % g.W), h = (int)((pix / g.W) % g.H);
        size_t b = pix / ((size_t)g.W * g.H);
        const int pos = h * g.W + w;
        int oh0, oh1, ow0, ow1;
        window_range(h, g.K, g.S, g.Ho, &oh0, &oh1);
        window_range(w, g.K, g.S, g.Wo, &ow0, &ow1);
        float s = acc ? dx[i] : 0.0f;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) {
                size_t o = ((b * g.Ho + oh) * g.Wo + ow) * g.C + c;
                if (idx[o] == pos) s += dy[o];
            }
        dx[i] = s;
    }
}

extern "C" void tf_avgpool_fwd_cuda(int B, int C, int H, int W, int K, int S, const float *x, float *y) {
    PoolGeom g = pool_geom(C, H, W, K, S);
    const size_t n = (size_t)B * g.Ho * g.Wo * C;
    TF_LAUNCH_1D(tf_avgpool_fwd_kernel, n, g, n, x, y);
}

extern "C" void tf_avgpool_bwd_cuda(int B, int C, int H, int W, int K, int S, const float *dy, float *dx, int acc) {
    PoolGeom g = pool_geom(C, H, W, K, S);
    const size_t n = (size_t)B * H * W * C;
    TF_LAUNCH_1D(tf_avgpool_bwd_kernel, n, g, n, dy, dx, acc);
}

extern "C" void tf_maxpool_fwd_cuda(int B, int C, int H, int W, int K, int S, const float *x, float *y, int32_t *idx) {
    PoolGeom g = pool_geom(C, H, W, K, S);
    const size_t n = (size_t)B * g.Ho * g.Wo * C;
    TF_LAUNCH_1D(tf_maxpool_fwd_kernel, n, g, n, x, y, idx);
}

extern "C" void tf_maxpool_bwd_cuda(int B, int C, int H, int W, int K, int S, const int32_t *idx, const float *dy,
                                    float *dx, int acc) {
    PoolGeom g = pool_geom(C, H, W, K, S);
    const size_t n = (size_t)B * H * W * C;
    TF_LAUNCH_1D(tf_maxpool_bwd_kernel, n, g, n, idx, dy, dx, acc);
}

/* ---- NCHW <-> NHWC: per sample, a [R, Q] -> [Q, R] transpose in 32x32 tiles ------------- */
#define TT 32
__global__ void tf_transpose_kernel(int R, int Q, const float *__restrict__ x, float *__restrict__ y, int acc) {
    __shared__ float tile[TT][TT + 1];
    const size_t off = (size_t)blockIdx.z * R * Q;
    const int q0 = blockIdx.x * TT, r0 = blockIdx.y * TT;
    for (int k = threadIdx.y; k < TT; k += blockDim.y) {
        int r = r0 + k, q = q0 + threadIdx.x;
        if (r < R && q < Q) tile[k][threadIdx.x] = x[off + (size_t)r * Q + q];
    }
    __syncthreads();
    for (int k = threadIdx.y; k < TT; k += blockDim.y) {
        int q = q0 + k, r = r0 + threadIdx.x;
        if (r < R && q < Q) {
            float *d = y + off + (size_t)q * R + r;
            float v = tile[threadIdx.x][k];
            *d = acc ? *d + v : v;
        }
    }
}

static void transpose(int B, int R, int Q, const float *x, float *y, int acc) {
    if (B <= 0 || R <= 0 || Q <= 0) return;
    if (B > 65535 || (R + TT - 1) / TT > 65535) tf_die("layout conversion (CUDA): shape %dx%dx%d too large", B, R, Q);
    dim3 grid((unsigned)((Q + TT - 1) / TT), (unsigned)((R + TT - 1) / TT), (unsigned)B), block(TT, 8);
    tf_transpose_kernel<<<grid, block, 0, tf_cuda_stream()>>>(R, Q, x, y, acc);
    TF_CUDA_LAUNCHED("tf_transpose_kernel");
}

/* x[B][C][N] -> y[B][N][C] */
extern "C" void tf_nchw_to_nhwc_cuda(int B, int C, int N, const float *x, float *y, int acc) {
    transpose(B, C, N, x, y, acc);
}

/* x[B][N][C] -> y[B][C][N] */
extern "C" void tf_nhwc_to_nchw_cuda(int B, int C, int N, const float *x, float *y, int acc) {
    transpose(B, N, C, x, y, acc);
}
