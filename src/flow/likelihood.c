/* likelihood.c - the augmented (x, log-det) ODE with exact or Hutchinson divergence, and
 * bits per dimension (see likelihood.h). Knows nothing about the engine behind the VJP callback. */
#include "flow/likelihood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "flow/draw.h"

TfLikelihoodOpts tf_likelihood_opts(void) {
    TfLikelihoodOpts o;
    memset(&o, 0, sizeof o);
    o.solver = tf_solver_opts(TF_SOLVER_DOPRI5);
    o.exact = 0;
    o.num_probes = 1;
    return o;
}

typedef struct {
    const TfVelocityModel *m;
    const int *labels;
    int n, dim, k; /* k = probes (Hutchinson) or 1 (exact) */
    int exact;
    float *cot, *g, *probes; /* [n][D], [n][D], [k][n][D] */
    TfSolveStats *st;
} LikCtx;

/* y = [x (n*D) | l (n*k)] */
static void aug_f(void *ctx, double t, const float *y, float *dy) {
    LikCtx *c = ctx;
    size_t nd = (size_t)c->n * c->dim;
    float *dl = dy + nd;
    if (c->exact) {
        for (int b = 0; b < c->n; b++) dl[b] = 0.0f;
        memset(c->cot, 0, nd * sizeof(float));
        double *acc = (double *)c->probes; /* exact mode: probes buffer reused as n doubles */
        for (int b = 0; b < c->n; b++) acc[b] = 0.0;
        for (int i = 0; i < c->dim; i++) {
            for (int b = 0; b < c->n; b++) c->cot[(size_t)b * c->dim + i] = 1.0f;
            tf_velocity_eval_vjp(c->m, c->n, y, (float)t, c->labels, c->cot, dy, c->g);
            c->st->vjps++;
            for (int b = 0; b < c->n; b++) {
                size_t e = (size_t)b * c->dim + i;
                acc[b] += c->g[e];
                c->cot[e] = 0.0f;
            }
        }
        for (int b = 0; b < c->n; b++) dl[b] = (float)acc[b];
        return;
    }
    for (int k = 0; k < c->k; k++) {
        const float *z = c->probes + (size_t)k * nd;
        tf_velocity_eval_vjp(c->m, c->n, y, (float)t, c->labels, z, dy, c->g);
        c->st->vjps++;
        for (int b = 0; b < c->n; b++) {
            double s = 0.0;
            const float *zb = z + (size_t)b * c->dim, *gb = c->g + (size_t)b * c->dim;
            for (int i = 0; i < c->dim; i++) s += (double)zb[i] * gb[i];
            dl[(size_t)b * c->k + k] = (float)s;
        }
    }
}

void tf_log_likelihood(const TfVelocityModel *m, const TfLikelihoodOpts *o, const TfGrid *g, int n,
                       const int *labels, const float *x1, double *logp, TfSolveStats *stats) {
    tf_velocity_check(m);
    if (!m->velocity_vjp)
        tf_die_usage("the likelihood needs a model with velocity_vjp (vector-Jacobian products)",
                     "tf_log_likelihood: the model has no velocity_vjp");
    if (n < 1) tf_die_usage("score at least one sample", "tf_log_likelihood: n = %d", n);
    if (o->solver.kind == TF_SOLVER_DDIM)
        tf_die_usage("use euler, midpoint, heun, edm_heun, rk4, rk4_38 or dopri5 for the likelihood",
                     "DDIM re-noises the state and cannot carry the log-det term");
    if (!o->exact && o->num_probes < 1)
        tf_die_usage("use num_probes >= 1", "Hutchinson likelihood with num_probes = %d", o->num_probes);
    tf_grid_check(g);
    if (!(g->t[g->n - 1] < g->t[0]))
        tf_die_usage("integrate from data to noise: use a decreasing grid such as tf_grid_uniform(1, 0, steps)",
                     "likelihood grid runs from %g to %g", g->t[0], g->t[g->n - 1]);
    TfSolveStats local;
    if (!stats) stats = &local;
    int D = m->dim, K = o->exact ? 1 : o->num_probes;
    size_t nd = tf_mul_size((size_t)n, (size_t)D, "likelihood state");
    size_t size = nd + (size_t)n * (size_t)K;
    float *state = tf_malloc(size * sizeof(float));
    float *cot = tf_malloc(nd * sizeof(float));
    float *gbuf = tf_malloc(nd * sizeof(float));
    size_t pbytes = o->exact ? (size_t)n * sizeof(double) : tf_mul_size(nd, (size_t)K, "probes") * sizeof(float);
    float *probes = tf_malloc(pbytes);
    void *work = tf_malloc(tf_ode_workspace_bytes(o->solver.kind, size));
    if (!o->exact)
        for (int k = 0; k < K; k++)
            tf_draw_rademacher(o->probe_seed, o->probe_step, o->first, n, D, k, probes + (size_t)k * nd);
    memcpy(state, x1, nd * sizeof(float));
    memset(state + nd, 0, (size_t)n * (size_t)K * sizeof(float));

    LikCtx c = {m, labels, n, D, K, o->exact, cot, gbuf, probes, stats};
    TfOdeSystem sys = {&c, size, aug_f};
    tf_ode_solve(&sys, &o->solver, g, state, NULL, stats, work); /* zeroes stats first, then f counts vjps */

    const double log2pi = log(2.0 * 3.14159265358979323846);
    for (int b = 0; b < n; b++) {
        const float *x0 = state + (size_t)b * D;
        double q = 0.0, l = 0.0;
        for (int i = 0; i < D; i++) q += (double)x0[i] * x0[i];
        for (int k = 0; k < K; k++) l += state[nd + (size_t)b * K + k];
        logp[b] = -0.5 * q - 0.5 * D * log2pi + l / K;
    }
    free(state); free(cot); free(gbuf); free(probes); free(work);
}

double tf_bits_per_dim(double logp, int dim, double scale) {
    if (dim < 1 || !(scale > 0.0))
        tf_die_usage("pass dim >= 1 and the width of one pixel level in model units (1/128 for [-1,1] data)",
                     "tf_bits_per_dim: dim = %d, scale = %g", dim, scale);
    return -(logp + dim * log(scale)) / (dim * log(2.0));
}
