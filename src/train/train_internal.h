/* train_internal.h - the trainer's state shared by the files of src/train:
 *   trainer.c  start-up, the loop, the schedule of logs / checkpoints / evaluations
 *   step.c     one training step: flow batch, micro-batches, allreduce, skip, clip, Adam, EMA
 *   state.c    model + optimizer arenas, checkpoint save, resume (rank 0 loads, all receive)
 *   sampler.c  sampling on an inference tape (evaluation grids, `tinyflow sample`)
 *   coord.c    rank 0's tracking: params, scalars, console progress, evaluation (the FID hook: all ranks)
 *   device.c   trainer.device (cpu | cuda | auto) -> the backend, and the device step's table (below)
 *   device_cuda.c  (CUDA builds only) the step's device part on one GPU: loss, NCCL, optimizer
 * Not a public interface: include train/trainer.h elsewhere.
 */
#ifndef TF_TRAIN_INTERNAL_H
#define TF_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "ckpt/ckpt.h"
#include "config/config.h"
#include "data/loader.h"
#include "dist/dist.h"
#include "eval/model_velocity.h"
#include "model/model.h"
#include "track/tracker.h"
#include "train/options.h"
#include "train/trainer.h"

/* Model, optimizer and run counters: everything a checkpoint holds. */
typedef struct {
    TfTape tape;           /* the training model, built for the micro-batch */
    size_t n;              /* parameter floats */
    /* Host arenas (the tape's layout): on the CPU the live state (param_host IS tape.param);
     * on a GPU the host copies that checkpoints, resume, the replica check and evaluation use,
     * valid after TfTrainDevice.to_host (the live state is then in device memory). */
    float *param_host;
    float *m, *v, *ema;    /* Adam moments, EMA (NULL when trainer.ema_decay = 0) */
    int64_t step;          /* optimizer steps done (skipped ones included) */
    int64_t skipped;       /* non-finite steps skipped so far */
    TfLoaderState loader;  /* where the next global batch starts */
    double train_seconds;  /* wall time of earlier processes of this run */
    /* checkpoint tables, made once */
    TfCkptTensor *tensors; /* param/, adam_m/, adam_v/ (, ema/) */
    int n_tensors;
    TfCkptTensor *sig;     /* the parameters under their own names (signature check) */
    char *names;
} TfTrainState;

/* Sampling on an inference tape whose parameters are copied in (EMA or raw). */
typedef struct {
    TfTape inf;
    TfTapeVelocity tv;
    TfCfgModel cfgm;
    int guided;                   /* classifier-free guidance wrapper in use */
    const TfVelocityModel *model; /* what the solver integrates */
    TfSolverOpts opts;
    TfGrid grid;
    void *work;
    int n, dim, num_classes;
    float *x;                     /* [n][dim]: noise in, samples out */
    int *labels;                  /* [n] or NULL */
    TfScheduler sched;            /* the scheduler the solver integrates under (DDIM needs it) */
    TfScheduleTransform st;       /* eval.solver.scheduler: the trained model under another scheduler */
    int transformed;
} TfSampler;

typedef struct TfTrainer TfTrainer;

/* The device part of a step when the tape's memory is not the host's (trainer.device = cuda):
 * a table, as backend.h's, so step.c and state.c name no device API. NULL on the CPU, where
 * step.c's own code runs (unchanged). All of it is enqueued on the device; only `check`
 * (the loss and finiteness flag the skip decision needs) and `update` (the gradient norm it
 * logs) wait for the device. */
typedef struct {
    const char *name;
    void (*alloc)(TfTrainer *tr);     /* after tf_train_state_init: moments, EMA, targets, scalars */
    void (*free)(TfTrainer *tr);      /* before tf_train_state_free; also ends NCCL */
    void (*to_host)(TfTrainer *tr);   /* parameters, moments, EMA -> st's host arenas */
    void (*from_host)(TfTrainer *tr); /* st's host arenas -> the device */
    /* After a micro-batch's forward: its target (host, n floats) up, MSE (acc: add to the
     * step's loss) and its gradient into the tape's output gradient. */
    void (*loss)(TfTrainer *tr, const float *target, size_t n, double denom, int acc);
    void (*poison_grad)(TfTrainer *tr, float value); /* fault injection: every gradient element = value */
    /* *loss += this step's loss; *finite = every local gradient element is finite. Waits. */
    void (*check)(TfTrainer *tr, double *loss, int *finite);
    /* Gradient sum over ranks (NCCL), norm, clipping, Adam/AdamW, EMA; *norm = the norm before
     * clipping (as the CPU step logs it). */
    void (*update)(TfTrainer *tr, long t, float lr, double *norm);
} TfTrainDevice;

struct TfTrainer {
    const TfCfg *cfg;
    const char *run_dir;
    char ckpt_dir[4200];
    TfTrainOpts o;
    const TfDist *dist;
    int rank, world;
    const TfBackend *be;           /* the training tape's backend */
    const TfTrainDevice *dev;      /* NULL: the CPU step (host memory) */
    void *dev_state;               /* the device's own buffers (device_cuda.c) */
    char device_text[256];         /* for the banner: "cpu", or the GPU and how it was chosen */
    /* data */
    TfDataset *ds;
    TfLoader *loader;
    int64_t steps_per_epoch, total_steps, start_step;
    int C, H, W, D;                /* one example */
    int64_t L, M, n_micro;         /* per-rank batch, micro-batch, micro-batches per step */
    int64_t epoch;                 /* epoch of the last batch */
    /* step buffers (rows = L, or the global batch for OT over the global batch) */
    float *x1g, *t, *x0, *xt, *target;
    int *lab_in_g, *lab_out;
    void *work;
    /* model and optimizer */
    TfTrainState st;
    int64_t consecutive_skips;     /* non-finite steps skipped in a row (checkpointed: trainer.max_skips spans a resume) */
    double last_grad_norm, last_lr;
    /* logging window (every rank keeps it; rank 0 reports) */
    double win_loss, win_t0;
    int64_t win_steps, win_ok;
    double t_start;
    /* rank 0 */
    char *cfg_text;                /* the resolved YAML (checkpoints, params) */
    TfTracker *tracker;
    TfSampler eval;
    int eval_ready;
    /* every rank, when the FID hook is on: its own sampler (built at the first evaluation) */
    TfSampler fid;
    int fid_ready;
    float *raster;                 /* toy-data scatter image */
};

/* device.c: resolve trainer.device (auto: every rank alike) and set tr->be, tr->dev,
 * tr->device_text. cuda without a CUDA build or without a visible GPU dies (exit 2) with a hint. */
void tf_train_device_open(TfTrainer *tr);
/* device_cuda.c (defined in CUDA builds only; device.c calls it there): the CUDA backend on
 * local rank mod visible GPUs, NCCL when world > 1; sets tr->be. */
const TfTrainDevice *tf_train_cuda_open(TfTrainer *tr);

/* state.c */
void tf_train_state_init(TfTrainer *tr);
void tf_train_state_free(TfTrainState *st);
/* All ranks: find/load the checkpoint trainer.resume names (rank 0), check its signature,
 * broadcast parameters, moments, EMA and counters. Returns 1 when resumed. */
int tf_train_resume(TfTrainer *tr);
/* Rank 0: save a checkpoint of the host arenas (after to_host on a device) and apply
 * retention. 0, or -1 (warned). */
int tf_train_save(TfTrainer *tr, char *path, size_t cap);
/* All ranks: die unless every replica holds the same parameter bits (FNV-1a over the host
 * arena: after to_host on a device). */
void tf_train_check_replicas(TfTrainer *tr);
/* Resolve trainer.resume / a path into a loaded checkpoint (rank 0; NULL when none and allowed). */
TfCkpt *tf_train_find_checkpoint(const char *resume, const char *ckpt_dir, int required);
/* Copy a checkpoint group ("param", "ema", ...) into an arena laid out like the tape. 0, or -1 when absent. */
int tf_train_copy_group(const TfTape *tp, const TfCkpt *ck, const char *group, float *dst);

/* step.c */
void tf_train_step_alloc(TfTrainer *tr);
void tf_train_step_free(TfTrainer *tr);
/* One step on this batch. Returns the number of the stop signal some rank caught (every rank
 * returns the same; 0: go on), and sets *skipped when the step was skipped as non-finite on
 * some rank (on every rank alike). */
int tf_train_step(TfTrainer *tr, const TfBatch *b, int *skipped);

/* sampler.c */
void tf_sampler_init(TfSampler *s, const TfTrainOpts *o, const TfBackend *be, int n);
/* Copy weights (the tape's layout, n floats) into the inference tape. */
void tf_sampler_load(TfSampler *s, const float *weights, size_t n);
/* Fixed noise and labels (keyed by seed only: the same every call), then solve into s->x. */
/* traj: NULL, or [s->grid.n][n][dim] floats for the state at every grid point (tf_sample). */
void tf_sampler_run(TfSampler *s, uint64_t seed, float *traj, TfSolveStats *stats);
void tf_sampler_free(TfSampler *s);
/* Points [n][2] -> a 1 x S x S image in [-1, 1] over [-extent, extent]^2 (toy data). */
void tf_raster_points(const float *xy, int n, float extent, int S, float *img);

/* coord.c (rank 0) */
void tf_coord_open(TfTrainer *tr, int resumed);
/* Log a window: loss (mean over its non-skipped steps; NaN when none), lr, grad norm, rate. */
void tf_coord_log(TfTrainer *tr, double loss_mean);
/* Every rank, at an evaluation step: rank 0 draws and logs the grid; all run the FID hook (collective). */
void tf_coord_eval(TfTrainer *tr);
/* Rank 0: close the tracker; every rank: free the evaluation samplers (other ranks call it too). */
void tf_coord_close(TfTrainer *tr, TfRunStatus status);

double tf_train_now(void);

#endif
