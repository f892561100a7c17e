/* ops_cuda.h - the CUDA ops: the forward/backward pairs of ops.h with the SAME argument order
 * and meaning, names suffixed _cuda, every buffer in device memory; the device context they
 * share (one device, one stream, one cuBLAS handle with a workspace it owns); the row-major
 * cuBLAS GEMM; the device-side losses; and the error checks every CUDA and cuBLAS call goes
 * through (file:line, rank and device in the message, via core/check.h's tf_die_at).
 *
 * Conventions beyond ops.h:
 *   - Every op is enqueued on tf_cuda_stream() and returns without waiting for the device;
 *     nothing here synchronises with the host (the losses leave their value in device memory).
 *   - Deterministic: no atomics in any sum. Reductions are per-block partials combined in a
 *     fixed order (shared-memory trees of fixed shape, then sequential sums over blocks), and
 *     cuBLAS runs with atomics disallowed on one stream with a workspace of our own, so two
 *     runs on the same GPU model, driver and toolkit give bitwise identical results.
 *   - FP32 throughout; TF32 tensor-core GEMMs only when asked (tf_cuda_set_tf32(1) or
 *     TF_CUDA_TF32=1 in the environment). Default off, for exactness.
 *   - Data an op cannot validate without a host round trip (labels out of range) is reported
 *     through a device error word that tf_cuda_check_errors() reads (the backend's sync does).
 * This file must not know about models, tapes, the backend table, files or MPI.
 */
#ifndef TF_OPS_CUDA_H
#define TF_OPS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "ops/ops.h"

/* ---- errors: every CUDA / cuBLAS call is wrapped; a failure dies naming file:line --------- */
void tf_cuda_fail(const char *file, int line, int err, const char *expr);
void tf_cublas_fail(const char *file, int line, int status, const char *expr);
/* After a kernel launch: cudaGetLastError(); with TF_CUDA_SYNC=1 also synchronise the stream
 * so an asynchronous fault is reported at the kernel that caused it. */
void tf_cuda_check_launch(const char *file, int line, const char *kernel);
#define TF_CUDA_CHECK(call)                                                                   \
    do {                                                                                      \
        cudaError_t tf_e_ = (call);                                                           \
        if (tf_e_ != cudaSuccess) tf_cuda_fail(__FILE__, __LINE__, (int)tf_e_, #call);        \
    } while (0)
#define TF_CUBLAS_CHECK(call)                                                                 \
    do {                                                                                      \
        cublasStatus_t tf_s_ = (call);                                                        \
        if (tf_s_ != CUBLAS_STATUS_SUCCESS) tf_cublas_fail(__FILE__, __LINE__, (int)tf_s_, #call); \
    } while (0)
#define TF_CUDA_LAUNCHED(kernel) tf_cuda_check_launch(__FILE__, __LINE__, kernel)

/* ---- the device context ---------------------------------------------------------------- */
/* Attention backward processes (sample, head) pairs in chunks of this many; the CUDA backend
 * reports it as its `threads`, so the tape sizes attention scratch as N*N*TF_CUDA_ATTN_CHUNK. */
#define TF_CUDA_ATTN_CHUNK 128
/* Select `device` (an index < cudaGetDeviceCount) for this process, create the stream, the
 * cuBLAS handle, its workspace (TF_CUBLAS_WORKSPACE_MB, default 32) and the error word. Once
 * per process; a second call with the same device is a no-op, another device dies. */
void tf_cuda_ctx_init(int device);
void tf_cuda_ctx_shutdown(void);
int tf_cuda_ctx_device(void); /* -1 before init */
cudaStream_t tf_cuda_stream(void);
cublasHandle_t tf_cuda_blas(void);
/* TF32 tensor-core math for the fp32 GEMMs (cublasSetMathMode). Default off. */
void tf_cuda_set_tf32(int on);
int tf_cuda_tf32(void);
/* Die with the first error a kernel reported through the error word (a label out of range),
 * if any. Synchronises the stream (call it where the host waits anyway). */
void tf_cuda_check_errors(void);
/* The device error word: kernels store {code, a, b, c} (first writer wins). */
int *tf_cuda_error_word(void);
enum { TF_CUDA_ERR_NONE = 0, TF_CUDA_ERR_EMBED_LABEL = 1, TF_CUDA_ERR_XENT_LABEL = 2 };

/* Row-major C = alpha op(A) op(B) + beta C, exactly tf_sgemm's contract, on the stream. */
void tf_cuda_sgemm_at(const char *file, int line, int trans_a, int trans_b, int M, int N, int K,
                      float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                      float *C, int ldc);
/* `count` such products, A/B/C advanced by sa/sb/sc floats between them. */
void tf_cuda_sgemm_strided_at(const char *file, int line, int trans_a, int trans_b, int M, int N,
                              int K, float alpha, const float *A, int lda, long long sa,
                              const float *B, int ldb, long long sb, float beta, float *C, int ldc,
                              long long sc, int count);
#define tf_cuda_sgemm(...) tf_cuda_sgemm_at(__FILE__, __LINE__, __VA_ARGS__)
#define tf_cuda_sgemm_strided(...) tf_cuda_sgemm_strided_at(__FILE__, __LINE__, __VA_ARGS__)

/* ---- deterministic sums (reduce.cu) ------------------------------------------------------- */
/* out[b*C + c] (= or +=) sum_n a[b,n,c] (* w[b,n,c] when w != NULL), in double, fixed order. */
void tf_cuda_chansum(int B, int N, int C, const float *a, const float *w, float *out, int acc);
/* dst[c] (= or +=) src[0*ld + c] + src[1*ld + c] + ... + src[(R-1)*ld + c], in float, in order. */
void tf_cuda_rowsum(int R, int C, const float *src, size_t ld, float *dst, int acc);

/* ---- the ops (see ops.h for each contract) ------------------------------------------------ */
size_t tf_conv2d_plan_cuda(TfConvShape *s);
void tf_conv2d_unplan_cuda(TfConvShape *s);
const char *tf_conv2d_impl_name_cuda(const TfConvShape *s);
void tf_conv2d_fwd_cuda(const TfConvShape *s, const float *x, const float *w, const float *b,
                        float *y, float *scratch);
void tf_conv2d_bwd_cuda(const TfConvShape *s, const float *x, const float *w, const float *dy,
                        float *dx, int acc, float *dw, float *db, float *scratch);
void tf_linear_fwd_cuda(int B, int Di, int Do, const float *x, const float *w, const float *b, float *y);
void tf_linear_bwd_cuda(int B, int Di, int Do, const float *x, const float *w, const float *dy,
                        float *dx, int acc, float *dw, float *db);
void tf_groupnorm_fwd_cuda(int B, int C, int N, int G, float eps, int silu, const float *x,
                           const float *gamma, const float *beta, float *y, float *mean, float *rstd);
void tf_groupnorm_bwd_cuda(int B, int C, int N, int G, int silu, const float *x, const float *gamma,
                           const float *beta, const float *mean, const float *rstd, const float *dy,
                           float *dx, int acc, float *dgamma, float *dbeta, float *scratch);
void tf_silu_fwd_cuda(size_t n, const float *x, float *y);
void tf_silu_bwd_cuda(size_t n, const float *x, const float *dy, float *dx, int acc);
void tf_add_fwd_cuda(size_t n, const float *a, const float *b, float *y);
void tf_add_bwd_cuda(size_t n, const float *dy, float *da, int acc_a, float *db, int acc_b);
void tf_bcast_fwd_cuda(int B, int C, int N, int mul, const float *x, const float *v, float *y);
void tf_bcast_bwd_cuda(int B, int C, int N, int mul, const float *x, const float *v, const float *dy,
                       float *dx, int acc_x, float *dv, int acc_v);
void tf_concat_fwd_cuda(int B, int Ca, int Cb, int N, const float *a, const float *b, float *y);
void tf_concat_bwd_cuda(int B, int Ca, int Cb, int N, const float *dy, float *da, int acc_a,
                        float *db, int acc_b);
void tf_upsample2_fwd_cuda(int B, int C, int H, int W, const float *x, float *y);
void tf_upsample2_bwd_cuda(int B, int C, int H, int W, const float *dy, float *dx, int acc);
void tf_avgpool_fwd_cuda(int B, int C, int H, int W, int K, int S, const float *x, float *y);
void tf_avgpool_bwd_cuda(int B, int C, int H, int W, int K, int S, const float *dy, float *dx, int acc);
void tf_maxpool_fwd_cuda(int B, int C, int H, int W, int K, int S, const float *x, float *y, int32_t *idx);
void tf_maxpool_bwd_cuda(int B, int C, int H, int W, int K, int S, const int32_t *idx,
                         const float *dy, float *dx, int acc);
void tf_attention_fwd_cuda(int B, int C, int N, int heads, const float *qkv, float *out, float *P);
/* scratch: at least N*N*min(B*heads, TF_CUDA_ATTN_CHUNK) floats (tf_attention_scratch(N, chunk)). */
void tf_attention_bwd_cuda(int B, int C, int N, int heads, const float *qkv, const float *P,
                           const float *dout, float *dqkv, int acc, float *scratch);
void tf_nchw_to_nhwc_cuda(int B, int C, int N, const float *x, float *y, int acc);
void tf_nhwc_to_nchw_cuda(int B, int C, int N, const float *x, float *y, int acc);
void tf_timestep_embed_fwd_cuda(int B, int D, float scale, float max_period, const float *t, float *out);
/* A label outside [0, rows) gives a zero row and is reported by tf_cuda_check_errors(). */
void tf_embedding_fwd_cuda(int B, int D, int rows, const int32_t *labels, const float *table, float *out);
void tf_embedding_bwd_cuda(int B, int D, int rows, const int32_t *labels, const float *dout, float *dtable);
/* Bit-identical masks and values to the CPU op (same keyed Philox, no fused multiply-add). */
void tf_dropout_fwd_cuda(int B, size_t per_sample, float p, uint64_t seed, uint64_t step,
                         uint64_t sample0, uint32_t salt, const float *x, float *y);
void tf_dropout_bwd_cuda(int B, size_t per_sample, float p, uint64_t seed, uint64_t step,
                         uint64_t sample0, uint32_t salt, const float *dy, float *dx, int acc);

/* ---- losses (loss.cu): the value stays on the device --------------------------------------
 * *dev_loss (a device double) = (acc ? *dev_loss : 0) + sum(...) / denom, so micro-batch losses
 * add up without a host round trip. dev_partials: TF_CUDA_LOSS_PARTIALS device doubles (mse)
 * or at least B (xent). */
#define TF_CUDA_LOSS_PARTIALS 256
void tf_mse_fwd_cuda(size_t n, const float *pred, const float *target, double denom,
                     double *dev_loss, double *dev_partials, int acc);
void tf_mse_bwd_cuda(size_t n, const float *pred, const float *target, double denom, float *dpred, int acc);
void tf_xent_fwd_cuda(int B, int K, const float *logits, const int32_t *labels, float *probs,
                      double denom, double *dev_loss, double *dev_partials, int acc);
void tf_xent_bwd_cuda(int B, int K, const float *probs, const int32_t *labels, double denom,
                      float *dlogits, int acc);

#ifdef __cplusplus
}
#endif

#endif
