/* velocity.c - chunked evaluation of a TfVelocityModel and the CFG / schedule-transform wrappers
 * (see velocity.h). Knows nothing about the engine behind the callbacks or about solvers. */
#include "flow/velocity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "flow/path.h"

void tf_velocity_check(const TfVelocityModel *m) {
    if (!m || !m->velocity)
        tf_die_usage("fill TfVelocityModel.velocity before sampling", "velocity model has no velocity callback");
    if (m->dim <= 0)
        tf_die_usage("set TfVelocityModel.dim to the numbers per sample", "velocity model dim = %d", m->dim);
}

void tf_velocity_eval(const TfVelocityModel *m, int n, const float *x, float t, const int *labels, float *v) {
    int step = m->max_batch > 0 ? m->max_batch : n;
    for (int b = 0; b < n; b += step) {
        int k = n - b < step ? n - b : step;
        size_t o = (size_t)b * m->dim;
        m->velocity(m->ctx, k, x + o, t, labels ? labels + b : NULL, v + o);
    }
}

void tf_velocity_eval_vjp(const TfVelocityModel *m, int n, const float *x, float t, const int *labels,
                          const float *cot, float *v, float *xgrad) {
    if (!m->velocity_vjp)
        tf_die_usage("use a model that provides velocity_vjp (needed for the likelihood)",
                     "velocity model has no vector-Jacobian product");
    int step = m->max_batch > 0 ? m->max_batch : n;
    for (int b = 0; b < n; b += step) {
        int k = n - b < step ? n - b : step;
        size_t o = (size_t)b * m->dim;
        m->velocity_vjp(m->ctx, k, x + o, t, labels ? labels + b : NULL, cot + o, v + o, xgrad + o);
    }
}

/* Resolve a wrapper's capacity from its own request and the inner limit (factor 2 for CFG). */
static int wrapper_cap(const char *what, const TfVelocityModel *inner, int max_batch, int factor) {
    if (max_batch <= 0) {
        if (inner->max_batch <= 0)
            tf_die_usage("pass max_batch > 0 when the inner model has no batch limit",
                         "%s: no max_batch given and the inner model's max_batch = %d", what, inner->max_batch);
        max_batch = inner->max_batch / factor;
        if (max_batch < 1)
            tf_die_usage("CFG evaluates 2n samples per call: give the inner model max_batch >= 2",
                         "%s: inner max_batch = %d is too small", what, inner->max_batch);
    }
    if (inner->max_batch > 0 && (long)factor * max_batch > inner->max_batch)
        tf_die_usage("lower max_batch or build the inner model for a larger batch",
                     "%s: max_batch %d needs %d samples per inner call but the inner model accepts %d",
                     what, max_batch, factor * max_batch, inner->max_batch);
    return max_batch;
}

/* ---- classifier-free guidance ---- */

static void cfg_prepare(TfCfgModel *c, int n, const float *x, const int *labels) {
    if (!labels) tf_die_usage("pass class labels to a guided model (the null label is num_classes)", "CFG model called with labels = NULL");
    if (n > c->cap) tf_die("CFG model called with n = %d > max_batch %d", n, c->cap);
    size_t nd = (size_t)n * c->model.dim;
    memcpy(c->x2, x, nd * sizeof(float));
    memcpy(c->x2 + nd, x, nd * sizeof(float));
    memcpy(c->labels2, labels, (size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) c->labels2[n + i] = c->null_label;
}

/* No null branch: w = 0, or t outside the guidance interval. */
static int cfg_plain(const TfCfgModel *c, float t) { return c->w == 0.0f || t < c->t_lo || t > c->t_hi; }

static void cfg_velocity(void *ctx, int n, const float *x, float t, const int *labels, float *v) {
    TfCfgModel *c = ctx;
    if (cfg_plain(c, t)) { c->inner->velocity(c->inner->ctx, n, x, t, labels, v); return; }
    cfg_prepare(c, n, x, labels);
    c->inner->velocity(c->inner->ctx, 2 * n, c->x2, t, c->labels2, c->v2);
    size_t nd = (size_t)n * c->model.dim;
    double w = c->w;
    for (size_t i = 0; i < nd; i++) v[i] = (float)((1.0 + w) * c->v2[i] - w * c->v2[nd + i]);
}

static void cfg_velocity_vjp(void *ctx, int n, const float *x, float t, const int *labels, const float *cot,
                             float *v, float *xgrad) {
    TfCfgModel *c = ctx;
    if (cfg_plain(c, t)) { c->inner->velocity_vjp(c->inner->ctx, n, x, t, labels, cot, v, xgrad); return; }
    cfg_prepare(c, n, x, labels);
    size_t nd = (size_t)n * c->model.dim;
    memcpy(c->cot2, cot, nd * sizeof(float));
    memcpy(c->cot2 + nd, cot, nd * sizeof(float));
    c->inner->velocity_vjp(c->inner->ctx, 2 * n, c->x2, t, c->labels2, c->cot2, c->v2, c->g2);
    double w = c->w;
    for (size_t i = 0; i < nd; i++) {
        v[i] = (float)((1.0 + w) * c->v2[i] - w * c->v2[nd + i]);
        xgrad[i] = (float)((1.0 + w) * c->g2[i] - w * c->g2[nd + i]);
    }
}

void tf_guidance_init(TfCfgModel *c, const TfVelocityModel *inner, float w, int num_classes, int max_batch) {
    tf_velocity_check(inner);
    if (!isfinite(w)) tf_die_usage("use a finite guidance weight, e.g. 0 (off) to 4", "CFG weight w = %g", (double)w);
    if (num_classes <= 0)
        tf_die_usage("CFG needs num_classes > 0; the null label is num_classes", "CFG num_classes = %d", num_classes);
    memset(c, 0, sizeof *c);
    c->inner = inner;
    c->w = w;
    c->t_lo = 0.0f;
    c->t_hi = 1.0f;
    c->null_label = num_classes;
    c->cap = wrapper_cap("CFG model", inner, max_batch, 2);
    size_t nd2 = tf_mul_size((size_t)2 * (size_t)c->cap, (size_t)inner->dim, "CFG buffer");
    c->x2 = tf_malloc(nd2 * sizeof(float));
    c->v2 = tf_malloc(nd2 * sizeof(float));
    c->labels2 = tf_malloc((size_t)2 * (size_t)c->cap * sizeof(int));
    if (inner->velocity_vjp) {
        c->cot2 = tf_malloc(nd2 * sizeof(float));
        c->g2 = tf_malloc(nd2 * sizeof(float));
    }
    c->model.ctx = c;
    c->model.dim = inner->dim;
    c->model.velocity = cfg_velocity;
    c->model.velocity_vjp = inner->velocity_vjp ? cfg_velocity_vjp : NULL;
    c->model.max_batch = c->cap;
}

void tf_guidance_set_interval(TfCfgModel *c, float t_lo, float t_hi) {
    if (!(t_lo >= 0.0f && t_hi <= 1.0f && t_lo < t_hi))
        tf_die_usage("give 0 <= lo < hi <= 1, e.g. [0.2, 0.8]", "guidance interval [%g, %g]", (double)t_lo, (double)t_hi);
    c->t_lo = t_lo;
    c->t_hi = t_hi;
}

void tf_guidance_free(TfCfgModel *c) {
    free(c->x2); free(c->v2); free(c->cot2); free(c->g2); free(c->labels2);
    memset(c, 0, sizeof *c);
}

/* ---- schedule transform ---- */

static TfScheduleMap st_map(TfScheduleTransform *st, int n, const float *x, float r) {
    if (n > st->cap) tf_die("schedule transform called with n = %d > max_batch %d", n, st->cap);
    TfScheduleMap m = tf_schedule_map(&st->trained, &st->target, (double)r);
    if (!(isfinite(m.t) && isfinite(m.s) && m.s > 0.0 && isfinite(m.dt) && isfinite(m.ds)))
        tf_die_usage("the schedule map is singular here; end the grid below r = 1 or use Euler/Midpoint/DDIM",
                     "schedule transform at r = %.9g: t = %g, s = %g, dt/dr = %g, ds/dr = %g",
                     (double)r, m.t, m.s, m.dt, m.ds);
    size_t nd = (size_t)n * st->model.dim;
    double inv = 1.0 / m.s;
    for (size_t i = 0; i < nd; i++) st->xs[i] = (float)(x[i] * inv);
    return m;
}

static void st_velocity(void *ctx, int n, const float *x, float r, const int *labels, float *v) {
    TfScheduleTransform *st = ctx;
    TfScheduleMap m = st_map(st, n, x, r);
    st->inner->velocity(st->inner->ctx, n, st->xs, (float)m.t, labels, v);
    size_t nd = (size_t)n * st->model.dim;
    double cx = m.ds / m.s, cv = m.s * m.dt;
    for (size_t i = 0; i < nd; i++) v[i] = (float)(cx * x[i] + cv * v[i]);
}

static void st_velocity_vjp(void *ctx, int n, const float *x, float r, const int *labels, const float *cot,
                            float *v, float *xgrad) {
    TfScheduleTransform *st = ctx;
    TfScheduleMap m = st_map(st, n, x, r);
    st->inner->velocity_vjp(st->inner->ctx, n, st->xs, (float)m.t, labels, cot, v, xgrad);
    size_t nd = (size_t)n * st->model.dim;
    double cx = m.ds / m.s, cv = m.s * m.dt;
    for (size_t i = 0; i < nd; i++) {
        v[i] = (float)(cx * x[i] + cv * v[i]);
        xgrad[i] = (float)(cx * cot[i] + m.dt * xgrad[i]); /* d/dx of u(x/s) carries 1/s */
    }
}

void tf_schedule_transform_init(TfScheduleTransform *st, const TfVelocityModel *inner,
                                const TfScheduler *trained, const TfScheduler *target, int max_batch) {
    tf_velocity_check(inner);
    memset(st, 0, sizeof *st);
    st->inner = inner;
    st->trained = *trained;
    st->target = *target;
    st->cap = wrapper_cap("schedule transform", inner, max_batch, 1);
    st->xs = tf_malloc(tf_mul_size((size_t)st->cap, (size_t)inner->dim, "schedule transform buffer") * sizeof(float));
    st->model.ctx = st;
    st->model.dim = inner->dim;
    st->model.velocity = st_velocity;
    st->model.velocity_vjp = inner->velocity_vjp ? st_velocity_vjp : NULL;
    st->model.max_batch = st->cap;
}

void tf_schedule_transform_free(TfScheduleTransform *st) {
    free(st->xs);
    memset(st, 0, sizeof *st);
}
