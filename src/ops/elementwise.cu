/* elementwise.cu - SiLU, add, and per-channel broadcast add/multiply on the GPU (see
 * elementwise.c). The broadcast's vector gradient is a per-sample channel sum in double
 * (reduce.cu), as the CPU op sums it. Must not know about models. */
#include "ops/cuda_common.cuh"

__global__ void tf_silu_fwd_kernel(size_t n, const float *__restrict__ x, float *__restrict__ y) {
    TF_GRID_STRIDE(i, n) y[i] = tf_dev_silu(x[i]);
}

__global__ void tf_silu_bwd_kernel(size_t n, const float *__restrict__ x, const float *__restrict__ dy,
                                   float *__restrict__ dx, int acc) {
    TF_GRID_STRIDE(i, n) {
        float v = dy[i] * tf_dev_silu_grad(x[i]);
        dx[i] = acc ? dx[i] + v : v;
    }
}

__global__ void tf_add_fwd_kernel(size_t n, const float *__restrict__ a, const float *__restrict__ b,
                                  float *__restrict__ y) {
    TF_GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}

__global__ void tf_acc_kernel(size_t n, const float *__restrict__ src, float *__restrict__ dst) {
    TF_GRID_STRIDE(i, n) dst[i] += src[i];
}

extern "C" void tf_silu_fwd_cuda(size_t n, const float *x, float *y) { TF_LAUNCH_1D(tf_silu_fwd_kernel, n, n, x, y); }

extern "C" void tf_silu_bwd_cuda(size_t n, const float *x, const float *dy, float *dx, int acc) {
    TF_LAUNCH_1D(tf_silu_bwd_kernel, n, n, x, dy, dx, acc);
}

extern "C" void tf_add_fwd_cuda(size_t n, const float *a, const float *b, float *y) {
    TF_LAUNCH_1D(tf_add_fwd_kernel, n, n, a, b, y);
}

static void pass_grad(size_t n, const float *dy, float *d, int acc) {
    if (!d || !n) return;
    if (acc) TF_LAUNCH_1D(tf_acc_kernel, n, n, dy, d);
    else if (d != dy) TF_CUDA_CHECK(cudaMemcpyAsync(d, dy, n * sizeof(float), cudaMemcpyDeviceToDevice, tf_cuda_stream()));
}

extern "C" void tf_add_bwd_cuda(size_t n, const float *dy, float *da, int acc_a, float *db, int acc_b) {
    pass_grad(n, dy, da, acc_a);
    pass_grad(n, dy, db, acc_b);
}

__global__ void tf_bcast_fwd_kernel(int C, int N, int mul, size_t n, const float *__restrict__ x,
                                    const float *__restrict__ v, float *__restrict__ y) {
    TF_GRID_STRIDE(i, n) {
        size_t b = i / ((size_t)N * C);
        float w = v[b * C + i % C];
        y[i] = mul ? x[i] * w : x[i] + w;
    }
}

__global__ void tf_bcast_bwd_x_kernel(int C, int N, int mul, size_t n, const float *__restrict__ v,
                                      const float *__restrict__ dy, float *__restrict__ dx, int acc) {
    TF_GRID_STRIDE(i, n) {
        float g = dy[i];
        if (mul) g *= v[(i / ((size_t)N * C)) * C + i % C];
        dx[i] = acc ? dx[i] + g : g;
    }
}

extern "C" void tf_bcast_fwd_cuda(int B, int C, int N, int mul, const float *x, const float *v, float *y) {
    const size_t n = (size_t)B * N * C;
    TF_LAUNCH_1D(tf_bcast_fwd_kernel, n, C, N, mul, n, x, v, y);
}

extern "C" void tf_bcast_bwd_cuda(int B, int C, int N, int mul, const float *x, const float *v, const float *dy,
                                  float *dx, int acc_x, float *dv, int acc_v) {
    const size_t n = (size_t)B * N * C;
    if (dv) tf_cuda_chansum(B, N, C, dy, mul ? x : NULL, dv, acc_v);
    if (dx) {
        if (!mul) pass_grad(n, dy, dx, acc_x);
        else TF_LAUNCH_1D(tf_bcast_bwd_x_kernel, n, C, N, mul, n, v, dy, dx, acc_x);
    }
}
