/* backend.h - the one backend interface: memory, copies, sync, and the op table.
 *
 * A backend is a struct of function pointers (as Redis' rio or ggml's backend
 * interface). The tape, optimizer and trainer call ops only through it, so the
 * same model runs on the CPU (always built) or on CUDA (its op.cu files bind the
 * same table). The op signatures are those of ops/ops.h; all buffers passed to a
 * backend's ops live in that backend's memory.
 * This file must not know about models, files or MPI.
 */
#ifndef TF_BACKEND_H
#define TF_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

typedef struct {
    size_t (*conv2d_plan)(TfConvShape *);
    void (*conv2d_unplan)(TfConvShape *);
    const char *(*conv2d_impl_name)(const TfConvShape *);
    void (*conv2d_fwd)(const TfConvShape *, const float *, const float *, const float *, float *, float *);
    void (*conv2d_bwd)(const TfConvShape *, const float *, const float *, const float *, float *, int,
                       float *, float *, float *);
    void (*linear_fwd)(int, int, int, const float *, const float *, const float *, float *);
    void (*linear_bwd)(int, int, int, const float *, const float *, const float *, float *, int, float *,
                       float *);
    void (*groupnorm_fwd)(int, int, int, int, float, int, const float *, const float *, const float *,
                          float *, float *, float *);
    void (*groupnorm_bwd)(int, int, int, int, int, const float *, const float *, const float *,
                          const float *, const float *, const float *, float *, int, float *, float *,
                          float *);
    void (*silu_fwd)(size_t, const float *, float *);
    void (*silu_bwd)(size_t, const float *, const float *, float *, int);
    void (*add_fwd)(size_t, const float *, const float *, float *);
    void (*add_bwd)(size_t, const float *, float *, int, float *, int);
    void (*bcast_fwd)(int, int, int, int, const float *, const float *, float *);
    void (*bcast_bwd)(int, int, int, int, const float *, const float *, const float *, float *, int,
                      float *, int);
    void (*concat_fwd)(int, int, int, int, const float *, const float *, float *);
    void (*concat_bwd)(int, int, int, int, const float *, float *, int, float *, int);
    void (*upsample2_fwd)(int, int, int, int, const float *, float *);
    void (*upsample2_bwd)(int, int, int, int, const float *, float *, int);
    void (*avgpool_fwd)(int, int, int, int, int, int, const float *, float *);
    void (*avgpool_bwd)(int, int, int, int, int, int, const float *, float *, int);
    void (*maxpool_fwd)(int, int, int, int, int, int, const float *, float *, int32_t *);
    void (*maxpool_bwd)(int, int, int, int, int, int, const int32_t *, const float *, float *, int);
    void (*attention_fwd)(int, int, int, int, const float *, float *, float *);
    void (*attention_bwd)(int, int, int, int, const float *, const float *, const float *, float *, int,
                          float *);
    void (*nchw_to_nhwc)(int, int, int, const float *, float *, int);
    void (*nhwc_to_nchw)(int, int, int, const float *, float *, int);
    void (*timestep_embed_fwd)(int, int, float, float, const float *, float *);
    void (*embedding_fwd)(int, int, int, const int32_t *, const float *, float *);
    void (*embedding_bwd)(int, int, int, const int32_t *, const float *, float *);
    void (*dropout_fwd)(int, size_t, float, uint64_t, uint64_t, uint64_t, uint32_t, const float *, float *);
    void (*dropout_bwd)(int, size_t, float, uint64_t, uint64_t, uint64_t, uint32_t, const float *, float *,
                        int);
} TfOps;

typedef struct TfBackend {
    const char *name;                                   /* "cpu", "cuda" */
    void *(*alloc)(size_t bytes);                       /* zeroed, 64-byte aligned; dies on failure */
    void (*release)(void *p);                           /* NULL is fine */
    void (*zero)(void *p, size_t bytes);
    void (*upload)(void *dst, const void *host_src, size_t bytes);   /* host -> backend */
    void (*download)(void *host_dst, const void *src, size_t bytes); /* backend -> host */
    void (*sync)(void);
    int threads;                                        /* CPU threads the ops use */
    TfOps ops;
} TfBackend;

/* The CPU backend (always built). */
const TfBackend *tf_backend_cpu(void);

#endif
