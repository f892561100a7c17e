/* velocity.h - how the solvers see a model: a velocity callback on plain float arrays.
 *
 * The engine (model/, backend/) plugs in later by filling a TfVelocityModel; flow/ never knows what
 * is behind it. Two wrappers turn one TfVelocityModel into another:
 *  - classifier-free guidance (TfCfgModel): u = (1 + w) u(x, t | y) - w u(x, t | null) with ONE
 *    batched call of 2n samples (the n conditional rows, then the n null-label copies);
 *  - the schedule transform (TfScheduleTransform): sample under another scheduler (path.h).
 * Must not know about the engine, solvers or randomness.
 */
#ifndef TF_FLOW_VELOCITY_H
#define TF_FLOW_VELOCITY_H

#include "flow/scheduler.h"

typedef struct TfVelocityModel {
    void *ctx;
    int dim; /* D = numbers per sample */
    /* v[b*D..] = u(x[b*D..], t, labels[b]) for b < n; labels may be NULL (unconditional).
     * t is one scalar for the whole batch. Must not keep pointers to x or v after it returns. */
    void (*velocity)(void *ctx, int n, const float *x, float t, const int *labels, float *v);
    /* Optional (NULL if unsupported): v as above AND xgrad[b*D..] = (dv/dx)^T cot[b*D..] per sample
     * (a vector-Jacobian product). Needed only by the likelihood. */
    void (*velocity_vjp)(void *ctx, int n, const float *x, float t, const int *labels, const float *cot,
                         float *v, float *xgrad);
    int max_batch; /* largest n one call accepts; <= 0 means no limit. tf_velocity_eval chunks. */
} TfVelocityModel;

/* Dies with a usage message unless m has dim >= 1 and a velocity callback. */
void tf_velocity_check(const TfVelocityModel *m);

/* Evaluate the field on n samples, splitting into chunks of at most m->max_batch. */
void tf_velocity_eval(const TfVelocityModel *m, int n, const float *x, float t, const int *labels, float *v);
/* Same for velocity_vjp (dies if the model has none). */
void tf_velocity_eval_vjp(const TfVelocityModel *m, int n, const float *x, float t, const int *labels,
                          const float *cot, float *v, float *xgrad);

/* ---- classifier-free guidance ---------------------------------------------------------------
 * After tf_guidance_init, c->model is the guided field; it keeps a pointer to c, so do not move or copy
 * *c. Its labels must not be NULL and lie in [0, num_classes]. With w = 0 it makes one conditional
 * call of n samples (no null branch). Training uses tf_draw_label_dropout (draw.h) with the same
 * null label num_classes. The VJP is supported when the inner model has one:
 * (du/dx)^T c = (1 + w) J_cond^T c - w J_null^T c, again from one call of 2n samples.
 * max_batch: largest n the guided model accepts (<= 0: inner->max_batch / 2); needs
 * 2 max_batch <= inner->max_batch when the inner model has a limit. Buffers are allocated here.
 * Guidance interval (Kynkaanniemi et al. 2024, "Applying guidance in a limited interval"): after
 * tf_guidance_set_interval(c, lo, hi), times t outside [lo, hi] get the plain conditional field
 * (one call of n samples); the default [0, 1] guides everywhere. */
typedef struct {
    TfVelocityModel model; /* the guided field, for the solvers */
    const TfVelocityModel *inner;
    float w;
    float t_lo, t_hi; /* guide only for t in [t_lo, t_hi] */
    int null_label;
    int cap;
    float *x2, *v2, *cot2, *g2; /* [2 cap][D] */
    int *labels2;               /* [2 cap] */
} TfCfgModel;
void tf_guidance_init(TfCfgModel *c, const TfVelocityModel *inner, float w, int num_classes, int max_batch);
void tf_guidance_set_interval(TfCfgModel *c, float t_lo, float t_hi);
void tf_guidance_free(TfCfgModel *c);

/* ---- schedule transform ---------------------------------------------------------------------
 * st->model is the field under `target` of a model trained under `trained` (tf_schedule_map):
 * one inner call per evaluation, at time t_r and on x / s_r. Sampling it from noise at r = 0 with
 * any solver gives the same samples as the trained model under its own schedule (exactly, for the
 * exact ODE). The VJP is supported when the inner model has one. max_batch as for CFG
 * (<= 0: inner->max_batch). Do not move or copy *st after init.
 * Caveat: the map involves d sigma-bar / dr, infinite at r = 1 for LINEAR_VP and VP targets; use a
 * grid ending below 1 or a solver that does not evaluate the end point (Euler, Midpoint, DDIM). */
typedef struct {
    TfVelocityModel model;
    const TfVelocityModel *inner;
    TfScheduler trained, target;
    int cap;
    float *xs; /* [cap][D] */
} TfScheduleTransform;
void tf_schedule_transform_init(TfScheduleTransform *st, const TfVelocityModel *inner,
                                const TfScheduler *trained, const TfScheduler *target, int max_batch);
void tf_schedule_transform_free(TfScheduleTransform *st);

#endif
