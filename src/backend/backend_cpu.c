/* backend_cpu.c - the CPU backend: host memory and the ops of src/ops (one .c per op family).
 * Must not know about models or MPI. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/check.h"

static void *cpu_alloc(size_t bytes) { return tf_aligned_alloc(bytes); }
static void cpu_release(void *p) { free(p); }
static void cpu_zero(void *p, size_t bytes) { memset(p, 0, bytes); }
static void cpu_copy(void *dst, const void *src, size_t bytes) {
    if (dst != src) memcpy(dst, src, bytes);
}
static void cpu_sync(void) {}

static TfBackend g_cpu = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .release = cpu_release,
    .zero = cpu_zero,
    .upload = cpu_copy,
    .download = cpu_copy,
    .sync = cpu_sync,
    .ops = {
        .conv2d_plan = tf_conv2d_plan, .conv2d_unplan = tf_conv2d_unplan,
        .conv2d_impl_name = tf_conv2d_impl_name,
        .conv2d_fwd = tf_conv2d_fwd, .conv2d_bwd = tf_conv2d_bwd,
        .linear_fwd = tf_linear_fwd, .linear_bwd = tf_linear_bwd,
        .groupnorm_fwd = tf_groupnorm_fwd, .groupnorm_bwd = tf_groupnorm_bwd,
        .silu_fwd = tf_silu_fwd, .silu_bwd = tf_silu_bwd,
        .add_fwd = tf_add_fwd, .add_bwd = tf_add_bwd,
        .bcast_fwd = tf_bcast_fwd, .bcast_bwd = tf_bcast_bwd,
        .concat_fwd = tf_concat_fwd, .concat_bwd = tf_concat_bwd,
        .upsample2_fwd = tf_upsample2_fwd, .upsample2_bwd = tf_upsample2_bwd,
        .avgpool_fwd = tf_avgpool_fwd, .avgpool_bwd = tf_avgpool_bwd,
        .maxpool_fwd = tf_maxpool_fwd, .maxpool_bwd = tf_maxpool_bwd,
        .attention_fwd = tf_attention_fwd, .attention_bwd = tf_attention_bwd,
        .nchw_to_nhwc = tf_nchw_to_nhwc, .nhwc_to_nchw = tf_nhwc_to_nchw,
        .timestep_embed_fwd = tf_timestep_embed_fwd,
        .embedding_fwd = tf_embedding_fwd, .embedding_bwd = tf_embedding_bwd,
        .dropout_fwd = tf_dropout_fwd, .dropout_bwd = tf_dropout_bwd,
    },
};

const TfBackend *tf_backend_cpu(void) {
    g_cpu.threads = omp_get_max_threads();
    return &g_cpu;
}
