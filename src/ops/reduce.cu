/* reduce.cu - the deterministic sums the CUDA ops share (no atomics anywhere):
 *   chansum: per-sample channel sums over positions of a channels-last map (bias and
 *            broadcast gradients, per-sample partials): a block owns 32 channels of one
 *            sample, 8 row groups stride over positions in double, and the 8 partials are
 *            added in row-group order;
 *   rowsum:  a column sum over R rows added in row order (the second pass over partials,
 *            and the linear layer's bias gradient, in the CPU op's order).
 * Must not know about models, tapes or the backend table. */
#include "ops/cuda_common.cuh"

#define CS_ROWS 8

__global__ void tf_chansum_kernel(int N, int C, const float *__restrict__ a, const float *__restrict__ w,
                                  float *__restrict__ out, int acc) {
    __shared__ double part[CS_ROWS][33];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int c = blockIdx.x * 32 + tx, b = blockIdx.y;
    double s = 0.0;
    if (c < C) {
        const size_t base = (size_t)b * N * C + c;
        if (w)
            for (int n = ty; n < N; n += CS_ROWS) s += (double)a[base + (size_t)n * C] * w[base + (size_t)n * C];
        else
            for (int n = ty; n < N; n += CS_ROWS) s += a[base + (size_t)n * C];
    }
    part[ty][tx] = s;
    __syncthreads();
    if (ty == 0 && c < C) {
        double t = part[0][tx];
        for (int k = 1; k < CS_ROWS; k++) t += part[k][tx];
        float *o = out + (size_t)b * C + c;
        *o = acc ? *o + (float)t : (float)t;
    }
}

extern "C" void tf_cuda_chansum(int B, int N, int C, const float *a, const float *w, float *out, int acc) {
    if (B <= 0 || C <= 0) return;
    if (B > 65535) tf_die("chansum: %d samples exceed the grid's y limit", B);
    dim3 grid((unsigned)((C + 31) / 32), (unsigned)B), block(32, CS_ROWS);
    tf_chansum_kernel<<<grid, block, 0, tf_cuda_stream()>>>(N, C, a, w, out, acc);
    TF_CUDA_LAUNCHED("tf_chansum_kernel");
}

__global__ void tf_rowsum_kernel(int R, int C, const float *__restrict__ src, size_t ld, float *__restrict__ dst,
                                 int acc) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float v = acc ? dst[c] : 0.0f;
    for (int r = 0; r < R; r++) v += src[(size_t)r * ld + c];
    dst[c] = v;
}

extern "C" void tf_cuda_rowsum(int R, int C, const float *src, size_t ld, float *dst, int acc) {
    if (C <= 0) return;
    tf_rowsum_kernel<<<(unsigned)((C + 127) / 128), 128, 0, tf_cuda_stream()>>>(R, C, src, ld, dst, acc);
    TF_CUDA_LAUNCHED("tf_rowsum_kernel");
}
