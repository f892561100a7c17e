/* solver.h - ODE solvers for sampling (and, via likelihood.h, density evaluation).
 *
 * Fixed-step explicit Runge-Kutta methods take one step per grid interval:
 *   EULER (1 evaluation per step), MIDPOINT (2), HEUN (2, trapezoid), RK4 (4, classic 1/6(1,2,2,1)),
 *   EDM_HEUN (Karras et al. 2022, Alg. 1): Heun, except that a step ending exactly at t = 1 (the data
 *         end) is an Euler step, so the field is never evaluated at t = 1: 2 steps - 1 evaluations on
 *         a grid ending at 1, otherwise the same as HEUN;
 *   RK4_38 (4, Kutta's 3/8 rule: c = 0, 1/3, 2/3, 1; weights (1,3,3,1)/8 -- torchdiffeq's "rk4"),
 *   DDIM (1): predict x1 and x0 from v (path.h), re-noise to the next grid time (eta = 0);
 *         needs the scheduler the model was trained with; identical to Euler for CondOT. Each step's
 *         start time needs D_t = alpha' sigma - sigma' alpha != 0 (not t = 0 for POLYNOMIAL n > 1,
 *         where v carries no information; start such grids slightly above 0).
 * DOPRI5 is adaptive Dormand-Prince 5(4) (FSAL, 6 evaluations per attempted step), local error
 *   controlled in the RMS norm of err_i / (atol + rtol max(|y_i|, |y_new_i|)) <= 1; it lands exactly
 *   on every grid point. Step-size selection at the start (Hairer's rule) costs 1 extra evaluation
 *   unless h_init > 0: NFE = 2 + 6 (accepted + rejected steps), or 1 + 6 (...) with h_init.
 *
 * NFE (stats.nfe) counts evaluations of the whole field (one per stage for the whole batch), exactly;
 * a model with max_batch < n is called more than once per evaluation (chunks), and a CFG model makes
 * one inner call of 2n samples per evaluation -- neither changes the NFE.
 *
 * The state is carried in double inside the solver (the field sees floats), so thousands of steps do
 * not accumulate float rounding. Workspace: pass `work` of tf_*_workspace_bytes() bytes (aligned for
 * double, as malloc returns), or NULL and the solve allocates it ONCE per call (never per step).
 * Must not know about the engine.
 */
#ifndef TF_FLOW_SOLVER_H
#define TF_FLOW_SOLVER_H

#include <stddef.h>

#include "flow/grid.h"
#include "flow/scheduler.h"
#include "flow/velocity.h"

typedef enum {
    TF_SOLVER_EULER = 0,
    TF_SOLVER_MIDPOINT,
    TF_SOLVER_HEUN,
    TF_SOLVER_RK4,
    TF_SOLVER_RK4_38,
    TF_SOLVER_DDIM,
    TF_SOLVER_DOPRI5,
    TF_SOLVER_EDM_HEUN /* the last kind: tf_solver_parse and tf_solver_name run up to it */
} TfSolverKind;

typedef struct {
    TfSolverKind kind;
    const TfScheduler *ddim_sched; /* DDIM: the schedule the model was trained with */
    double atol, rtol;             /* DOPRI5 (defaults 1e-5, 1e-5) */
    double h_init;                 /* DOPRI5 first step length; 0 = automatic (1 extra evaluation) */
    long max_steps;                /* DOPRI5 attempted steps before giving up (default 100000) */
} TfSolverOpts;

/* Defaults for `kind` (ddim_sched = NULL: set it for DDIM). */
TfSolverOpts tf_solver_opts(TfSolverKind kind);
/* "euler", "midpoint", "heun", "rk4", "rk4_38", "ddim", "dopri5", "edm_heun" -> 0 and *out; -1 if unknown. */
int tf_solver_parse(const char *name, TfSolverKind *out);
const char *tf_solver_name(TfSolverKind kind);
/* Field evaluations per step of a fixed-step method (0 for DOPRI5: adaptive; EDM_HEUN: 2, but 1 on
 * a last step that ends at t = 1). */
int tf_solver_stages(TfSolverKind kind);

typedef struct {
    long nfe;      /* field evaluations, exact */
    long steps;    /* accepted steps */
    long rejected; /* DOPRI5 rejected steps */
    long vjps;     /* likelihood only: vector-Jacobian product calls of the whole batch */
} TfSolveStats;

/* A general first-order system dy/dt = f(t, y) on `size` floats. */
typedef struct {
    void *ctx;
    size_t size;
    void (*f)(void *ctx, double t, const float *y, float *dy);
} TfOdeSystem;

size_t tf_ode_workspace_bytes(TfSolverKind kind, size_t size);
/* Integrate y (in: at g->t[0], out: at g->t[n-1]). traj, if not NULL, receives the state at every
 * grid point: traj[k * size ..] for k < g->n (k = 0 is the initial state). stats may be NULL.
 * DDIM treats f as the velocity of opts->ddim_sched's path. */
void tf_ode_solve(const TfOdeSystem *sys, const TfSolverOpts *opts, const TfGrid *g, float *y, float *traj,
                  TfSolveStats *stats, void *work);

/* Sampling: integrate the model's field for n samples x[n][D] along g (noise -> data for an
 * increasing grid from 0 to 1). labels[n] or NULL; traj as above with size n*D. */
size_t tf_sample_workspace_bytes(TfSolverKind kind, int n, int dim);
void tf_sample(const TfVelocityModel *m, const TfSolverOpts *opts, const TfGrid *g, int n, const int *labels,
               float *x, float *traj, TfSolveStats *stats, void *work);

#endif
