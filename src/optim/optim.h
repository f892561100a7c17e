/* optim.h - Adam/AdamW, gradient norm and clipping, and the EMA of weights,
 * each one pass over a flat arena (parameters, gradients, moments and EMA all
 * share the tape's parameter layout).
 * Reductions (the gradient norm) are summed in a fixed chunk order, so they are
 * bitwise identical for any thread count.
 * This file must not know about models, tapes, files or MPI.
 */
#ifndef TF_OPTIM_H
#define TF_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { TF_OPTIM_ADAM = 0, TF_OPTIM_ADAMW = 1 } TfOptimKind;

typedef struct {
    TfOptimKind kind;
    float beta1, beta2, eps, weight_decay;
} TfAdamConfig;

/* One update of n parameters at step t (1-based) with learning rate lr:
 *   Adam:  g += wd p;  AdamW: p -= lr wd p;  then the bias-corrected Adam step. */
void tf_adam_update(const TfAdamConfig *c, size_t n, float *param, const float *grad, float *m, float *v,
                    long t, float lr);

/* sqrt(sum g^2) in double, deterministic for any thread count. */
double tf_grad_norm(size_t n, const float *grad);
/* Scale gradients by s. */
void tf_scale(size_t n, float *x, float s);
/* 1 if every element is finite. */
int tf_all_finite(size_t n, const float *x);

/* EMA decay at update number k (0-based): min(decay, (1+k)/(10+k)) as in flow_matching's
 * image example; then ema = ema - (1-d)(ema - param). */
float tf_ema_decay(float decay, long k);
void tf_ema_update(size_t n, float *ema, const float *param, float d);

#endif
