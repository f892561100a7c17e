/* optim_cuda.h - the optimizer passes of optim.h on device arenas (src/optim/adam.cu): Adam/
 * AdamW, gradient norm, clipping, scaling, the finiteness flag and the EMA, each one kernel
 * over a flat arena on the caller's stream (the CUDA backend's, tf_backend_cuda_stream()).
 * Same arithmetic as adam.c. Nothing here waits for the device: results that the host needs
 * (the norm, the finiteness flag) are left in device memory for the caller to read when it
 * synchronises anyway (where the loss is read).
 * Deterministic: the norm is TF_OPTIM_NORM_CHUNKS fixed index ranges summed in double by
 * fixed-shape block trees, then added in chunk order by one thread (no atomics).
 * This file must not know about models, tapes, files or MPI.
 */
#ifndef TF_OPTIM_CUDA_H
#define TF_OPTIM_CUDA_H

#include <stddef.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "optim/optim.h"

#define TF_OPTIM_NORM_CHUNKS 256

void tf_adam_update_cuda(const TfAdamConfig *c, size_t n, float *param, const float *grad, float *m, float *v,
                         long t, float lr, cudaStream_t stream);
/* *dev_norm = sqrt(sum g^2) (device double). dev_partials: TF_OPTIM_NORM_CHUNKS device doubles. */
void tf_grad_norm_cuda(size_t n, const float *grad, double *dev_norm, double *dev_partials, cudaStream_t stream);
/* If *dev_norm > max_norm: grad *= (float)(max_norm / (*dev_norm + 1e-6)), as the CPU trainer does. */
void tf_clip_by_norm_cuda(size_t n, float *grad, const double *dev_norm, double max_norm, cudaStream_t stream);
void tf_scale_cuda(size_t n, float *x, float s, cudaStream_t stream);
/* *dev_flag = 1 if every element is finite, else 0 (device int). dev_partials:
 * TF_OPTIM_NORM_CHUNKS device ints. */
void tf_all_finite_cuda(size_t n, const float *x, int *dev_flag, int *dev_partials, cudaStream_t stream);
void tf_ema_update_cuda(size_t n, float *ema, const float *param, float d, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
