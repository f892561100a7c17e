/* conv2d.cu - 2-D convolution on channels-last maps on the GPU: im2col in NHWC + one cuBLAS
 * GEMM per chunk of samples (the same algorithm and column order as conv2d.c's portable path).
 *
 * Columns are in (kh, kw, ci) order, so the weights are used as Wt[Co, K*K*Ci], a permuted
 * copy of the PyTorch [Co, Ci, K, K] tensor made on the device each call (tiny). The column
 * buffer holds `chunk` whole samples: the planner picks the largest chunk whose buffer fits
 * TF_CUDA_IM2COL_MB (default 1024 MiB), so at the benchmark shapes a convolution is one GEMM.
 * 1x1 stride-1 unpadded convolutions skip im2col (the map already is the column matrix).
 *   forward:  Y[n, Co]   = col[n, KKC] Wt^T            (+ bias, pre-filled, beta = 1)
 *   backward: dWt       += dY^T col   (chunks accumulate into a scratch dWt, then permuted
 *                                      and added to dw: no atomics, fixed order)
 *             dcol       = dY Wt,  dx = col2im(dcol) as a GATHER (each dx element sums its
 *                                      own taps in a fixed order, so overwrite/add is exact)
 *             db        += per-sample channel sums, then summed over samples in order.
 * Scratch (floats): [Wt | dWt | db partials B*Co | col chunk*Ho*Wo*KKC], each 64-aligned.
 * Must not know about models or the tape. */
#include <stdlib.h>

#include "ops/cuda_common.cuh"

typedef struct {
    int chunk, pointwise;
    size_t off_wt, off_dwt, off_db, off_col, total;
} ConvPlanCuda;

static size_t al64(size_t n) { return (n + 63) & ~(size_t)63; }
static size_t kkc(const TfConvShape *s) { return (size_t)s->K * s->K * s->Ci; }
static int is_pointwise(const TfConvShape *s) { return s->K == 1 && s->stride == 1 && s->pad == 0; }

extern "C" size_t tf_conv2d_plan_cuda(TfConvShape *s) {
    ConvPlanCuda *p = (ConvPlanCuda *)tf_calloc(1, sizeof *p);
    const size_t N = (size_t)s->Ho * s->Wo, per = N * kkc(s);
    p->pointwise = is_pointwise(s);
    const char *env = getenv("TF_CUDA_IM2COL_MB");
    long mb = env && *env ? strtol(env, NULL, 10) : 1024;
    if (mb < 1) mb = 1;
    size_t cap = ((size_t)mb << 20) / sizeof(float);
    size_t chunk = p->pointwise ? (size_t)s->B : cap / per;
    if (chunk < 1) chunk = 1;
    if (chunk > (size_t)s->B) chunk = (size_t)s->B;
    /* cuBLAS takes int dimensions (the GEMM's rows, chunk*N), and im2col/col2im index rows and
     * pixels (chunk*H*W) in int. */
    const size_t big = (size_t)(N > (size_t)s->H * s->W ? N : (size_t)s->H * s->W);
    while (chunk > 1 && chunk * big > (size_t)0x7fffffff) chunk /= 2;
    if (big > (size_t)0x7fffffff) tf_die("conv2d (CUDA): a %dx%d map is too large", s->H, s->W);
    p->chunk = (int)chunk;
    const size_t nw = (size_t)s->Co * kkc(s);
    p->off_wt = 0;
    p->off_dwt = al64(nw);
    p->off_db = p->off_dwt + al64(nw);
    p->off_col = p->off_db + al64((size_t)s->B * s->Co);
    p->total = p->off_col + (p->pointwise ? 0 : chunk * per);
    s->impl = p;
    return p->total;
}

extern "C" void tf_conv2d_unplan_cuda(TfConvShape *s) {
    free(s->impl);
    s->impl = NULL;
}

extern "C" const char *tf_conv2d_impl_name_cuda(const TfConvShape *s) {
    return is_pointwise(s) ? "cublas (1x1)" : "im2col+cublas";
}

static const ConvPlanCuda *plan_of(const TfConvShape *s) {
    if (!s->impl) tf_die("conv2d (CUDA): shape was not planned with the CUDA backend's conv2d_plan");
    return (const ConvPlanCuda *)s->impl;
}

/* wt[o][(kh*K + kw)*Ci + c] = w[o][c][kh][kw] */
__global__ void tf_conv_w_to_ohwi_kernel(int Co, int Ci, int KK, const float *__restrict__ w, float *__restrict__ wt) {
    const size_t n = (size_t)Co * Ci * KK;
    TF_GRID_STRIDE(i, n) {
        size_t o = i / ((size_t)Ci * KK);
        int r = (int)(i % ((size_t)Ci * KK)), k = r / Ci, c = r % Ci;
        wt[i] = w[(o * Ci + c) * KK + k];
    }
}

/* dw[o][c][kh][kw] += dwt[o][(kh*K + kw)*Ci + c] */
__global__ void tf_conv_dw_add_kernel(int Co, int Ci, int KK, const float *__restrict__ dwt, float *__restrict__ dw) {
    const size_t n = (size_t)Co * Ci * KK;
    TF_GRID_STRIDE(i, n) {
        size_t o = i / ((size_t)Ci * KK);
        int r = (int)(i % ((size_t)Ci * KK)), c = r / KK, k = r % KK;
        dw[i] += dwt[o * ((size_t)Ci * KK) + (size_t)k * Ci + c];
    }
}

/* y[r][o] = b[o] for r < rows */
__global__ void tf_conv_fill_bias_kernel(size_t rows, int Co, const float *__restrict__ b, float *__restrict__ y) {
    TF_GRID_STRIDE(i, rows * Co) y[i] = b[i % Co];
}

struct ConvGeom {
    int H, W, Ci, K, S, P, Ho, Wo;
};

/* col[(b*Ho*Wo + oh*Wo + ow)][(kh*K + kw)*Ci + c] = x[b][oh*S-P+kh][ow*S-P+kw][c] (0 outside).
 * Threads: x over the K*K*Ci columns (each decodes its (kh, kw, c) once), y over rows; 32-bit
 * index arithmetic (the planner keeps rows and pixels of a chunk below 2^31). */
__global__ void tf_conv_im2col_kernel(ConvGeom g, int rows, const float *__restrict__ x, float *__restrict__ col) {
    const int KKC = g.K * g.K * g.Ci, j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= KKC) return;
    const int kidx = j / g.Ci, c = j - kidx * g.Ci, kh = kidx / g.K, kw = kidx - kh * g.K, HoWo = g.Ho * g.Wo;
    for (int r = blockIdx.y * blockDim.y + threadIdx.y; r < rows; r += gridDim.y * blockDim.y) {
        const int b = r / HoWo, p = r - b * HoWo, oh = p / g.Wo, ow = p - oh * g.Wo;
        const int ih = oh * g.S - g.P + kh, iw = ow * g.S - g.P + kw;
        float v = 0.0f;
        if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) v = x[(((size_t)b * g.H + ih) * g.W + iw) * g.Ci + c];
        col[(size_t)r * KKC + j] = v;
    }
}

/* dx[b][ih][iw][c] = (acc ? dx : 0) + sum over the taps that read it, in the order col2im of the
 * CPU adds them (output positions ascending, i.e. kh then kw descending). A gather: no atomics.
 * Threads: x over channels, y over input pixels. */
__global__ void tf_conv_col2im_kernel(ConvGeom g, int pixels, const float *__restrict__ col, float *__restrict__ dx,
                                      int acc) {
    const int KKC = g.K * g.K * g.Ci, c = blockIdx.x * blockDim.x + threadIdx.x, HW = g.H * g.W;
    if (c >= g.Ci) return;
    for (int q = blockIdx.y * blockDim.y + threadIdx.y; q < pixels; q += gridDim.y * blockDim.y) {
        const int b = q / HW, p = q - b * HW, ih = p / g.W, iw = p - ih * g.W;
        const size_t o = (size_t)q * g.Ci + c;
        float s = acc ? dx[o] : 0.0f;
        for (int kh = g.K - 1; kh >= 0; kh--) {
            const int th = ih + g.P - kh;
            if (th < 0 || th % g.S) continue;
            const int oh = th / g.S;
            if (oh >= g.Ho) continue;
            for (int kw = g.K - 1; kw >= 0; kw--) {
                const int tw = iw + g.P - kw;
                if (tw < 0 || tw % g.S) continue;
                const int ow = tw / g.S;
                if (ow >= g.Wo) continue;
                s += col[(((size_t)b * g.Ho + oh) * g.Wo + ow) * KKC + (size_t)(kh * g.K + kw) * g.Ci + c];
            }
        }
        dx[o] = s;
    }
}

/* Block and grid for a [rows x cols] kernel whose threads run along the columns. */
static void grid2d(int cols, int rows, dim3 *grid, dim3 *block) {
    int tx = cols >= 128 ? 128 : ((cols + 31) / 32) * 32, ty = 256 / tx;
    int gy = (rows + ty - 1) / ty;
    *block = dim3((unsigned)tx, (unsigned)ty);
    *grid = dim3((unsigned)((cols + tx - 1) / tx), (unsigned)(gy < 1 ? 1 : gy > 65535 ? 65535 : gy));
}

static void im2col(const ConvGeom &g, int nb, const float *x, float *col) {
    dim3 grid, block;
    const int rows = nb * g.Ho * g.Wo;
    grid2d(g.K * g.K * g.Ci, rows, &grid, &block);
    tf_conv_im2col_kernel<<<grid, block, 0, tf_cuda_stream()>>>(g, rows, x, col);
    TF_CUDA_LAUNCHED("tf_conv_im2col_kernel");
}

static void col2im(const ConvGeom &g, int nb, const float *col, float *dx, int acc) {
    dim3 grid, block;
    const int pixels = nb * g.H * g.W;
    grid2d(g.Ci, pixels, &grid, &block);
    tf_conv_col2im_kernel<<<grid, block, 0, tf_cuda_stream()>>>(g, pixels, col, dx, acc);
    TF_CUDA_LAUNCHED("tf_conv_col2im_kernel");
}

static ConvGeom geom(const TfConvShape *s) {
    ConvGeom g = {s->H, s->W, s->Ci, s->K, s->stride, s->pad, s->Ho, s->Wo};
    return g;
}

extern "C" void tf_conv2d_fwd_cuda(const TfConvShape *s, const float *x, const float *w, const float *b, float *y,
                                   float *scratch) {
    const ConvPlanCuda *p = plan_of(s);
    const int N = s->Ho * s->Wo, KKC = (int)kkc(s), KK = s->K * s->K;
    const size_t xs = (size_t)s->H * s->W * s->Ci, ys = (size_t)N * s->Co;
    float *wt = scratch + p->off_wt, *col = scratch + p->off_col;
    TF_LAUNCH_1D(tf_conv_w_to_ohwi_kernel, (size_t)s->Co * KKC, s->Co, s->Ci, KK, w, wt);
    const ConvGeom g = geom(s);
    for (int b0 = 0; b0 < s->B; b0 += p->chunk) {
        const int nb = s->B - b0 < p->chunk ? s->B - b0 : p->chunk;
        const float *xb = x + xs * b0;
        float *yb = y + ys * b0;
        if (b) TF_LAUNCH_1D(tf_conv_fill_bias_kernel, (size_t)nb * ys, (size_t)nb * N, s->Co, b, yb);
        const float *cm = xb;
        if (!p->pointwise) {
            im2col(g, nb, xb, col);
            cm = col;
        }
        tf_cuda_sgemm(0, 1, nb * N, s->Co, KKC, 1.0f, cm, KKC, wt, KKC, b ? 1.0f : 0.0f, yb, s->Co);
    }
}

extern "C" void tf_conv2d_bwd_cuda(const TfConvShape *s, const float *x, const float *w, const float *dy, float *dx,
                                   int acc, float *dw, float *db, float *scratch) {
    const ConvPlanCuda *p = plan_of(s);
    const int N = s->Ho * s->Wo, KKC = (int)kkc(s), KK = s->K * s->K, Ci = s->Ci;
    const size_t xs = (size_t)s->H * s->W * Ci, ys = (size_t)N * s->Co;
    float *wt = scratch + p->off_wt, *dwt = scratch + p->off_dwt, *dbp = scratch + p->off_db;
    float *col = scratch + p->off_col;
    if (dx) TF_LAUNCH_1D(tf_conv_w_to_ohwi_kernel, (size_t)s->Co * KKC, s->Co, Ci, KK, w, wt);
    if (db) {
        tf_cuda_chansum(s->B, N, s->Co, dy, NULL, dbp, 0);
        tf_cuda_rowsum(s->B, s->Co, dbp, (size_t)s->Co, db, 1);
    }
    const ConvGeom g = geom(s);
    for (int b0 = 0; b0 < s->B; b0 += p->chunk) {
        const int nb = s->B - b0 < p->chunk ? s->B - b0 : p->chunk;
        const float *xb = x + xs * b0, *dyb = dy + ys * b0;
        const float *cm = xb;
        if (!p->pointwise) {
            im2col(g, nb, xb, col);
            cm = col;
        }
        /* dWt[Co, KKC] (+)= dY[n, Co]^T col[n, KKC] */
        tf_cuda_sgemm(1, 0, s->Co, KKC, nb * N, 1.0f, dyb, s->Co, cm, KKC, b0 ? 1.0f : 0.0f, dwt, KKC);
        if (!dx) continue;
        float *dxb = dx + xs * b0;
        if (p->pointwise) {
            tf_cuda_sgemm(0, 0, nb * N, Ci, s->Co, 1.0f, dyb, s->Co, wt, KKC, acc ? 1.0f : 0.0f, dxb, Ci);
        } else {
            tf_cuda_sgemm(0, 0, nb * N, KKC, s->Co, 1.0f, dyb, s->Co, wt, KKC, 0.0f, col, KKC);
            col2im(g, nb, col, dxb, acc);
        }
    }
    TF_LAUNCH_1D(tf_conv_dw_add_kernel, (size_t)s->Co * KKC, s->Co, Ci, KK, dwt, dw);
}
