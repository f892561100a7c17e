/* embed.cu - sinusoidal timestep embedding and label embedding tables on the GPU (see
 * embed.c). The time embedding runs in double like the CPU op. A label outside the table
 * cannot stop the device: its row is zero and the error word names it (the backend's sync
 * dies with the CPU op's message). The table gradient is a gather per (row, feature) over
 * the samples in order: no atomics, and the same sum order as the CPU op.
 * Must not know about models. */
#include <math.h>

#include "ops/cuda_common.cuh"

__global__ void tf_timestep_embed_kernel(int B, int D, float scale, float max_period, const float *__restrict__ t,
                                         float *__restrict__ out) {
    const int half = D / 2;
    TF_GRID_STRIDE(i, (size_t)B * D) {
        int b = (int)(i / D), j = (int)(i % D);
        float v = 0.0f;
        if (j < 2 * half) {
            int k = j < half ? j : j - half;
            double tt = (double)scale * t[b];
            double f = exp(-log((double)max_period) * k / half);
            v = j < half ? (float)sin(tt * f) : (float)cos(tt * f);
        }
        out[i] = v;
    }
}

extern "C" void tf_timestep_embed_fwd_cuda(int B, int D, float scale, float max_period, const float *t, float *out) {
    TF_LAUNCH_1D(tf_timestep_embed_kernel, (size_t)B * D, B, D, scale, max_period, t, out);
}

__global__ void tf_embedding_fwd_kernel(int B, int D, int rows, const int32_t *__restrict__ labels,
                                        const float *__restrict__ table, float *__restrict__ out, int *err) {
    TF_GRID_STRIDE(i, (size_t)B * D) {
        int b = (int)(i / D), j = (int)(i % D), y = labels[b];
        if (y < 0 || y >= rows) {
            out[i] = 0.0f;
            if (j == 0) tf_dev_report(err, TF_CUDA_ERR_EMBED_LABEL, y, b, rows);
        } else {
            out[i] = table[(size_t)y * D + j];
        }
    }
}

__global__ void tf_embedding_bwd_kernel(int B, int D, int rows, const int32_t *__restrict__ labels,
                                        const float *__restrict__ dout, float *__restrict__ dtable) {
    TF_GRID_STRIDE(i, (size_t)rows * D) {
        int r = (int)(i / D), j = (int)(i % D);
        float v = dtable[i];
        for (int b = 0; b < B; b++)
            if (labels[b] == r) v += dout[(size_t)b * D + j];
        dtable[i] = v;
    }
}

extern "C" void tf_embedding_fwd_cuda(int B, int D, int rows, const int32_t *labels, const float *table, float *out) {
    TF_LAUNCH_1D(tf_embedding_fwd_kernel, (size_t)B * D, B, D, rows, labels, table, out, tf_cuda_error_word());
}

extern "C" void tf_embedding_bwd_cuda(int B, int D, int rows, const int32_t *labels, const float *dout, float *dtable) {
    TF_LAUNCH_1D(tf_embedding_bwd_kernel, (size_t)rows * D, B, D, rows, labels, dout, dtable);
}
