/* sample.c - tf_sample: a TfVelocityModel seen as a TfOdeSystem (see solver.h).
 * Knows nothing about the engine behind the velocity callback. */
#include "core/check.h"
#include "flow/solver.h"

typedef struct {
    const TfVelocityModel *m;
    int n;
    const int *labels;
} SampleCtx;

static void sample_f(void *ctx, double t, const float *y, float *dy) {
    SampleCtx *c = ctx;
    tf_velocity_eval(c->m, c->n, y, (float)t, c->labels, dy);
}

size_t tf_sample_workspace_bytes(TfSolverKind kind, int n, int dim) {
    if (n < 1 || dim < 1) tf_die_usage("pass n >= 1 samples of dim >= 1", "sample workspace for n = %d, dim = %d", n, dim);
    return tf_ode_workspace_bytes(kind, tf_mul_size((size_t)n, (size_t)dim, "sample state"));
}

void tf_sample(const TfVelocityModel *m, const TfSolverOpts *opts, const TfGrid *g, int n, const int *labels,
               float *x, float *traj, TfSolveStats *stats, void *work) {
    tf_velocity_check(m);
    if (n < 1) tf_die_usage("sample at least one point", "tf_sample: n = %d", n);
    SampleCtx c = {m, n, labels};
    TfOdeSystem sys = {&c, tf_mul_size((size_t)n, (size_t)m->dim, "sample state"), sample_f};
    tf_ode_solve(&sys, opts, g, x, traj, stats, work);
}
