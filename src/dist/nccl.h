/* nccl.h - NCCL for data-parallel training on GPUs (src/dist/nccl.c, built when CUDA and NCCL
 * are found: TF_HAVE_NCCL). The communicator is made once from an MPI communicator (rank 0's
 * ncclUniqueId is broadcast over MPI, then ncclCommInitRank); collectives run on a stream of
 * their own, ordered after the caller's stream by an event and before the caller's later work
 * by another, so a gradient allreduce never makes the host wait.
 * Call tf_nccl_init after the CUDA backend picked this rank's device (tf_backend_cuda(local
 * rank)): the communicator binds the device that is current then.
 * Every CUDA, NCCL and MPI call is checked; a failure dies through tf_die_at with file:line,
 * this rank and the world size in the message (and the dist layer's abort hook ends the job).
 * This file must not know about models, tapes, the backend table or files.
 */
#ifndef TF_DIST_NCCL_H
#define TF_DIST_NCCL_H

#include <stddef.h>

#include <cuda_runtime_api.h>
#include <mpi.h>

/* Collective over `comm`: every rank of it must call. Once per process. */
void tf_nccl_init(MPI_Comm comm);
/* 1 after tf_nccl_init. */
int tf_nccl_ready(void);
/* In-place sum of n floats of device memory over all ranks. Ordered after the work already
 * enqueued on `stream` and before anything enqueued on it afterwards; returns at once. */
void tf_nccl_allreduce_sum(float *dev, size_t n, cudaStream_t stream);
/* Die if the communicator has reported an asynchronous error (a peer died, a network fault). */
void tf_nccl_check_async(void);
/* Finish outstanding collectives and destroy the communicator. Safe to call twice. */
void tf_nccl_finalize(void);
/* "NCCL 2.28.x" (the library's version at run time). */
const char *tf_nccl_version(void);

#endif
