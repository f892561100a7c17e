/* cuda_common.cuh - what every op.cu file shares: the C headers under C linkage, launch
 * geometry (grid-stride loops over size_t indices), and the device versions of the CPU ops'
 * scalar helpers (SiLU and its derivative).
 * Must not know about models, tapes, the backend table or MPI. */
#ifndef TF_OPS_CUDA_COMMON_CUH
#define TF_OPS_CUDA_COMMON_CUH

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cuda_runtime.h>

extern "C" {
#include "core/check.h"
#include "ops/ops.h"
}
#include "ops/ops_cuda.h"

#define TF_CUDA_THREADS 256

/* Blocks for a grid-stride loop over n items: enough to fill the device, never above 2^20. */
static inline unsigned tf_cuda_grid(size_t n) {
    size_t g = (n + TF_CUDA_THREADS - 1) / TF_CUDA_THREADS;
    if (g < 1) g = 1;
    if (g > ((size_t)1 << 20)) g = (size_t)1 << 20;
    return (unsigned)g;
}

#define TF_GRID_STRIDE(i, n)                                                                  \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)(n);           \
         i += (size_t)gridDim.x * blockDim.x)

/* Launch `kernel` over n items on the context's stream and check the launch. */
#define TF_LAUNCH_1D(kernel, n, ...)                                                          \
    do {                                                                                      \
        if ((size_t)(n) > 0) {                                                                \
            kernel<<<tf_cuda_grid((size_t)(n)), TF_CUDA_THREADS, 0, tf_cuda_stream()>>>(__VA_ARGS__); \
            TF_CUDA_LAUNCHED(#kernel);                                                        \
        }                                                                                     \
    } while (0)

/* SiLU as in ops/fastmath.h (there with a polynomial expf; here the device expf): the two agree
 * to a few ulp, well inside the tests' tolerances. */
__device__ __forceinline__ float tf_dev_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float tf_dev_silu(float x) { return x * tf_dev_sigmoid(x); }
__device__ __forceinline__ float tf_dev_silu_grad(float x) {
    float s = tf_dev_sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
}

/* Sum of one double per thread over a block of blockDim.x (a power of two) threads, by a
 * shared-memory tree of fixed shape: the result depends only on the inputs, never on timing.
 * sh: blockDim.x doubles of shared memory. Every thread of the block must call it. */
__device__ __forceinline__ double tf_dev_block_sum(double v, double *sh) {
    const int t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

/* Report a data error through the context's error word (first writer wins; the host reads it
 * in tf_cuda_check_errors). Not a reduction: the atomic only claims the word. */
__device__ __forceinline__ void tf_dev_report(int *err, int code, int a, int b, int c) {
    if (atomicCAS(err, 0, code) == 0) {
        err[1] = a;
        err[2] = b;
        err[3] = c;
    }
}

#endif
