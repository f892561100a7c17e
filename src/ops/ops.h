/* ops.h - the CPU ops: forward/backward pairs over explicit buffers.
 *
 * Conventions (every op follows them; the CUDA versions keep the same names
 * and argument order in op.cu files beside these):
 *   - Dimension letters: B batch, C channels, H/W height/width, N = H*W
 *     positions, K kernel size, G groups, D features, T time-embedding width.
 *   - Tensors are fp32, NCHW (images) or row-major [B, D] (vectors).
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

/* ---- conv2d: y[B,Co,Ho,Wo] = w[Co,Ci,K,K] * x[B,Ci,H,W] + b[Co] ------------------------------- */
typedef struct {
    int B, Ci, H, W, Co, K, stride, pad, Ho, Wo;
    int threads; /* OpenMP threads the scratch was sized for (set by tf_conv_shape) */
} TfConvShape;
TfConvShape tf_conv_shape(int B, int Ci, int H, int W, int Co, int K, int stride, int pad);
size_t tf_conv2d_scratch(const TfConvShape *s, int threads); /* floats */
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
 * mean/rstd [B*G] are saved for backward; with silu the pre-activation is recomputed.
 * dx may be NULL. */
void tf_groupnorm_fwd(int B, int C, int N, int G, float eps, int silu, const float *x,
                      const float *gamma, const float *beta, float *y, float *mean, float *rstd);
void tf_groupnorm_bwd(int B, int C, int N, int G, int silu, const float *x, const float *gamma,
                      const float *beta, const float *mean, const float *rstd, const float *dy,
                      float *dx, int acc, float *dgamma, float *dbeta);

/* ---- elementwise --------------------------------------------------------------------------- */
void tf_silu_fwd(size_t n, const float *x, float *y);
void tf_silu_bwd(size_t n, const float *x, const float *dy, float *dx, int acc);
/* y = a + b, same shape. */
void tf_add_fwd(size_t n, const float *a, const float *b, float *y);
void tf_add_bwd(size_t n, const float *dy, float *da, int acc_a, float *db, int acc_b);
/* Broadcast over positions: y[b,c,n] = x[b,c,n] (+ or *) v[b,c]; mul=0 adds, mul=1 multiplies. */
void tf_bcast_fwd(int B, int C, int N, int mul, const float *x, const float *v, float *y);
void tf_bcast_bwd(int B, int C, int N, int mul, const float *x, const float *v, const float *dy,
                  float *dx, int acc_x, float *dv, int acc_v);

/* ---- layout ops ---------------------------------------------------------------------------- */
/* y[B, Ca+Cb, N] = concat(a[B,Ca,N], b[B,Cb,N]) along channels. */
void tf_concat_fwd(int B, int Ca, int Cb, int N, const float *a, const float *b, float *y);
void tf_concat_bwd(int B, int Ca, int Cb, int N, const float *dy, float *da, int acc_a, float *db,
                   int acc_b);
/* Nearest-neighbour upsampling by 2: y[B,C,2H,2W]. */
void tf_upsample2_fwd(int B, int C, int H, int W, const float *x, float *y);
void tf_upsample2_bwd(int B, int C, int H, int W, const float *dy, float *dx, int acc);
/* Pooling (window K, stride S, no padding): avg and max. idx[B*C*Ho*Wo] keeps the argmax. */
void tf_avgpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y);
void tf_avgpool_bwd(int B, int C, int H, int W, int K, int S, const float *dy, float *dx, int acc);
void tf_maxpool_fwd(int B, int C, int H, int W, int K, int S, const float *x, float *y, int32_t *idx);
void tf_maxpool_bwd(int B, int C, int H, int W, int K, int S, const int32_t *idx, const float *dy,
                    float *dx, int acc);

/* ---- attention over positions --------------------------------------------------------------
 * qkv[B, 3C, N] (q, k, v blocks of C channels, each split into `heads` contiguous chunks of
 * d = C/heads); out[B, C, N]; P[B, heads, N, N] softmax weights saved for backward;
 * scale = 1/sqrt(d). */
size_t tf_attention_scratch(int N, int threads); /* floats */
void tf_attention_fwd(int B, int C, int N, int heads, const float *qkv, float *out, float *P);
void tf_attention_bwd(int B, int C, int N, int heads, const float *qkv, const float *P,
                      const float *dout, float *dqkv, int acc, float *scratch);

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
