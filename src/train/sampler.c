/* sampler.c - drawing samples from a trained model (evaluation grids, `tinyflow sample`):
 * an inference tape (TF_BUILD_INFERENCE) whose parameter arena is filled from the EMA (or
 * raw) weights, behind the TfVelocityModel bridge, optionally wrapped in classifier-free
 * guidance, integrated from FIXED noise and labels (keyed by the seed alone, so every
 * evaluation of a run shows the same noise) with the configured solver, steps and grid.
 * eval.solver.scheduler wraps the field in the schedule transform (flow/velocity.h).
 * Everything is allocated in tf_sampler_init. Must not know about MPI, files or tracking. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "flow/draw.h"
#include "train/train_internal.h"

void tf_sampler_init(TfSampler *s, const TfTrainOpts *o, const TfBackend *be, int n) {
    memset(s, 0, sizeof *s);
    const TfModelConfig *mc = &o->model;
    s->n = n;
    s->dim = tf_model_sample_dim(mc);
    s->num_classes = mc->num_classes;
    s->sched = o->flow.sched;
    int chunk = n < (o->is_toy ? 1024 : 64) ? n : (o->is_toy ? 1024 : 64);
    s->guided = mc->num_classes > 0 && o->guidance != 1.0;
    tf_model_build(&s->inf, mc, be, s->guided ? 2 * chunk : chunk, TF_BUILD_INFERENCE, o->seed, NULL);
    tf_tape_velocity_init(&s->tv, &s->inf, mc->num_classes);
    s->model = &s->tv.model;
    if (s->guided) {
        /* the config's scale g (1 = none) is u = g u(x|y) + (1 - g) u(x|null), i.e. w = g - 1 */
        tf_guidance_init(&s->cfgm, &s->tv.model, (float)(o->guidance - 1.0), mc->num_classes, chunk);
        tf_guidance_set_interval(&s->cfgm, o->guidance_interval[0], o->guidance_interval[1]);
        s->model = &s->cfgm.model;
    }
    if (o->sample_transform) { /* affine in the field, so it commutes with guidance: wrap the outside */
        tf_schedule_transform_init(&s->st, s->model, &o->flow.sched, &o->sample_sched, chunk);
        s->model = &s->st.model;
        s->sched = o->sample_sched;
        s->transformed = 1;
    }
    s->opts = tf_solver_opts(o->solver);
    s->opts.ddim_sched = &s->sched;
    if (o->solver == TF_SOLVER_DOPRI5) {
        s->opts.atol = o->atol;
        s->opts.rtol = o->rtol;
        s->opts.max_steps = o->solver_steps;
        s->grid = tf_grid_uniform(0.0, 1.0, 1);
    } else {
        s->grid = o->edm_grid ? tf_grid_edm(o->solver_steps, 0.002, 80.0, 7.0) : tf_grid_uniform(0.0, 1.0, o->solver_steps);
    }
    s->work = tf_malloc(tf_sample_workspace_bytes(o->solver, n, s->dim));
    s->x = tf_aligned_alloc((size_t)n * s->dim * sizeof(float));
    if (mc->num_classes > 0) {
        s->labels = tf_malloc((size_t)n * sizeof(int));
        for (int i = 0; i < n; i++) s->labels[i] = i % mc->num_classes;
    }
}

void tf_sampler_load(TfSampler *s, const float *weights, size_t n) {
    TF_ASSERT(n == s->inf.n_param_floats);
    s->inf.be->upload(s->inf.param, weights, n * sizeof(float));
}

void tf_sampler_run(TfSampler *s, uint64_t seed, float *traj, TfSolveStats *stats) {
    tf_draw_noise(TF_STREAM_SAMPLE, seed, 0, 0, s->n, s->dim, s->x);
    tf_sample(s->model, &s->opts, &s->grid, s->n, s->labels, s->x, traj, stats, s->work);
}

void tf_sampler_free(TfSampler *s) {
    if (s->transformed) tf_schedule_transform_free(&s->st);
    if (s->guided) tf_guidance_free(&s->cfgm);
    tf_tape_free(&s->inf);
    tf_grid_free(&s->grid);
    free(s->work);
    free(s->x);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

void tf_raster_points(const float *xy, int n, float extent, int S, float *img) {
    for (int i = 0; i < S * S; i++) img[i] = -1.0f;
    for (int i = 0; i < n; i++) {
        float x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) continue;
        int c = (int)floorf((x + extent) / (2 * extent) * (float)S);
        int r = (int)floorf((extent - y) / (2 * extent) * (float)S);
        if (c < 0 || c >= S || r < 0 || r >= S) continue;
        float *p = &img[r * S + c];
        *p = *p < 0.2f ? 0.2f : (*p < 0.6f ? *p + 0.4f : 1.0f); /* one point shows; more are brighter */
    }
}
