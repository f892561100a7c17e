/* sampler.h - drive a flow model (a UNet or MLP tape) for evaluation:
 *   - generation: sample number i (a GLOBAL index) starts from x0 = noise keyed by
 *     (seed, TF_STREAM_SAMPLE, step 0, i) and, for a conditional model, has label i mod classes,
 *     so a sharded run draws exactly the samples of a one-process run;
 *     classifier-free guidance with scale g (config solver.guidance; 1 = none) is the flow core's
 *     u = (1 + w) u(x|y) - w u(x|null) with w = g - 1;
 *   - bits per dimension of data under the model (flow/likelihood.h: exact or Hutchinson
 *     divergence), 8-bit images dequantised as x = (k + u) / 127.5 - 1 (the loader's k/127.5 - 1
 *     scale), labels = the data's labels for a conditional model (log p(x | y)); toy sets (float
 *     points) are scored without dequantisation (bits = -log p / (D ln 2)).
 * The caller fills the tape's parameters (tf_run_load_params, or a copy of the trainer's EMA
 * arena: same layout) after init. Do not move a TfEvalSampler after init.
 * Must not know about MPI, files or metrics.
 */
#ifndef TF_EVAL_SAMPLER_H
#define TF_EVAL_SAMPLER_H

#include <stdint.h>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "eval/model_velocity.h"
#include "flow/grid.h"
#include "flow/solver.h"
#include "model/model.h"

typedef struct {
    TfSolverKind solver;
    int steps;          /* fixed-step methods: steps; dopri5: the most attempted steps */
    int edm_grid;       /* 1: EDM time grid (solver.grid = edm), 0: uniform */
    double atol, rtol;  /* dopri5 */
    float guidance;     /* CFG scale, 1 = none */
    float guidance_interval[2]; /* guide only for t in [lo, hi] ({0, 1}: everywhere) */
    TfScheduler sched;  /* the path the model was trained with (DDIM needs it) */
    int transform;      /* 1: sample under `target` through the schedule transform */
    TfScheduler target;
    uint64_t seed;
    int batch;          /* samples per model call */
} TfEvalSampleOpts;

typedef struct {
    TfModelConfig mc;
    TfEvalSampleOpts o;
    TfTape tape;        /* inference tape: batch (or 2 batch with guidance) rows */
    TfTapeVelocity tv;
    TfCfgModel cfg;
    int guided;
    TfScheduleTransform st; /* o.transform */
    TfSolverOpts so;
    TfGrid grid;
    const TfVelocityModel *field;
    TfSolveStats stats; /* accumulated over runs */
} TfEvalSampler;

void tf_eval_sampler_init(TfEvalSampler *s, const TfModelConfig *mc, const TfEvalSampleOpts *o);
/* x[n][D] = samples first .. first+n-1; labels[n] (may be NULL) receives their labels (-1 when
 * the model is unconditional). */
void tf_eval_sampler_run(TfEvalSampler *s, int64_t first, int n, float *x, int *labels);
void tf_eval_sampler_free(TfEvalSampler *s);

/* The time grid of o (0 -> 1): uniform or EDM with `steps` steps; dopri5: just [0, 1]. */
TfGrid tf_eval_sampler_grid(const TfEvalSampleOpts *o);
TfSolverOpts tf_eval_sampler_solver_opts(const TfEvalSampleOpts *o);

typedef struct {
    TfEvalSampleOpts sample; /* solver, steps, grid kind, tolerances, sched (guidance is ignored) */
    int exact;           /* exact divergence (D VJPs per evaluation) or Hutchinson */
    int probes;          /* Hutchinson probes per sample */
} TfEvalBpdOpts;

/* bpd[k] = bits/dim of example first + k of ds, k < n, under the model of tape tp (built with
 * TF_BUILD_INPUT_GRAD; its batch is the chunk size). stats may be NULL (accumulated). */
void tf_eval_bpd(TfTape *tp, const TfModelConfig *mc, const TfEvalBpdOpts *o, const TfDataset *ds, int64_t first,
                 int64_t n, double *bpd, TfSolveStats *stats);

/* Called after each chunk of this rank's samples (e.g. to re-arm a watchdog). */
typedef void (*TfEvalProgress)(void *ctx, int64_t done, int64_t total);

/* The trainer's evaluation: generate n samples from ANY velocity field m (already guided, with the
 * evaluation weights loaded) with solver so on grid g -- sample i from noise (seed,
 * TF_STREAM_SAMPLE, 0, i) and label i mod num_classes (none when num_classes = 0) -- and score
 * them against ctx. With red (NULL: one process) each rank makes samples [n r / W, n (r+1) / W)
 * and the metrics are reduced. Samples are made `chunk` at a time (<= 0: 1000); progress (may be
 * NULL) is called after each chunk. Collective; an error (-1) is the same on every rank. */
int tf_eval_fid_model(const TfEvalContext *ctx, const TfVelocityModel *m, const TfSolverOpts *so, const TfGrid *g,
                      int num_classes, int64_t n, uint64_t seed, int chunk, const TfReducer *red,
                      TfEvalProgress progress, void *progress_ctx, TfEvalResult *out, char *err, size_t cap);

#endif
