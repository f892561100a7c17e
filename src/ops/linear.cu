/* linear.cu - fully connected layer y = x W^T + b on the GPU (PyTorch weight layout [Do, Di]):
 * one cuBLAS GEMM each way; the bias gradient is a column sum over the batch added in sample
 * order (the CPU op's order). Must not know about models. */
#include "ops/cuda_common.cuh"

__global__ void tf_linear_fill_bias_kernel(int B, int Do, const float *__restrict__ b, float *__restrict__ y) {
    TF_GRID_STRIDE(i, (size_t)B * Do) y[i] = b[i % Do];
}

extern "C" void tf_linear_fwd_cuda(int B, int Di, int Do, const float *x, const float *w, const float *b, float *y) {
    if (b) TF_LAUNCH_1D(tf_linear_fill_bias_kernel, (size_t)B * Do, B, Do, b, y);
    tf_cuda_sgemm(0, 1, B, Do, Di, 1.0f, x, Di, w, Di, b ? 1.0f : 0.0f, y, Do);
}

extern "C" void tf_linear_bwd_cuda(int B, int Di, int Do, const float *x, const float *w, const float *dy, float *dx,
                                   int acc, float *dw, float *db) {
    if (dx) tf_cuda_sgemm(0, 0, B, Di, Do, 1.0f, dy, Do, w, Di, acc ? 1.0f : 0.0f, dx, Di);
    tf_cuda_sgemm(1, 0, Do, Di, B, 1.0f, dy, Do, x, Di, 1.0f, dw, Di);
    if (db) tf_cuda_rowsum(B, Do, dy, (size_t)Do, db, 1);
}
