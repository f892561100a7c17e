/* grid.c - uniform, step-size, EDM and explicit time grids (see grid.h).
 * Knows nothing about models or solvers. */
#include "flow/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

static TfGrid grid_alloc(int n) {
    TfGrid g;
    g.n = n;
    g.t = tf_malloc((size_t)n * sizeof(double));
    return g;
}

void tf_grid_check(const TfGrid *g) {
    if (!g || g->n < 2 || !g->t)
        tf_die_usage("a time grid needs at least 2 points (1 step)", "time grid has %d points", g ? g->n : 0);
    int dir = g->t[1] > g->t[0] ? 1 : -1;
    for (int i = 0; i < g->n; i++) {
        if (!isfinite(g->t[i]))
            tf_die_usage("time grids hold finite times", "time grid point %d is %g", i, g->t[i]);
        if (i > 0 && !((g->t[i] - g->t[i - 1]) * dir > 0.0))
            tf_die_usage("use a strictly increasing (sampling) or strictly decreasing (likelihood) grid",
                         "time grid is not strictly monotone at point %d: %.17g after %.17g", i, g->t[i], g->t[i - 1]);
    }
}

TfGrid tf_grid_uniform(double t0, double t1, int steps) {
    if (steps < 1) tf_die_usage("use at least 1 step", "uniform grid with %d steps", steps);
    if (!(isfinite(t0) && isfinite(t1) && t0 != t1))
        tf_die_usage("give two different finite end times, e.g. 0 and 1", "uniform grid from %g to %g", t0, t1);
    TfGrid g = grid_alloc(steps + 1);
    for (int k = 0; k <= steps; k++) g.t[k] = t0 + (t1 - t0) * ((double)k / steps);
    g.t[steps] = t1;
    return g;
}

TfGrid tf_grid_step_size(double t0, double t1, double h) {
    if (!(h > 0.0 && isfinite(h)))
        tf_die_usage("the step size is a positive length, e.g. 0.02 for 50 steps on [0, 1]", "step size h = %g", h);
    if (!(isfinite(t0) && isfinite(t1) && t0 != t1))
        tf_die_usage("give two different finite end times, e.g. 0 and 1", "step-size grid from %g to %g", t0, t1);
    double span = fabs(t1 - t0), q = span / h;
    double steps_d = ceil(q - 1e-9 * (q > 1.0 ? q : 1.0)); /* 1/0.1 must give 10, not 11 */
    if (steps_d < 1.0) steps_d = 1.0;
    if (steps_d > 1e8) tf_die_usage("use a larger step size", "step size %g on [%g, %g] gives %.0f steps", h, t0, t1, steps_d);
    int steps = (int)steps_d;
    double dir = t1 > t0 ? 1.0 : -1.0;
    TfGrid g = grid_alloc(steps + 1);
    for (int k = 0; k < steps; k++) g.t[k] = t0 + dir * h * k;
    g.t[steps] = t1;
    return g;
}

TfGrid tf_grid_edm(int steps, double sigma_min, double sigma_max, double rho) {
    if (steps < 2) tf_die_usage("the EDM grid needs steps >= 2", "EDM grid with %d steps", steps);
    if (!(sigma_min > 0.0 && sigma_max > sigma_min && isfinite(sigma_max) && rho > 0.0))
        tf_die_usage("use 0 < sigma_min < sigma_max and rho > 0, e.g. 0.002, 80, 7",
                     "EDM grid sigma_min = %g, sigma_max = %g, rho = %g", sigma_min, sigma_max, rho);
    TfGrid g = grid_alloc(steps + 1);
    double a = pow(sigma_max, 1.0 / rho), b = pow(sigma_min, 1.0 / rho);
    for (int i = 0; i < steps; i++) {
        double sig = pow(a + (double)i / (steps - 1) * (b - a), rho);
        g.t[i] = 1.0 / (1.0 + sig);
    }
    g.t[steps] = 1.0;
    return g;
}

TfGrid tf_grid_from_list(const double *t, int n) {
    if (n < 2 || !t) tf_die_usage("a time grid needs at least 2 points (1 step)", "explicit grid with %d points", n);
    TfGrid g = grid_alloc(n);
    memcpy(g.t, t, (size_t)n * sizeof(double));
    tf_grid_check(&g);
    return g;
}

void tf_grid_reverse(TfGrid *g) {
    for (int i = 0, j = g->n - 1; i < j; i++, j--) {
        double x = g->t[i];
        g->t[i] = g->t[j];
        g->t[j] = x;
    }
}

void tf_grid_free(TfGrid *g) {
    free(g->t);
    g->t = NULL;
    g->n = 0;
}
