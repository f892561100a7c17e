/* options.h - everything the trainer and `tinyflow sample` read from the config, as one
 * plain struct: the model configuration (TfModelConfig from model.*), the data, the flow
 * batch spec (path.*), the optimizer and learning-rate schedule, the trainer's schedule of
 * logs / checkpoints / evaluations, and the evaluation solver (eval.solver.* over solver.*).
 * Reading is the only place that knows key names; the rest of src/train uses the struct.
 * Strings point into the TfCfg and live as long as it does.
 * This file must not know about MPI, files or the training loop.
 */
#ifndef TF_TRAIN_OPTIONS_H
#define TF_TRAIN_OPTIONS_H

#include <stdint.h>

#include "config/config.h"
#include "flow/batch.h"
#include "flow/solver.h"
#include "model/model.h"
#include "optim/optim.h"
#include "optim/schedule.h"

typedef struct {
    /* model */
    TfModelConfig model;
    /* data */
    const char *dataset, *root, *split;
    int is_toy;
    int64_t n_samples;           /* toy sets: points generated */
    int hflip, prefetch, dequantize;
    int64_t batch;               /* GLOBAL batch */
    /* flow matching */
    TfFlowBatchSpec flow;        /* scheduler, time sampler, coupling, label dropout */
    int ot_global;               /* path.ot_scope = global */
    /* optimizer */
    TfAdamConfig adam;
    double grad_clip;            /* 0: off */
    TfLrSchedule lr;             /* .total is set once the number of steps is known */
    /* trainer */
    uint64_t seed;
    int64_t steps, epochs;       /* exactly one is > 0 */
    int64_t micro_batch;         /* 0: the whole per-rank batch at once */
    int threads;                 /* 0: automatic */
    int64_t log_every, ckpt_every, keep_last, keep_every, max_skips;
    const char *resume;          /* "auto", "never" or a path */
    double ema_decay;            /* 0: off */
    double step_timeout, eval_timeout; /* seconds; 0: off */
    const char *device;          /* trainer.device: "cpu", "cuda" or "auto" (absent: "cpu") */
    /* evaluation */
    int64_t eval_every, eval_n, fid_samples;
    int grid_rows, grid_cols, use_ema;
    TfSolverKind solver;
    int solver_steps, edm_grid;
    double atol, rtol;
    double guidance;             /* CFG scale g: u = g u(x|y) + (1 - g) u(x|null); 1 = none */
    float guidance_interval[2];  /* guide only for t in [lo, hi] (default [0, 1]) */
    int sample_transform;        /* eval.solver.scheduler set: sample under sample_sched */
    TfScheduler sample_sched;    /* the sampling scheduler (schedule transform of the trained model) */
    int trajectory;              /* eval.trajectory: states kept per sample by `tinyflow sample` (0: off) */
} TfTrainOpts;

/* Read and check the config (validated before); dies (exit 2) naming a key it cannot use. */
void tf_train_opts_read(const TfCfg *cfg, TfTrainOpts *o);

/* The scheduler `name` (condot | polynomial | cosine | lvp | vp) with its parameters from path.*
 * (path.sigma_min, path.n, path.beta_min / beta_max; the defaults of configs/path/ when the key is
 * absent). Dies naming `key` for an unknown name. */
TfScheduler tf_train_scheduler(const TfCfg *cfg, const char *name, const char *key);
/* eval.solver.scheduler: 1 and *out when set (sample the model under that scheduler through the
 * schedule transform); 0 when absent or null. Dies when the solver would evaluate the field at
 * r = 1, where a VP/LVP target's map is infinite. */
int tf_train_sampling_scheduler(const TfCfg *cfg, TfSolverKind solver, TfScheduler *out);

#endif
