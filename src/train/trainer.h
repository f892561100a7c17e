/* trainer.h - data-parallel flow-matching training and sampling from a checkpoint.
 *
 * Every rank holds a model replica, computes the loss and gradients of its share of each
 * GLOBAL batch (with gradient accumulation over micro-batches), the gradients are summed
 * with MPI_Allreduce (the loss denominators are global counts, so the sum is the gradient
 * of the global mean), and every rank applies the same clipped Adam/AdamW step and EMA.
 * Rank 0 coordinates: checkpoints, evaluation grids, tracking. docs/training.md describes
 * the run directory, resume, signals, the watchdog and the determinism guarantees.
 * MPI must be initialised (dist/dist.h) before these are called; a plain process is a
 * world of one. This file must not know about the command line.
 */
#ifndef TF_TRAIN_TRAINER_H
#define TF_TRAIN_TRAINER_H

#include <stdint.h>

#include "config/config.h"
#include "flow/grid.h"
#include "flow/solver.h"
#include "flow/velocity.h"

/* Train as the config says, writing into run_dir (the same path on every rank).
 * Returns the exit code: 0 (done, or stopped by SIGTERM/SIGUSR1 after a checkpoint),
 * 1 (too many non-finite steps in a row). Other failures end the job through tf_die. */
int tf_train_run(const TfCfg *cfg, const char *run_dir);

/* `tinyflow sample`: load the checkpoint named by trainer.resume (a file, a checkpoint
 * directory or a run directory), draw eval.n_samples samples with the configured solver,
 * steps and guidance (EMA weights when eval.use_ema), and write run_dir/samples.png (the
 * eval grid) and run_dir/samples.npy (float32 [n, C, H, W], or [n, 2] for toy data).
 * Rank 0 only; other ranks return 0. */
int tf_sample_run(const TfCfg *cfg, const char *run_dir);

/* ---- the FID hook ---------------------------------------------------------------------------
 * The evaluation issue (src/eval/fid*) fills this in. Until it is set, training logs no FID
 * (never a made-up number): the trainer calls the hook at each evaluation when it is set and
 * eval.fid_samples > 0, and logs its value as "fid". */
typedef struct {
    const TfVelocityModel *model; /* the guided field with the evaluation weights loaded */
    const TfSolverOpts *solver;
    const TfGrid *grid;
    int num_classes;              /* 0: unconditional; labels are then NULL */
    int64_t n_samples;            /* eval.fid_samples */
    uint64_t seed;                /* trainer.seed: key the noise with it (TF_STREAM_SAMPLE) */
    int64_t step;                 /* training step being evaluated */
    const char *dataset, *root;   /* the reference data */
    int channels, height, width;
} TfEvalRequest;
/* Returns 0 and *value, or -1 (the trainer logs a warning and no value). */
typedef int (*TfEvalHook)(void *ctx, const TfEvalRequest *req, double *value);
/* NULL (the default) turns FID off. */
void tf_train_set_fid_hook(TfEvalHook hook, void *ctx);

#endif
