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
 * The trainer knows no metric: the command line installs a hook (src/cli/cmd_train.c, which
 * glues src/eval's FID in). Until one is set, training logs no FID (never a made-up number).
 * When a hook is set and eval.fid_samples > 0, EVERY rank calls it at each evaluation step, in
 * the same order (it is collective: each rank generates its share of the samples and the
 * statistics are reduced across ranks), with the evaluation weights (EMA when eval.use_ema)
 * loaded into `model`. Rank 0 logs the values it returns through the tracker (metrics.jsonl,
 * MLflow, TensorBoard, report.html). The hook calls `progress` between chunks of samples: the
 * trainer re-arms its watchdog there (trainer.eval_timeout per chunk), so a long FID never
 * trips it on any rank. */
typedef struct {
    const TfVelocityModel *model; /* the guided field with the evaluation weights loaded */
    const TfSolverOpts *solver;
    const TfGrid *grid;
    int num_classes;              /* 0: unconditional; labels are then NULL */
    int64_t n_samples;            /* eval.fid_samples (over all ranks together) */
    uint64_t seed;                /* trainer.seed: key the noise with it (TF_STREAM_SAMPLE) */
    int64_t step;                 /* training step being evaluated */
    const char *dataset, *root;   /* the reference data */
    int channels, height, width;
    int rank, world;              /* this rank and the world size of the run */
    void (*progress)(void *progress_ctx, int64_t done, int64_t total); /* this rank's samples done */
    void *progress_ctx;
} TfEvalRequest;

#define TF_EVAL_MAX_VALUES 8
/* Named results ("fid", "kid", "class_acc", ...); only finite values are logged. */
typedef struct {
    int n;
    const char *keys[TF_EVAL_MAX_VALUES]; /* static strings */
    double values[TF_EVAL_MAX_VALUES];
} TfEvalValues;
/* Returns 0 and out (the same on every rank), or -1 on every rank alike (the trainer logs a
 * warning and no value). */
typedef int (*TfEvalHook)(void *ctx, const TfEvalRequest *req, TfEvalValues *out);
/* NULL (the default) turns FID off. Set the same hook on every rank before tf_train_run. */
void tf_train_set_fid_hook(TfEvalHook hook, void *ctx);

#endif
