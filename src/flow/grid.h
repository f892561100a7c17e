/* grid.h - time grids for the ODE solvers.
 *
 * A grid is a strictly monotone list of times t[0], ..., t[n-1]: increasing integrates noise -> data
 * (sampling), decreasing integrates data -> noise (likelihood, inversion). Fixed-step solvers take one
 * step per interval; the adaptive solver (Dopri5) lands exactly on every grid point (no interpolation),
 * so a grid of two points is just the integration range. Grids own their memory (allocated at
 * construction, never inside a solve). Must not know about models or solvers.
 */
#ifndef TF_FLOW_GRID_H
#define TF_FLOW_GRID_H

typedef struct {
    int n;     /* number of points (steps = n - 1) */
    double *t; /* [n], owned */
} TfGrid;

/* steps + 1 equally spaced points from t0 to t1 (t1 < t0 integrates backwards). */
TfGrid tf_grid_uniform(double t0, double t1, int steps);
/* Points t0 + k h (k = 0, 1, ...) while short of t1, then t1 itself: ceil(|t1 - t0| / h) steps,
 * the last one possibly shorter (h = 0.3 on [0, 1] gives 0, 0.3, 0.6, 0.9, 1). h > 0 is the step
 * length; the direction comes from t0, t1. Unlike linspace(0, 1, int(1/h)) this never drifts. */
TfGrid tf_grid_step_size(double t0, double t1, double h);
/* The EDM grid (Karras et al. 2022, rho = 7; Meta flow_matching's edm_time_discretization):
 *   sigma_i = (smax^(1/rho) + i/(steps-1) (smin^(1/rho) - smax^(1/rho)))^rho, i < steps; sigma_steps = 0
 *   t_i = 1 / (1 + sigma_i)
 * steps + 1 points, dense near the data end. It starts at t = 1/(1+smax) (0.0123 for smax = 80),
 * not at 0: the noise is fed in at that time, as in the reference. Reference values smin = 0.002,
 * smax = 80, rho = 7. steps >= 2. */
TfGrid tf_grid_edm(int steps, double sigma_min, double sigma_max, double rho);
/* A copy of an explicit list (n >= 2, strictly monotone; dies naming the first bad entry). */
TfGrid tf_grid_from_list(const double *t, int n);
/* Reverse the order in place (a sampling grid becomes a likelihood grid). */
void tf_grid_reverse(TfGrid *g);
/* Dies with a usage message unless g is strictly monotone with n >= 2 finite points. */
void tf_grid_check(const TfGrid *g);
void tf_grid_free(TfGrid *g);

#endif
