/* ode.c - fixed-step Runge-Kutta, DDIM and adaptive Dormand-Prince 5(4) on a TfOdeSystem
 * (see solver.h). The state lives in double; stage inputs handed to f are floats. Knows nothing
 * about models, labels or the engine. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "flow/path.h"
#include "flow/solver.h"

/* Explicit Butcher tableaus of the fixed-step methods (at most 4 stages). */
typedef struct {
    int s;
    double c[4], a[4][4], b[4];
} Tableau;

static const Tableau TAB_EULER = {1, {0}, {{0}}, {1}};
static const Tableau TAB_MIDPOINT = {2, {0, 0.5}, {{0}, {0.5}}, {0, 1}};
static const Tableau TAB_HEUN = {2, {0, 1}, {{0}, {1}}, {0.5, 0.5}};
static const Tableau TAB_RK4 = {4, {0, 0.5, 0.5, 1}, {{0}, {0.5}, {0, 0.5}, {0, 0, 1}},
                                {1.0 / 6, 2.0 / 6, 2.0 / 6, 1.0 / 6}};
static const Tableau TAB_RK4_38 = {4, {0, 1.0 / 3, 2.0 / 3, 1}, {{0}, {1.0 / 3}, {-1.0 / 3, 1}, {1, -1, 1}},
                                   {1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8}};

/* Dormand-Prince 5(4): 7 stages, the 7th at the new point (first same as last). */
static const double DP_C[7] = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
static const double DP_A[7][6] = {
    {0},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
static const double DP_B4[7] = {5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200,
                                187.0 / 2100, 1.0 / 40};

TfSolverOpts tf_solver_opts(TfSolverKind kind) {
    TfSolverOpts o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.atol = 1e-5;
    o.rtol = 1e-5;
    o.h_init = 0.0;
    o.max_steps = 100000;
    return o;
}

static const char *const SOLVER_NAMES[] = {"euler", "midpoint", "heun", "rk4", "rk4_38", "ddim", "dopri5", "edm_heun"};
#define SOLVER_USAGE "use euler, midpoint, heun, rk4, rk4_38, ddim, dopri5 or edm_heun"

int tf_solver_parse(const char *name, TfSolverKind *out) {
    for (int k = 0; k <= (int)TF_SOLVER_EDM_HEUN; k++)
        if (!strcmp(name, SOLVER_NAMES[k])) { *out = (TfSolverKind)k; return 0; }
    return -1;
}

const char *tf_solver_name(TfSolverKind kind) {
    return kind >= TF_SOLVER_EULER && kind <= TF_SOLVER_EDM_HEUN ? SOLVER_NAMES[kind] : "unknown";
}

static const Tableau *tableau(TfSolverKind kind) {
    switch (kind) {
    case TF_SOLVER_EULER: return &TAB_EULER;
    case TF_SOLVER_MIDPOINT: return &TAB_MIDPOINT;
    case TF_SOLVER_HEUN:
    case TF_SOLVER_EDM_HEUN: return &TAB_HEUN;
    case TF_SOLVER_RK4: return &TAB_RK4;
    case TF_SOLVER_RK4_38: return &TAB_RK4_38;
    default: return NULL;
    }
}

int tf_solver_stages(TfSolverKind kind) {
    if (kind == TF_SOLVER_DDIM) return 1;
    if (kind == TF_SOLVER_DOPRI5) return 0;
    const Tableau *tb = tableau(kind);
    if (!tb) tf_die_usage(SOLVER_USAGE, "unknown solver kind %d", (int)kind);
    return tb->s;
}

/* doubles (state), then one float stage input, then float stage outputs. */
static void layout(TfSolverKind kind, size_t *nd, size_t *nk) {
    if (kind == TF_SOLVER_DOPRI5) { *nd = 2; *nk = 7; }
    else { *nd = 1; *nk = (size_t)tf_solver_stages(kind); }
}

size_t tf_ode_workspace_bytes(TfSolverKind kind, size_t size) {
    size_t nd, nk;
    layout(kind, &nd, &nk);
    size_t per = nd * sizeof(double) + (1 + nk) * sizeof(float);
    return tf_mul_size(size ? size : 1, per, "ODE solver workspace") + 16;
}

typedef struct {
    const TfOdeSystem *sys;
    TfSolveStats *st;
    size_t n;
    double *y, *ynew;
    float *ytmp, *k[7];
} Ode;

static void feval(Ode *o, double t, const float *y, float *dy) {
    o->st->nfe++;
    o->sys->f(o->sys->ctx, t, y, dy);
}

static void to_float(const double *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) b[i] = (float)a[i];
}

static void fixed_step(Ode *o, const Tableau *tb, double t, double h) {
    size_t n = o->n;
    for (int i = 0; i < tb->s; i++) {
        if (i == 0) to_float(o->y, o->ytmp, n);
        else {
            for (size_t j = 0; j < n; j++) {
                double acc = 0.0;
                for (int l = 0; l < i; l++) acc += tb->a[i][l] * o->k[l][j];
                o->ytmp[j] = (float)(o->y[j] + h * acc);
            }
        }
        feval(o, t + tb->c[i] * h, o->ytmp, o->k[i]);
    }
    for (size_t j = 0; j < n; j++) {
        double acc = 0.0;
        for (int i = 0; i < tb->s; i++) acc += tb->b[i] * o->k[i][j];
        o->y[j] += h * acc;
    }
}

static void ddim_step(Ode *o, const TfScheduler *sch, double t, double s) {
    double a, b;
    tf_path_ddim_coeffs(sch, t, s, &a, &b);
    to_float(o->y, o->ytmp, o->n);
    feval(o, t, o->ytmp, o->k[0]);
    for (size_t j = 0; j < o->n; j++) o->y[j] = a * o->y[j] + b * o->k[0][j];
}

static double rms_scaled(const Ode *o, const float *v, double atol, double rtol) {
    double acc = 0.0;
    for (size_t j = 0; j < o->n; j++) {
        double r = v[j] / (atol + rtol * fabs(o->y[j]));
        acc += r * r;
    }
    return sqrt(acc / (double)o->n);
}

/* Hairer, Norsett & Wanner, Solving ODEs I, II.4: first step from |y|, |f| and a trial Euler step. */
static double initial_step(Ode *o, const TfSolverOpts *p, double t0, double span, double dir) {
    double d0, d1, d2 = 0.0;
    {
        double a0 = 0.0;
        for (size_t j = 0; j < o->n; j++) { double r = o->y[j] / (p->atol + p->rtol * fabs(o->y[j])); a0 += r * r; }
        d0 = sqrt(a0 / (double)o->n);
    }
    d1 = rms_scaled(o, o->k[0], p->atol, p->rtol);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    if (h0 > span) h0 = span;
    for (size_t j = 0; j < o->n; j++) o->ytmp[j] = (float)(o->y[j] + dir * h0 * o->k[0][j]);
    feval(o, t0 + dir * h0, o->ytmp, o->k[1]);
    double a2 = 0.0;
    for (size_t j = 0; j < o->n; j++) {
        double r = ((double)o->k[1][j] - o->k[0][j]) / (p->atol + p->rtol * fabs(o->y[j]));
        a2 += r * r;
    }
    d2 = sqrt(a2 / (double)o->n) / h0;
    double m = fmax(d1, d2);
    double h1 = m <= 1e-15 ? fmax(1e-6, h0 * 1e-3) : pow(0.01 / m, 1.0 / 5.0);
    return fmin(100.0 * h0, h1);
}

static void dopri5(Ode *o, const TfSolverOpts *p, const TfGrid *g, float *traj) {
    size_t n = o->n;
    double t = g->t[0], dir = g->t[1] > g->t[0] ? 1.0 : -1.0;
    double span = fabs(g->t[g->n - 1] - g->t[0]);
    double e[7];
    for (int i = 0; i < 7; i++) e[i] = (i < 6 ? DP_A[6][i] : 0.0) - DP_B4[i]; /* b5 - b4 */
    to_float(o->y, o->ytmp, n);
    feval(o, t, o->ytmp, o->k[0]);
    double h = p->h_init > 0.0 ? fmin(p->h_init, span) : initial_step(o, p, t, span, dir);
    long attempts = 0;
    for (int seg = 1; seg < g->n; seg++) {
        double tend = g->t[seg];
        while (dir * (tend - t) > 0.0) {
            if (++attempts > p->max_steps)
                tf_die_hint("loosen atol/rtol, raise max_steps, or check the model for a blow-up",
                            "dopri5 gave up after %ld steps at t = %.9g (target %.9g)", p->max_steps, t, tend);
            double hh = h;
            int clamped = 0;
            if (hh >= fabs(tend - t)) { hh = fabs(tend - t); clamped = 1; }
            double hs = dir * hh;
            for (int i = 1; i < 7; i++) {
                double *dst = i == 6 ? o->ynew : NULL;
                for (size_t j = 0; j < n; j++) {
                    double acc = 0.0;
                    for (int l = 0; l < i; l++) acc += DP_A[i][l] * o->k[l][j];
                    double v = o->y[j] + hs * acc;
                    if (dst) dst[j] = v;
                    o->ytmp[j] = (float)v;
                }
                feval(o, i == 6 ? (clamped ? tend : t + hs) : t + DP_C[i] * hs, o->ytmp, o->k[i]);
            }
            double acc = 0.0;
            for (size_t j = 0; j < n; j++) {
                double err = 0.0;
                for (int i = 0; i < 7; i++) err += e[i] * o->k[i][j];
                err *= hs;
                double sc = p->atol + p->rtol * fmax(fabs(o->y[j]), fabs(o->ynew[j]));
                acc += (err / sc) * (err / sc);
            }
            double errn = sqrt(acc / (double)n);
            if (!isfinite(errn))
                tf_die_hint("the velocity returned inf/NaN; check the model and the time range",
                            "dopri5: non-finite error estimate at t = %.9g, h = %g", t, hs);
            double factor = errn == 0.0 ? 10.0 : fmin(10.0, fmax(0.2, 0.9 * pow(errn, -0.2)));
            if (errn <= 1.0) {
                t = clamped ? tend : t + hs;
                double *sw = o->y; o->y = o->ynew; o->ynew = sw;
                float *kw = o->k[0]; o->k[0] = o->k[6]; o->k[6] = kw; /* FSAL */
                o->st->steps++;
                h = clamped ? fmax(h, hh * factor) : hh * factor;
            } else {
                o->st->rejected++;
                h = hh * fmin(factor, 1.0);
            }
            if (h <= 1e-14 * fmax(1.0, fabs(t)))
                tf_die_hint("loosen atol/rtol or check the model for a singularity",
                            "dopri5: step size underflow (%g) at t = %.9g", h, t);
        }
        if (traj) to_float(o->y, traj + (size_t)seg * n, n);
    }
}

void tf_ode_solve(const TfOdeSystem *sys, const TfSolverOpts *opts, const TfGrid *g, float *y, float *traj,
                  TfSolveStats *stats, void *work) {
    TfSolveStats local;
    memset(&local, 0, sizeof local);
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!sys || !sys->f || sys->size == 0) tf_die_usage("pass a system with f and size > 0", "tf_ode_solve: empty system");
    tf_grid_check(g);
    const TfSolverKind kind = opts->kind;
    if (kind == TF_SOLVER_DDIM && !opts->ddim_sched)
        tf_die_usage("set TfSolverOpts.ddim_sched to the scheduler the model was trained with",
                     "DDIM needs the training scheduler");
    if (kind == TF_SOLVER_DOPRI5 && !(opts->atol > 0.0 && opts->rtol >= 0.0 && opts->max_steps > 0))
        tf_die_usage("use atol > 0, rtol >= 0 and max_steps > 0, e.g. 1e-5, 1e-5, 100000",
                     "dopri5 atol = %g, rtol = %g, max_steps = %ld", opts->atol, opts->rtol, opts->max_steps);
    size_t n = sys->size, nd, nk;
    layout(kind, &nd, &nk);
    void *own = work ? NULL : tf_malloc(tf_ode_workspace_bytes(kind, n));
    char *c = work ? work : own;
    Ode o;
    memset(&o, 0, sizeof o);
    o.sys = sys;
    o.st = stats;
    o.n = n;
    o.y = (double *)c; c += n * sizeof(double);
    if (nd == 2) { o.ynew = (double *)c; c += n * sizeof(double); }
    o.ytmp = (float *)c; c += n * sizeof(float);
    for (size_t i = 0; i < nk; i++) { o.k[i] = (float *)c; c += n * sizeof(float); }
    for (size_t j = 0; j < n; j++) o.y[j] = y[j];
    if (traj) memcpy(traj, y, n * sizeof(float));

    if (kind == TF_SOLVER_DOPRI5) {
        dopri5(&o, opts, g, traj);
    } else {
        const Tableau *tb = kind == TF_SOLVER_DDIM ? NULL : tableau(kind);
        if (kind != TF_SOLVER_DDIM && !tb)
            tf_die_usage(SOLVER_USAGE, "unknown solver kind %d", (int)kind);
        for (int k = 0; k + 1 < g->n; k++) {
            /* EDM's Heun: the step onto the data end is Euler, so the field is never asked for t = 1. */
            const Tableau *st = kind == TF_SOLVER_EDM_HEUN && k + 2 == g->n && g->t[k + 1] == 1.0 ? &TAB_EULER : tb;
            if (tb) fixed_step(&o, st, g->t[k], g->t[k + 1] - g->t[k]);
            else ddim_step(&o, opts->ddim_sched, g->t[k], g->t[k + 1]);
            stats->steps++;
            if (traj) to_float(o.y, traj + (size_t)(k + 1) * n, n);
        }
    }
    for (size_t j = 0; j < n; j++) {
        y[j] = (float)o.y[j];
        if (!isfinite(y[j]))
            tf_die_hint("the velocity returned inf/NaN or the solve diverged; check the model, grid and schedule",
                        "ODE solve ended with a non-finite state (element %zu = %g)", j, (double)y[j]);
    }
    free(own);
}
