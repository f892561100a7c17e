/* adam.cu - Adam/AdamW, gradient norm, clipping, scaling, finiteness and EMA on device arenas
 * (see optim_cuda.h; the arithmetic is adam.c's, element by element). Every launch is
 * checked with cudaGetLastError and dies through tf_die_at naming file:line (and the rank).
 * Must not know about models, tapes, the backend or MPI. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <cuda_runtime.h>

extern "C" {
#include "core/check.h"
}
#include "optim/optim_cuda.h"

#define OPT_THREADS 256

static void launched(const char *file, int line, const char *kernel) {
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        tf_die_at(file, line, TF_EXIT_FAILURE, "rerun with TF_CUDA_SYNC=1 to localise asynchronous faults",
                  "CUDA error %s (%s) in the launch of %s", cudaGetErrorName(e), cudaGetErrorString(e), kernel);
}
#define LAUNCHED(k) launched(__FILE__, __LINE__, k)

static unsigned grid(size_t n) {
    size_t g = (n + OPT_THREADS - 1) / OPT_THREADS;
    if (g < 1) g = 1;
    if (g > ((size_t)1 << 20)) g = (size_t)1 << 20;
    return (unsigned)g;
}
#define FOR_EACH(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ void tf_adam_kernel(size_t n, float b1, float b2, float eps, float wd, float lr, float step,
                               float inv_sqrt_bc2, int decoupled, float *__restrict__ param,
                               const float *__restrict__ grad, float *__restrict__ m, float *__restrict__ v) {
    FOR_EACH(i, n) {
        float p = param[i], g = grad[i];
        if (decoupled) p -= lr * wd * p;
        else g += wd * p;
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

extern "C" void tf_adam_update_cuda(const TfAdamConfig *c, size_t n, float *param, const float *grad, float *m,
                                    float *v, long t, float lr, cudaStream_t stream) {
    if (!n) return;
    const double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
    const float step = (float)(lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    tf_adam_kernel<<<grid(n), OPT_THREADS, 0, stream>>>(n, c->beta1, c->beta2, c->eps, c->weight_decay, lr, step,
                                                        inv_sqrt_bc2, c->kind == TF_OPTIM_ADAMW, param, grad, m, v);
    LAUNCHED("tf_adam_kernel");
}

__global__ void __launch_bounds__(OPT_THREADS) tf_sumsq_chunks_kernel(size_t n, const float *__restrict__ x,
                                                                        double *__restrict__ part) {
    __shared__ double sh[OPT_THREADS];
    const size_t lo = n * blockIdx.x / gridDim.x, hi = n * (blockIdx.x + 1) / gridDim.x;
    double s = 0.0;
    for (size_t i = lo + threadIdx.x; i < hi; i += OPT_THREADS) s += (double)x[i] * x[i];
    sh[threadIdx.x] = s;
    __syncthreads();
    for (int k = OPT_THREADS / 2; k > 0; k >>= 1) {
        if ((int)threadIdx.x < k) sh[threadIdx.x] += sh[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) part[blockIdx.x] = sh[0];
}

__global__ void tf_norm_finish_kernel(int m, const double *__restrict__ part, double *__restrict__ out) {
    if (threadIdx.x || blockIdx.x) return;
    double s = 0.0;
    for (int k = 0; k < m; k++) s += part[k];
    *out = sqrt(s);
}

extern "C" void tf_grad_norm_cuda(size_t n, const float *grad, double *dev_norm, double *dev_partials,
                                  cudaStream_t stream) {
    tf_sumsq_chunks_kernel<<<TF_OPTIM_NORM_CHUNKS, OPT_THREADS, 0, stream>>>(n, grad, dev_partials);
    LAUNCHED("tf_sumsq_chunks_kernel");
    tf_norm_finish_kernel<<<1, 32, 0, stream>>>(TF_OPTIM_NORM_CHUNKS, dev_partials, dev_norm);
    LAUNCHED("tf_norm_finish_kernel");
}

__global__ void tf_clip_kernel(size_t n, float *__restrict__ g, const double *__restrict__ norm, double max_norm) {
    const double nv = *norm;
    if (!(nv > max_norm)) return;
    const float s = (float)(max_norm / (nv + 1e-6));
    FOR_EACH(i, n) g[i] *= s;
}

extern "C" void tf_clip_by_norm_cuda(size_t n, float *grad, const double *dev_norm, double max_norm,
                                     cudaStream_t stream) {
    if (!n || max_norm <= 0) return;
    tf_clip_kernel<<<grid(n), OPT_THREADS, 0, stream>>>(n, grad, dev_norm, max_norm);
    LAUNCHED("tf_clip_kernel");
}

__global__ void tf_scale_kernel(size_t n, float *__restrict__ x, float s) {
    FOR_EACH(i, n) x[i] *= s;
}

extern "C" void tf_scale_cuda(size_t n, float *x, float s, cudaStream_t stream) {
    if (!n) return;
    tf_scale_kernel<<<grid(n), OPT_THREADS, 0, stream>>>(n, x, s);
    LAUNCHED("tf_scale_kernel");
}

/* Each block ANDs its range; one thread ANDs the blocks (no atomics, result independent of timing). */
__global__ void __launch_bounds__(OPT_THREADS) tf_finite_chunks_kernel(size_t n, const float *__restrict__ x,
                                                                         int *__restrict__ part) {
    const size_t lo = n * blockIdx.x / gridDim.x, hi = n * (blockIdx.x + 1) / gridDim.x;
    int ok = 1;
    for (size_t i = lo + threadIdx.x; i < hi; i += OPT_THREADS) ok &= isfinite(x[i]) ? 1 : 0;
    ok = __syncthreads_and(ok);
    if (threadIdx.x == 0) part[blockIdx.x] = ok;
}

__global__ void tf_finite_finish_kernel(int m, const int *__restrict__ part, int *__restrict__ flag) {
    if (threadIdx.x || blockIdx.x) return;
    int ok = 1;
    for (int k = 0; k < m; k++) ok &= part[k];
    *flag = ok;
}

extern "C" void tf_all_finite_cuda(size_t n, const float *x, int *dev_flag, int *dev_partials, cudaStream_t stream) {
    tf_finite_chunks_kernel<<<TF_OPTIM_NORM_CHUNKS, OPT_THREADS, 0, stream>>>(n, x, dev_partials);
    LAUNCHED("tf_finite_chunks_kernel");
    tf_finite_finish_kernel<<<1, 32, 0, stream>>>(TF_OPTIM_NORM_CHUNKS, dev_partials, dev_flag);
    LAUNCHED("tf_finite_finish_kernel");
}

__global__ void tf_ema_kernel(size_t n, float *__restrict__ ema, const float *__restrict__ param, float a) {
    FOR_EACH(i, n) ema[i] -= a * (ema[i] - param[i]);
}

extern "C" void tf_ema_update_cuda(size_t n, float *ema, const float *param, float d, cudaStream_t stream) {
    if (!n) return;
    tf_ema_kernel<<<grid(n), OPT_THREADS, 0, stream>>>(n, ema, param, 1.0f - d);
    LAUNCHED("tf_ema_kernel");
}
