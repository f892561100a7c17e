/* ops.h - the CPU ops: forward/backward pairs over explicit buffers.
 *
 * Conventions (every op follows them; the CUDA versions keep the same names
 * and argument order in op.cu files beside these):
 *   - Dimension letters: B batch, C channels, H/W height/width, N = H*W
 *     positions, K kernel size, G groups, D features, T time-embedding width.
 *   - Tensors are fp32. Feature maps are CHANNELS-LAST, [B, H, W, C] (NHWC),
 *     the layout oneDNN's fastest CPU convolutions and GPU tensor cores want;
 *     a model converts from/to the user's NCHW at its input and output only.
 *     Vectors are row-major [B, D]. Parameters keep PyTorch's layouts
 *     (conv weight [Co, Ci, K, K], linear weight [Do, Di]).
 *   - Nothing allocates. Scratch space an op needs is passed in; its size
 *     comes from the op's *_scratch() function, computed once at model build.
 *   - Backward ACCUMULATES into parameter gradients (dw += ...). For the input
 *     gradient, `acc` says whether to add to dx (1) or overwrite it (0): the
 *     tape plans this at build time so no activation gradient is ever zeroed.
 *   - Threads: ops parallelise with OpenMP over the batch (or rows); results
 *     are deterministic for a given thread count (fixed static schedules and
 *     fixed-order reductions, no atomics).
 * This file must not know about models, tapes, files or MPI.
 */
#ifndef TF_OPS_H
#define TF_OPS_H

#include <stddef.h>
#include <stdint.h>

/* ---- conv2d: y[B,Ho,Wo,Co] = w[Co,Ci,K,K] * x[B,H,W,Ci] + b[Co] ------------------------------- */
typedef struct {
    int B, Ci, H, W, Co, K, stride, pad, Ho, Wo;
    int threads;  /* OpenMP threads the scratch was sized for (set by tf_conv_shape) */
    void *impl;   /* provider plan (oneDNN primitives) made by tf_conv2d_plan, or NULL */
} TfConvShape;
TfConvShape tf_conv_shape(int B, int Ci, int H, int W, int Co, int K, int stride, int pad);
/* Choose and prepare the implementation once (at model build): oneDNN primitives when built
 * with oneDNN (unless TF_CONV=im2col), else im2col + GEMM. Returns the scratch floats needed. */
size_t tf_conv2d_plan(TfConvShape *s);
void tf_conv2d_unplan(TfConvShape *s);
const char *tf_conv2d_impl_name(const TfConvShape *s);
void tf_conv2d_fwd(const TfConvShape *s, const float *x, const float *w, const float *b, float *y,
                   float *scratch);
/* dx may be NULL (input needs no gradient). */
void tf_conv2d_bwd(const TfConvShape *s, const float *x, const float *w, const float *dy, float *dx,
                   int acc, float *dw, float *db, float *scratch);

/* ---- linear: y[B,Do] = x[B,Di] w[Do,Di]^T + b[Do] (PyTorch layout) ---------------------------- */
void tf_linear_fwd(int B, int Di, int Do, const float *x, const float *w, const float *b, float *y);
void tf_linear_bwd(int B, int Di, int Do, const float *x, const float *w, const float *dy, float *dx,
                   int acc, float *dw, float *db);

/* ---- group norm (+ optional fused SiLU): y = act(gamma * (x - mu) * rstd + beta) --------------
 * x, y [B, N, C] (channels-last); mean/rstd [B*G] are saved for backward; with silu the
 * pre-activation is recomputed. Backward needs scratch of tf_groupnorm_scratch() floats
 * (per-sample channel sums, reduced over samples in order: deterministic). dx may be NULL.
 * C <= TF_GN_MAX_CHANNELS. */
#define TF_GN_MAX_CHANNELS 4096
size_t tf_groupnorm_scratch(int B, int C);
void tf_groupnorm_fwd(int B, int C, int N, int G, float eps, int silu, const float *x,
                      const float *gamma, const float *beta, float *y, float *mean, float *rstd);
void tf_groupnorm_bwd(int B, int C, int N, int G, int silu, const float *x, const float *gamma,
                      const float *beta, const float *mean, const float *rstd, const float *dy,
                      float *dx, int acc, float *dgamma, float *dbeta, float *scratch);

/* ---- elementwise --------------------------------------------------------------------------- */
void tf_silu_fwd(size_t n, const float *x, float *y);
void tf_silu_bwd(size_t n, const float *x, const float *dy, float *dx, int acc);
/* y = a + b, same shape. */
void tf_add_fwd(size_t n, const float *a, const float *b, float *y);
void tf_add_bwd(size_t n, const float *dy, float *da, int acc_a, float *db, int acc_b);
/* Broadcast over positions: y[b,n,c] = x[b,n,c] (+ or *) v[b,c]; mul=0 adds, mul=1 multiplies. */
void tf_bcast_fwd(int B, int C, int N, int mul, const float *x, const float *v, float *y);
void tf_bcast_bwd(int B, int C, int N, int mul, const float *x, const float *v, const float *dy,
                  float *dx, int acc_x, float *dv, int acc_v);

/* ---- layout ops ---------------------------------------------------------------------------- */
/* y[B, N, Ca+Cb] = concat(a[B,N,Ca], b[B,N,Cb]) along channels. */
void tf_concat_fwd(int B, int Ca, int Cb, int N, const float *a, const float *b, float *y);
void tf_concat_bwd(int B, int Ca, int Cb, int N, const float *dy, float *da, int acc_a, float *db,
                   int acc_b);
/* Nearest-neighbour upsampling by 2: y[B,2H,2W,C]. */
void tf_upsample2_fwd(int B, int C, int H, int W, const float *x, float *y);
void tf_upsample2_bwd(int B, int C, int H, int W, const float *dy, float *dx, int acc);
/* Pooling (window K, stride S, no padding): avg and max. idx[B*Ho*Wo*C] keeps the argmax. */
void tf_avgpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y);
void tf_avgpool_bwd(int B, int C, int H, int W, int K, int S, const float *dy, float *dx, int acc);
void tf_maxpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y, int32_t *idx);
void tf_maxpool_bwd(int B, int C, int H, int W, int K, int S, const int32_t *idx, const float *dy,
                    float *dx, int acc);

/* ---- attention over positions --------------------------------------------------------------
 * qkv[B, N, 3C] (per position: q, k, v blocks of C channels, each split into `heads`
 * contiguous chunks of d = C/heads); out[B, N, C]; P[B, heads, N, N] softmax weights saved
 * for backward; scale = 1/sqrt(d). */
size_t tf_attention_scratch(int N, int threads); /* floats */
void tf_attention_fwd(int B, int C, int N, int heads, const float *qkv, float *out, float *P);
void tf_attention_bwd(int B, int C, int N, int heads, const float *qkv, const float *P,
                      const float *dout, float *dqkv, int acc, float *scratch);

/* ---- layout: y[B,H,W,C] <-> x[B,C,H,W] (each is the other's backward) ------------------------ */
void tf_nchw_to_nhwc(int B, int C, int N, const float *x, float *y, int acc);
void tf_nhwc_to_nchw(int B, int C, int N, const float *x, float *y, int acc);

/* ---- embeddings ---------------------------------------------------------------------------- */
/* out[B, D]: first half sin(scale*t*f_i), second half cos, f_i = exp(-ln(max_period) i/(D/2)). */
void tf_timestep_embed_fwd(int B, int D, float scale, float max_period, const float *t, float *out);
/* out[b] = table[labels[b]]; labels must be in [0, rows). dtable accumulates. */
void tf_embedding_fwd(int B, int D, int rows, const int32_t *labels, const float *table, float *out);
void tf_embedding_bwd(int B, int D, int rows, const int32_t *labels, const float *dout, float *dtable);

/* ---- dropout: keyed mask, regenerated in backward (nothing stored) -------------------------
 * Element i of sample b keeps with prob 1-p from core/rng (seed, TF_STREAM_DROPOUT, step,
 * sample0+b, salt*per_sample + i) and is scaled by 1/(1-p). */
void tf_dropout_fwd(int B, size_t per_sample, float p, uint64_t seed, uint64_t step, uint64_t sample0,
                    uint32_t salt, const float *x, float *y);
void tf_dropout_bwd(int B, size_t per_sample, float p, uint64_t seed, uint64_t step, uint64_t sample0,
                    uint32_t salt, const float *dy, float *dx, int acc);

/* ---- losses: the mean is over `denom` elements (the trainer passes the GLOBAL count so the
 * gradients of all ranks sum to the gradient of the global mean) ----------------------------- */
/* Returns sum((pred-target)^2) / denom (in double); dpred = 2 (pred-target) / denom. */
double tf_mse_fwd(size_t n, const float *pred, const float *target, double denom);
void tf_mse_bwd(size_t n, const float *pred, const float *target, double denom, float *dpred, int acc);
/* Softmax cross-entropy over K classes; probs[B,K] saved. Returns sum of -log p[label] / denom. */
double tf_xent_fwd(int B, int K, const float *logits, const int32_t *labels, float *probs,
                   double denom);
void tf_xent_bwd(int B, int K, const float *probs, const int32_t *labels, double denom, float *dlogits,
                 int acc);

#endif
