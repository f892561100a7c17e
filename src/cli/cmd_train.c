/* cmd_train.c - `tinyflow train` and `tinyflow sample`: MPI start-up and shut-down around the
 * job framework (job.h: flags, sweeps, config validation, the run directory that rank 0 picks
 * and broadcasts); the work itself is src/train (trainer.h), with src/eval's FID installed as
 * its evaluation hook (train_fid.h) when eval.fid_samples > 0 and a classifier is given.
 * Knows nothing about models or the training loop. */
#include "cli/cli.h"
#include "cli/job.h"
#include "cli/mpi_glue.h"
#include "cli/train_fid.h"
#include "train/trainer.h"

static int run_train(const TfCfg *cfg, const char *run_dir, void *ctx) {
    (void)ctx;
    TfTrainFid *fid = tf_train_fid_open(cfg); /* NULL: no FID */
    int rc = tf_train_run(cfg, run_dir);
    tf_train_fid_close(fid);
    return rc;
}

static int run_sample(const TfCfg *cfg, const char *run_dir, void *ctx) {
    (void)ctx;
    return tf_sample_run(cfg, run_dir);
}

static const TfJobCommand k_train = {
    "train", "train a flow-matching model (data-parallel over MPI ranks)",
    "usage: tinyflow train [options] [overrides]\n\n"
    "Trains the velocity field model.* on dataset.* along path.* with optim.* and lr_schedule.*,\n"
    "checkpointing to RUN_DIR/checkpoints and logging to RUN_DIR (metrics.jsonl, mlruns/, tb/,\n"
    "samples/, report.html). dataset.batch_size is the GLOBAL batch over all ranks; every rank\n"
    "computes its share and gradients are averaged. trainer.out_dir=DIR gives a stable run\n"
    "directory; trainer.resume=auto (the default) then continues from DIR/checkpoints.\n"
    "SIGTERM or SIGUSR1 on any rank: all ranks save a checkpoint at the next step and exit 0.\n"
    "With eval.fid_samples > 0 and eval.classifier.ckpt set, every evaluation also logs FID (and KID,\n"
    "class accuracy for conditional models), the samples generated in shards over the ranks.\n"
    "See docs/training.md.\n\n"
    "Examples:\n"
    "  tinyflow train experiment=moons\n"
    "  tinyflow train experiment=mnist optim.lr=3e-4 trainer.steps=5000 trainer.out_dir=runs/mnist\n"
    "  mpirun -np 4 tinyflow train experiment=mnist dataset.batch_size=256\n"
    "  tinyflow train -m experiment=moons optim.lr=1e-3,3e-4      # two runs, one after the other\n"
    "  tinyflow train experiment=moons --cfg job                  # print the composed config\n",
    run_train, 1};

static const TfJobCommand k_sample = {
    "sample", "draw samples from a checkpoint with an ODE solver",
    "usage: tinyflow sample [options] [overrides]\n\n"
    "Loads the checkpoint trainer.resume names (a run directory, a checkpoint directory or a\n"
    ".ckpt file; the newest complete one), draws eval.n_samples samples with solver.*\n"
    "(eval.solver.* overrides it) from fixed noise (trainer.seed), with the EMA weights when\n"
    "eval.use_ema, and writes RUN_DIR/samples.png (an eval.grid_rows x eval.grid_cols grid) and\n"
    "RUN_DIR/samples.npy (float32 [n, C, H, W]). The model.* settings must match the checkpoint.\n\n"
    "Examples:\n"
    "  tinyflow sample experiment=mnist trainer.resume=outputs/2025-01-01/12-00-00\n"
    "  tinyflow sample experiment=mnist trainer.resume=runs/mnist solver=dopri5 solver.guidance=2.0\n",
    run_sample, 1};

/* Training takes SIGTERM/SIGUSR1 as "checkpoint and stop": they are blocked before MPI, OpenMP
 * or oneDNN start threads, so every thread inherits the mask (dist/signals.h). */
int tf_cmd_train(int argc, char **argv) { return tf_cli_run_mpi(&k_train, argc, argv, 1); }
int tf_cmd_sample(int argc, char **argv) { return tf_cli_run_mpi(&k_sample, argc, argv, 0); }
