/* gmm.c - exact marginal velocity, VJP, density and sampling of Gaussian-mixture data under an
 * affine path (see gmm.h). Knows nothing about solvers or the engine. */
#include "flow/gmm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"

static const double LOG2PI = 1.8378770664093454836;

static void gmm_check(const TfGmm *g) {
    if (!g || g->k < 1 || g->dim < 1 || !g->means || !g->stds || !g->weights)
        tf_die_usage("describe the mixture with k >= 1 components of dim >= 1 and means/stds/weights arrays",
                     "invalid Gaussian mixture (k = %d, dim = %d)", g ? g->k : 0, g ? g->dim : 0);
    double ws = 0.0;
    for (int j = 0; j < g->k; j++) {
        if (!(g->stds[j] > 0.0f && isfinite(g->stds[j])))
            tf_die_usage("component stds must be positive and finite", "mixture std[%d] = %g", j, (double)g->stds[j]);
        if (!(g->weights[j] >= 0.0f && isfinite(g->weights[j])))
            tf_die_usage("component weights must be >= 0 and finite", "mixture weight[%d] = %g", j, (double)g->weights[j]);
        ws += g->weights[j];
    }
    if (!(ws > 0.0)) tf_die_usage("give at least one component a positive weight", "mixture weights sum to %g", ws);
}

/* sigma * sigma' = (sigma^2)'/2, finite at t = 1 even where sigma' = -inf (LINEAR_VP, VP). */
static double sigma_dsigma(const TfScheduler *s, double t, const TfSchedValues *sv) {
    double p = sv->sigma * sv->d_sigma;
    if (isfinite(p)) return p;
    if (s->kind == TF_SCHED_LINEAR_VP) return -t;
    if (s->kind == TF_SCHED_VP) {
        double u = 1.0 - t, db = s->beta_max - s->beta_min;
        double T = 0.5 * u * u * db + u * s->beta_min, dT = -u * db - s->beta_min;
        return 0.5 * dT * exp(-T);
    }
    return p;
}

/* Per-sample posterior: fills w[k] (normalised), c[k], var[k]; returns log p_t(x). */
static double posterior(const TfGmm *g, const TfSchedValues *sv, double ss, const float *x, double *w, double *c,
                        double *var) {
    double ws = 0.0, mx = -INFINITY;
    for (int j = 0; j < g->k; j++) ws += g->weights[j];
    for (int j = 0; j < g->k; j++) {
        double s2 = (double)g->stds[j] * g->stds[j];
        var[j] = sv->alpha * sv->alpha * s2 + sv->sigma * sv->sigma;
        c[j] = (sv->d_alpha * sv->alpha * s2 + ss) / var[j];
        const float *m = g->means + (size_t)j * g->dim;
        double q = 0.0;
        for (int i = 0; i < g->dim; i++) { double d = x[i] - sv->alpha * m[i]; q += d * d; }
        w[j] = g->weights[j] > 0.0f ? log(g->weights[j] / ws) - 0.5 * g->dim * (LOG2PI + log(var[j])) - 0.5 * q / var[j]
                                    : -INFINITY;
        if (w[j] > mx) mx = w[j];
    }
    double z = 0.0;
    for (int j = 0; j < g->k; j++) { w[j] = exp(w[j] - mx); z += w[j]; }
    for (int j = 0; j < g->k; j++) w[j] /= z;
    return mx + log(z);
}

/* u for one sample; with cot != NULL also xgrad = J^T cot. */
static void field_one(TfGmmField *f, const TfSchedValues *sv, double ss, const float *x, const float *cot, float *v,
                      float *xg) {
    const TfGmm *g = &f->gmm;
    int K = g->k, D = g->dim;
    double *w = f->scratch, *c = w + K, *var = c + K, *u = var + K, *gbar = u + D;
    posterior(g, sv, ss, x, w, c, var);
    for (int i = 0; i < D; i++) { u[i] = 0.0; gbar[i] = 0.0; }
    for (int j = 0; j < K; j++) {
        const float *m = g->means + (size_t)j * D;
        for (int i = 0; i < D; i++) {
            double d = x[i] - sv->alpha * m[i];
            u[i] += w[j] * (sv->d_alpha * m[i] + c[j] * d);
            gbar[i] += w[j] * (-d / var[j]);
        }
    }
    for (int i = 0; i < D; i++) v[i] = (float)u[i];
    if (!cot) return;
    /* J = sum_j w_j c_j I + sum_j u_j grad(w_j)^T, grad w_j = w_j (g_j - gbar), g_j = -(x - alpha m_j)/v_j */
    double *acc = u; /* u no longer needed */
    double diag = 0.0;
    for (int j = 0; j < K; j++) diag += w[j] * c[j];
    for (int i = 0; i < D; i++) acc[i] = diag * cot[i];
    for (int j = 0; j < K; j++) {
        const float *m = g->means + (size_t)j * D;
        double uc = 0.0;
        for (int i = 0; i < D; i++) uc += (sv->d_alpha * m[i] + c[j] * (x[i] - sv->alpha * m[i])) * cot[i];
        for (int i = 0; i < D; i++) {
            double gj = -(x[i] - sv->alpha * m[i]) / var[j];
            acc[i] += w[j] * (gj - gbar[i]) * uc;
        }
    }
    for (int i = 0; i < D; i++) xg[i] = (float)acc[i];
}

static void gmm_velocity(void *ctx, int n, const float *x, float t, const int *labels, float *v) {
    TfGmmField *f = ctx;
    (void)labels; /* unconditional */
    TfSchedValues sv = tf_scheduler_eval(&f->sched, (double)t);
    double ss = sigma_dsigma(&f->sched, (double)t, &sv);
    size_t D = (size_t)f->gmm.dim;
    for (int b = 0; b < n; b++) field_one(f, &sv, ss, x + b * D, NULL, v + b * D, NULL);
}

static void gmm_velocity_vjp(void *ctx, int n, const float *x, float t, const int *labels, const float *cot,
                             float *v, float *xgrad) {
    TfGmmField *f = ctx;
    (void)labels; /* unconditional */
    TfSchedValues sv = tf_scheduler_eval(&f->sched, (double)t);
    double ss = sigma_dsigma(&f->sched, (double)t, &sv);
    size_t D = (size_t)f->gmm.dim;
    for (int b = 0; b < n; b++) field_one(f, &sv, ss, x + b * D, cot + b * D, v + b * D, xgrad + b * D);
}

void tf_gmm_field_init(TfGmmField *f, const TfGmm *g, const TfScheduler *s) {
    gmm_check(g);
    memset(f, 0, sizeof *f);
    f->gmm = *g;
    f->sched = *s;
    f->scratch = tf_malloc((3 * (size_t)g->k + 2 * (size_t)g->dim) * sizeof(double));
    f->model.ctx = f;
    f->model.dim = g->dim;
    f->model.velocity = gmm_velocity;
    f->model.velocity_vjp = gmm_velocity_vjp;
    f->model.max_batch = 0;
}

void tf_gmm_field_free(TfGmmField *f) {
    free(f->scratch);
    memset(f, 0, sizeof *f);
}

double tf_gmm_log_density(const TfGmm *g, const TfScheduler *s, double t, const float *x) {
    gmm_check(g);
    TfSchedValues sv = tf_scheduler_eval(s, t);
    double *buf = tf_malloc(3 * (size_t)g->k * sizeof(double));
    double lp = posterior(g, &sv, 0.0, x, buf, buf + g->k, buf + 2 * g->k);
    free(buf);
    return lp;
}

void tf_gmm_sample(const TfGmm *g, uint64_t seed, uint64_t step, uint64_t first, int n, float *x) {
    gmm_check(g);
    double ws = 0.0;
    for (int j = 0; j < g->k; j++) ws += g->weights[j];
    for (int b = 0; b < n; b++) {
        TfRng r = tf_rng(seed, TF_STREAM_TOY, step, first + (uint64_t)b);
        double u = (double)tf_rng_uniform(&r, 0) * ws, cum = 0.0;
        int j = 0;
        for (; j < g->k - 1; j++) {
            cum += g->weights[j];
            if (u < cum) break;
        }
        while (g->weights[j] <= 0.0f && j > 0) j--; /* never pick a zero-weight tail component */
        float *o = x + (size_t)b * g->dim;
        tf_rng_fill_normal(&r, 4, o, (size_t)g->dim); /* elements from 4: block 1, independent of the choice */
        const float *m = g->means + (size_t)j * g->dim;
        for (int i = 0; i < g->dim; i++) o[i] = m[i] + g->stds[j] * o[i];
    }
}
