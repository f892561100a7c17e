/* backend_cuda.c - the CUDA backend: device memory, copies and sync on one stream, and the op
 * table bound to the _cuda ops of src/ops (one op.cu beside each op.c). See backend_cuda.h.
 * Must not know about models or MPI. */
#include "backend/backend_cuda.h"

#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "ops/ops_cuda.h"

static void *cuda_alloc(size_t bytes) {
    void *p = NULL;
    size_t n = bytes ? bytes : 64;
    cudaError_t e = cudaMalloc(&p, n);
    if (e != cudaSuccess) {
        size_t free_b = 0, total_b = 0;
        (void)cudaGetLastError();
        if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) (void)cudaGetLastError();
        tf_die_hint("lower the batch size (trainer.micro_batch), or TF_CUDA_IM2COL_MB for convolution scratch",
                    "cudaMalloc of %zu bytes failed on device %d: %s (%zu of %zu MiB free)", n,
                    tf_cuda_ctx_device(), cudaGetErrorString(e), free_b >> 20, total_b >> 20);
    }
    TF_CUDA_CHECK(cudaMemsetAsync(p, 0, n, tf_cuda_stream()));
    TF_CUDA_CHECK(cudaStreamSynchronize(tf_cuda_stream()));
    return p;
}

static void cuda_release(void *p) {
    if (p) TF_CUDA_CHECK(cudaFree(p));
}

static void cuda_zero(void *p, size_t bytes) {
    if (p && bytes) TF_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, tf_cuda_stream()));
}

/* Pinned (page-locked) host memory is read by DMA after cudaMemcpyAsync returns; pageable memory
 * is staged before it returns. Only the first needs a wait before the caller may reuse it. */
static int is_pinned_host(const void *p) {
    struct cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return a.type == cudaMemoryTypeHost;
}

static void cuda_upload(void *dst, const void *src, size_t bytes) {
    if (!bytes || dst == src) return;
    TF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, tf_cuda_stream()));
    if (is_pinned_host(src)) TF_CUDA_CHECK(cudaStreamSynchronize(tf_cuda_stream()));
}

static void cuda_download(void *dst, const void *src, size_t bytes) {
    if (!bytes || dst == src) return;
    TF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, tf_cuda_stream()));
    tf_cuda_check_errors(); /* synchronises the stream, then reads the ops' error word */
}

static void cuda_sync(void) { tf_cuda_check_errors(); }

static TfBackend g_cuda = {
    .name = "cuda",
    .alloc = cuda_alloc,
    .release = cuda_release,
    .zero = cuda_zero,
    .upload = cuda_upload,
    .download = cuda_download,
    .sync = cuda_sync,
    .threads = TF_CUDA_ATTN_CHUNK,
    .ops = {
        .conv2d_plan = tf_conv2d_plan_cuda, .conv2d_unplan = tf_conv2d_unplan_cuda,
        .conv2d_impl_name = tf_conv2d_impl_name_cuda,
        .conv2d_fwd = tf_conv2d_fwd_cuda, .conv2d_bwd = tf_conv2d_bwd_cuda,
        .linear_fwd = tf_linear_fwd_cuda, .linear_bwd = tf_linear_bwd_cuda,
        .groupnorm_fwd = tf_groupnorm_fwd_cuda, .groupnorm_bwd = tf_groupnorm_bwd_cuda,
        .silu_fwd = tf_silu_fwd_cuda, .silu_bwd = tf_silu_bwd_cuda,
        .add_fwd = tf_add_fwd_cuda, .add_bwd = tf_add_bwd_cuda,
        .bcast_fwd = tf_bcast_fwd_cuda, .bcast_bwd = tf_bcast_bwd_cuda,
        .concat_fwd = tf_concat_fwd_cuda, .concat_bwd = tf_concat_bwd_cuda,
        .upsample2_fwd = tf_upsample2_fwd_cuda, .upsample2_bwd = tf_upsample2_bwd_cuda,
        .avgpool_fwd = tf_avgpool_fwd_cuda, .avgpool_bwd = tf_avgpool_bwd_cuda,
        .maxpool_fwd = tf_maxpool_fwd_cuda, .maxpool_bwd = tf_maxpool_bwd_cuda,
        .attention_fwd = tf_attention_fwd_cuda, .attention_bwd = tf_attention_bwd_cuda,
        .nchw_to_nhwc = tf_nchw_to_nhwc_cuda, .nhwc_to_nchw = tf_nhwc_to_nchw_cuda,
        .timestep_embed_fwd = tf_timestep_embed_fwd_cuda,
        .embedding_fwd = tf_embedding_fwd_cuda, .embedding_bwd = tf_embedding_bwd_cuda,
        .dropout_fwd = tf_dropout_fwd_cuda, .dropout_bwd = tf_dropout_bwd_cuda,
    },
};

int tf_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

const TfBackend *tf_backend_cuda(int device) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n <= 0) {
        (void)cudaGetLastError();
        tf_die_hint("check nvidia-smi, CUDA_VISIBLE_DEVICES and the driver; or train on the CPU backend",
                    "CUDA backend: no GPU visible (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    }
    if (device < 0) tf_die("CUDA backend: device index %d is negative", device);
    tf_cuda_ctx_init(device % n);
    return &g_cuda;
}

int tf_backend_cuda_device(void) { return tf_cuda_ctx_device(); }
cudaStream_t tf_backend_cuda_stream(void) { return tf_cuda_stream(); }
void tf_backend_cuda_set_tf32(int on) { tf_cuda_set_tf32(on); }

const char *tf_cuda_describe_devices(char *buf, size_t size) {
    int n = 0, drv = 0, rt = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (cudaRuntimeGetVersion(&rt) != cudaSuccess) (void)cudaGetLastError();
    if (e != cudaSuccess || n == 0) {
        (void)cudaGetLastError();
        snprintf(buf, size, "no GPU visible (%s; CUDA runtime %d.%d)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices", rt / 1000, rt % 1000 / 10);
        return buf;
    }
    if (cudaDriverGetVersion(&drv) != cudaSuccess) (void)cudaGetLastError();
    size_t used = (size_t)snprintf(buf, size, "%d device(s), driver %d.%d, runtime %d.%d", n, drv / 1000,
                                   drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
    for (int i = 0; i < n && used < size; i++) {
        struct cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
            (void)cudaGetLastError();
            used += (size_t)snprintf(buf + used, size - used, "\n    [%d] (properties unavailable)", i);
            continue;
        }
        used += (size_t)snprintf(buf + used, size - used, "\n    [%d] %s, sm_%d%d, %d SMs, %.1f GiB", i, p.name,
                                 p.major, p.minor, p.multiProcessorCount,
                                 (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    }
    return buf;
}
