/* dist.h - the MPI layer of data-parallel training.
 *
 * Start-up (MPI_Init_thread), world and node ranks (MPI_Comm_split_type shared), the
 * cores each rank may use (its sched_getaffinity mask, shared among the ranks of its node
 * that have the same cores), checked collectives on flat host arrays (broadcast, sums,
 * maxima, gathers), the tf_die -> MPI_Abort hook, and MPI_Finalize.
 * Every MPI call is checked: the world communicator returns errors (MPI_ERRORS_RETURN) and a
 * failing call ends the job through tf_die, whose hook calls MPI_Abort, so no rank is left
 * waiting for a peer. Large arrays are moved in chunks of at most 2^30 elements (MPI counts
 * are ints).
 * This file must not know about models, configs, files or what the arrays hold.
 */
#ifndef TF_DIST_DIST_H
#define TF_DIST_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h"

typedef struct {
    int mpi;                     /* 1 when MPI is initialised (0: a plain process, a world of one) */
    int rank, world;             /* MPI_COMM_WORLD */
    int local_rank, local_size;  /* the ranks on this node */
    int thread_level;            /* MPI_THREAD_* that MPI provides */
    int multiple;                /* 1 when MPI_THREAD_MULTIPLE (the watchdog may call MPI_Abort) */
    int cpus_allowed;            /* CPUs in this rank's affinity mask */
    int cpu_share;               /* cores for this rank: sum over its CPUs of 1 / (ranks of the node
                                  * whose mask holds that CPU), rounded down, at least 1 */
    char host[256];
} TfDist;

/* Initialise MPI (once; later calls return the same state), install the abort hook when
 * world > 1 and tell core/check.h the rank. Dies with a usage error when a launcher asked
 * for several tasks but MPI sees one (e.g. srun without --mpi=pmix: N singletons).
 * Without a launcher's variables in the environment (OMPI_COMM_WORLD_SIZE, PMI_*, PMIX_*,
 * SLURM_STEP_NUM_TASKS, ...) MPI is not initialised at all: a plain process is a world of
 * one and every collective is a no-op (TINYFLOW_MPI=1 initialises MPI anyway). */
const TfDist *tf_dist_init(int *argc, char ***argv);
/* The state (NULL before tf_dist_init). */
const TfDist *tf_dist_get(void);
/* 1 between tf_dist_init and tf_dist_finalize when MPI is initialised. */
int tf_dist_active(void);
/* MPI_Finalize (after a barrier-free return of every rank). Safe to call twice. */
void tf_dist_finalize(void);
/* End the whole job now with this exit code (MPI_Abort when world > 1, else _exit). */
TF_NORETURN void tf_dist_abort(int code);

/* Collectives over MPI_COMM_WORLD; every rank must call them in the same order. */
void tf_dist_bcast(void *buf, size_t bytes, int root);
void tf_dist_allreduce_sum_f32(float *buf, size_t n);   /* in place */
void tf_dist_allreduce_sum_f64(double *buf, int n);     /* in place */
void tf_dist_allreduce_max_i32(int *buf, int n);        /* in place */
void tf_dist_allreduce_minmax_u64(uint64_t v, uint64_t *min, uint64_t *max);
/* recv[r * bytes_each ..] = rank r's send (bytes_each the same on every rank). */
void tf_dist_allgather(const void *send, size_t bytes_each, void *recv);
void tf_dist_barrier(void);

#endif
