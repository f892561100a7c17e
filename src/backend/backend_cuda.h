/* backend_cuda.h - the CUDA backend (src/backend/backend_cuda.c, built when TF_HAVE_CUDA):
 * the TfBackend of backend.h over device memory, binding the op.cu files of src/ops.
 *
 *   memory    alloc = cudaMalloc + zeroing (plain device memory, never managed); release =
 *             cudaFree; zero = cudaMemsetAsync on the backend's stream.
 *   copies    upload / download = cudaMemcpyAsync on the stream (cudaMemcpyDefault, so an
 *             upload between two device buffers is a device copy, as tape_run.c relies on);
 *             download waits for its data; upload returns once the host buffer may be reused.
 *   sync      cudaStreamSynchronize on the stream, then the ops' error word (labels out of
 *             range die here with the CPU op's message).
 *   threads   TF_CUDA_ATTN_CHUNK: only the tape's sizing of attention scratch reads it.
 * One process drives one device: the first call picks it, later calls return the same backend.
 * Call the backend from the host thread that created it (CUDA's current device is per thread).
 * This file must not know about models, files or MPI.
 */
#ifndef TF_BACKEND_CUDA_H
#define TF_BACKEND_CUDA_H

#include <stddef.h>

#include <cuda_runtime_api.h>

#include "backend/backend.h"

/* The CUDA backend on device (index mod the visible device count): the trainer passes its
 * local rank. Dies with a hint when no GPU is visible. */
const TfBackend *tf_backend_cuda(int device);
/* The device the backend runs on (-1 before tf_backend_cuda). */
int tf_backend_cuda_device(void);
/* The stream every CUDA op, copy and zeroing runs on (for optim_cuda.h and dist/nccl.h). */
cudaStream_t tf_backend_cuda_stream(void);
/* TF32 tensor-core GEMMs (default off: exact fp32). TF_CUDA_TF32=1 sets it at start-up. */
void tf_backend_cuda_set_tf32(int on);

/* Visible devices; 0 when there is no GPU or no usable driver (never dies, needs no backend). */
int tf_cuda_device_count(void);
/* A human-readable list of the visible devices (one line each, no trailing newline), or why
 * there are none. Returns buf. */
const char *tf_cuda_describe_devices(char *buf, size_t size);

#endif
