/* loss.cu - mean squared error and softmax cross-entropy on the GPU (see loss.c). The loss
 * value stays in device memory (*dev_loss, a double), so a training step needs no host
 * round trip until the caller reads it. Sums run in double: per-block partials over fixed
 * index ranges (fixed-shape trees), then one thread adds the partials in order.
 * Must not know about models. */
#include <math.h>

#include "ops/cuda_common.cuh"

#define LOSS_THREADS 256

__global__ void __launch_bounds__(LOSS_THREADS) tf_mse_partial_kernel(size_t n, const float *__restrict__ pred,
                                                                        const float *__restrict__ target,
                                                                        double *__restrict__ part) {
    __shared__ double sh[LOSS_THREADS];
    const size_t lo = n * blockIdx.x / gridDim.x, hi = n * (blockIdx.x + 1) / gridDim.x;
    double s = 0.0;
    for (size_t i = lo + threadIdx.x; i < hi; i += LOSS_THREADS) {
        double d = (double)pred[i] - target[i];
        s += d * d;
    }
    s = tf_dev_block_sum(s, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

/* *out = (acc ? *out : 0) + (part[0] + ... + part[m-1]) / denom */
__global__ void tf_loss_finish_kernel(int m, const double *__restrict__ part, double denom, double *out, int acc) {
    if (threadIdx.x || blockIdx.x) return;
    double s = 0.0;
    for (int k = 0; k < m; k++) s += part[k];
    *out = (acc ? *out : 0.0) + s / denom;
}

extern "C" void tf_mse_fwd_cuda(size_t n, const float *pred, const float *target, double denom, double *dev_loss,
                                double *dev_partials, int acc) {
    tf_mse_partial_kernel<<<TF_CUDA_LOSS_PARTIALS, LOSS_THREADS, 0, tf_cuda_stream()>>>(n, pred, target, dev_partials);
    TF_CUDA_LAUNCHED("tf_mse_partial_kernel");
    tf_loss_finish_kernel<<<1, 32, 0, tf_cuda_stream()>>>(TF_CUDA_LOSS_PARTIALS, dev_partials, denom, dev_loss, acc);
    TF_CUDA_LAUNCHED("tf_loss_finish_kernel");
}

__global__ void tf_mse_bwd_kernel(size_t n, float k, const float *__restrict__ pred, const float *__restrict__ target,
                                  float *__restrict__ dpred, int acc) {
    TF_GRID_STRIDE(i, n) {
        float v = k * (pred[i] - target[i]);
        dpred[i] = acc ? dpred[i] + v : v;
    }
}

extern "C" void tf_mse_bwd_cuda(size_t n, const float *pred, const float *target, double denom, float *dpred, int acc) {
    const float k = (float)(2.0 / denom);
    TF_LAUNCH_1D(tf_mse_bwd_kernel, n, n, k, pred, target, dpred, acc);
}

/* One thread per sample: probabilities and -log p[label] into part[b]. */
__global__ void tf_xent_rows_kernel(int B, int K, const float *__restrict__ logits, const int32_t *__restrict__ labels,
                                    float *__restrict__ probs, double *__restrict__ part, int *err) {
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= B) return;
    const float *z = logits + (size_t)b * K;
    float *p = probs + (size_t)b * K;
    const int y = labels[b];
    float mx = z[0];
    for (int k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
    double s = 0.0;
    for (int k = 0; k < K; k++) s += exp((double)z[k] - mx);
    const double lse = mx + log(s);
    for (int k = 0; k < K; k++) p[k] = (float)exp((double)z[k] - lse);
    if (y < 0 || y >= K) {
        tf_dev_report(err, TF_CUDA_ERR_XENT_LABEL, y, b, K);
        part[b] = 0.0;
    } else {
        part[b] = lse - z[y];
    }
}

extern "C" void tf_xent_fwd_cuda(int B, int K, const float *logits, const int32_t *labels, float *probs, double denom,
                                 double *dev_loss, double *dev_partials, int acc) {
    if (B <= 0) return;
    tf_xent_rows_kernel<<<(unsigned)((B + 127) / 128), 128, 0, tf_cuda_stream()>>>(B, K, logits, labels, probs,
                                                                                  dev_partials, tf_cuda_error_word());
    TF_CUDA_LAUNCHED("tf_xent_rows_kernel");
    tf_loss_finish_kernel<<<1, 32, 0, tf_cuda_stream()>>>(B, dev_partials, denom, dev_loss, acc);
    TF_CUDA_LAUNCHED("tf_loss_finish_kernel");
}

__global__ void tf_xent_bwd_kernel(int B, int K, float inv, const float *__restrict__ probs,
                                   const int32_t *__restrict__ labels, float *__restrict__ dlogits, int acc) {
    TF_GRID_STRIDE(i, (size_t)B * K) {
        int b = (int)(i / K), k = (int)(i % K);
        float v = (probs[i] - (k == labels[b] ? 1.0f : 0.0f)) * inv;
        dlogits[i] = acc ? dlogits[i] + v : v;
    }
}

extern "C" void tf_xent_bwd_cuda(int B, int K, const float *probs, const int32_t *labels, double denom, float *dlogits,
                                 int acc) {
    const float inv = (float)(1.0 / denom);
    TF_LAUNCH_1D(tf_xent_bwd_kernel, (size_t)B * K, B, K, inv, probs, labels, dlogits, acc);
}
