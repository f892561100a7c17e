/* mpi_glue.h - what the CLI commands share to run under mpirun/srun: start-up and shut-down of
 * the dist layer around a job (MPI is initialised only under a launcher; a plain process is a
 * world of one), OpenMP threads per rank, and eval/'s TfReducer and the classifier trainer's
 * gradient reducer implemented with MPI_Allreduce, so src/eval never sees MPI.
 * Knows MPI, dist/, the job framework and eval/'s reducer types; nothing about what a command
 * computes. */
#ifndef TF_CLI_MPI_GLUE_H
#define TF_CLI_MPI_GLUE_H

#include <stddef.h>

#include "cli/job.h"
#include "config/config.h"
#include "eval/metrics.h"

/* tf_dist_init, tf_job_main(cmd), tf_dist_finalize. stop_signals: block SIGTERM/SIGUSR1 before
 * any thread starts (training's "checkpoint and stop"; dist/signals.h). */
int tf_cli_run_mpi(const TfJobCommand *cmd, int argc, char **argv, int stop_signals);

/* Threads per rank of an evaluation command: trainer.threads, else OMP_NUM_THREADS, else (under
 * MPI with world > 1) this rank's share of its node's cores; one process keeps OpenMP's default.
 * Returns the count chosen (0: left to OpenMP). */
int tf_cli_eval_threads(const TfCfg *cfg);

/* MPI's world (rank, size, in-place float64 SUM/MAX allreduce in chunks); world 1 without MPI. */
TfReducer tf_cli_reducer(void);

/* In-place float32 sum over all ranks (the classifier's gradient arena); ctx unused. */
void tf_cli_allreduce_f32(void *ctx, float *buf, size_t n);

/* Rank 0 prints and writes; the others stay quiet. */
int tf_cli_rank(void);

#endif
