/* test_flow_solvers.c - every ODE solver on the closed-form marginal field of Gaussian data.
 *
 * For x1 ~ N(mu, s^2 I) the marginal velocity of any affine path is linear, and the flow map from
 * t_a to t_b is exact:  x_b = alpha_b mu + (std_b / std_a)(x_a - alpha_a mu),  std_t^2 = alpha^2 s^2 + sigma^2.
 * Checked: landing on the pushforward, convergence orders, exact NFE, Dopri5 vs RK4 efficiency,
 * DDIM = Euler on CondOT, DDIM = Euler after the schedule transform, sampling under another schedule
 * via the transform, EDM's Heun (never evaluated at t = 1), intermediates, reverse integration,
 * chunking, grids. The field is the library's oracle (gmm.h), validated here against the
 * independent formula above. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "flow/gmm.h"
#include "flow/grid.h"
#include "flow/path.h"
#include "flow/solver.h"
#include "flow/velocity.h"
#include "tf_test.h"

enum { D = 2, N = 16 };
static float MU[D] = {0.5f, -0.5f};

/* Exact flow map of the Gaussian marginal field from ta to tb (elementwise). */
static double exact_map(const TfScheduler *sch, double s, double ta, double tb, double mu, double x) {
    TfSchedValues a = tf_scheduler_eval(sch, ta), b = tf_scheduler_eval(sch, tb);
    double sa = sqrt(a.alpha * a.alpha * s * s + a.sigma * a.sigma), sb = sqrt(b.alpha * b.alpha * s * s + b.sigma * b.sigma);
    return b.alpha * mu + sb / sa * (x - a.alpha * mu);
}

static double max_err(const TfScheduler *sch, double s, double ta, double tb, const float *z, const float *x) {
    double e = 0.0;
    for (int i = 0; i < N * D; i++) {
        double d = fabs(exact_map(sch, s, ta, tb, MU[i % D], z[i]) - x[i]);
        if (!(d <= e)) e = d; /* NaN propagates as failure */
    }
    return e;
}

/* A wrapper that counts calls and samples and records the largest time asked for. */
typedef struct {
    const TfVelocityModel *inner;
    long calls, samples;
    float tmax;
} Counter;
static void count_velocity(void *ctx, int n, const float *x, float t, const int *labels, float *v) {
    Counter *c = ctx;
    c->calls++;
    c->samples += n;
    if (t > c->tmax) c->tmax = t;
    c->inner->velocity(c->inner->ctx, n, x, t, labels, v);
}
static TfVelocityModel counted(Counter *c, const TfVelocityModel *inner, int max_batch) {
    c->inner = inner;
    c->calls = c->samples = 0;
    c->tmax = -1.0f;
    TfVelocityModel m = {c, inner->dim, count_velocity, NULL, max_batch};
    return m;
}

static float Z[N * D];

static double run(const TfVelocityModel *m, const TfSolverOpts *o, const TfGrid *g, float *x, TfSolveStats *st) {
    memcpy(x, Z, sizeof Z);
    tf_sample(m, o, g, N, NULL, x, NULL, st, NULL);
    return 0.0;
}

/* Least-squares slope of log(err) against log(steps). */
static double fit_order(const int *steps, const double *err, int k) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < k; i++) {
        double x = log((double)steps[i]), y = log(err[i]);
        sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    return -(k * sxy - sx * sy) / (k * sxx - sx * sx);
}

static void test_oracle_matches_formula(void) {
    /* The oracle's velocity equals d/dt of the exact flow map (finite differences in t). */
    TfScheduler sch[3] = {tf_scheduler_condot(), tf_scheduler_cosine(), tf_scheduler_vp(0.1, 20)};
    float sd = 0.3f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    for (int k = 0; k < 3; k++) {
        TfGmmField f;
        tf_gmm_field_init(&f, &g, &sch[k]);
        for (int i = 1; i < 10; i++) {
            double t = i / 10.0, h = 1e-5;
            float x[D] = {0.3f, 1.1f}, v[D];
            f.model.velocity(f.model.ctx, 1, x, (float)t, NULL, v);
            for (int j = 0; j < D; j++) {
                double fd = (exact_map(&sch[k], sd, t, t + h, MU[j], x[j]) - exact_map(&sch[k], sd, t, t - h, MU[j], x[j])) / (2 * h);
                CHECK_CLOSE(v[j], fd, 1e-4, 1e-4);
            }
        }
        tf_gmm_field_free(&f);
    }
}

static void test_orders_and_nfe(void) {
    /* Cosine schedule, s = 0.3: errors stay well above float rounding (6e-8) in the ranges used. */
    TfScheduler cs = tf_scheduler_cosine();
    float sd = 0.3f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &cs);
    struct { TfSolverKind k; int from; double order, tol; } cases[] = {
        {TF_SOLVER_EULER, 16, 1.0, 0.15},   {TF_SOLVER_MIDPOINT, 16, 2.0, 0.25}, {TF_SOLVER_HEUN, 16, 2.0, 0.25},
        {TF_SOLVER_RK4, 8, 4.0, 0.5},       {TF_SOLVER_RK4_38, 8, 4.0, 0.5},     {TF_SOLVER_DDIM, 16, 1.0, 0.15},
        {TF_SOLVER_EDM_HEUN, 16, 2.0, 0.25}};
    for (int c = 0; c < 7; c++) {
        TfSolverOpts o = tf_solver_opts(cases[c].k);
        o.ddim_sched = &cs;
        int steps[4];
        double err[4];
        int npts = cases[c].k == TF_SOLVER_RK4 || cases[c].k == TF_SOLVER_RK4_38 ? 3 : 4;
        for (int j = 0; j < npts; j++) {
            steps[j] = cases[c].from << j;
            TfGrid gr = tf_grid_uniform(0, 1, steps[j]);
            Counter cnt;
            TfVelocityModel m = counted(&cnt, &f.model, 0);
            float x[N * D];
            TfSolveStats st;
            run(&m, &o, &gr, x, &st);
            err[j] = max_err(&cs, sd, 0, 1, Z, x);
            /* EDM's Heun makes its last step (onto t = 1) an Euler step: one evaluation fewer. */
            long want = (long)steps[j] * tf_solver_stages(o.kind) - (o.kind == TF_SOLVER_EDM_HEUN);
            CHECK_MSG(st.nfe == want && st.nfe == cnt.calls && st.steps == steps[j],
                      "%s: nfe %ld, model calls %ld, steps %ld for %d steps", tf_solver_name(o.kind), st.nfe, cnt.calls,
                      st.steps, steps[j]);
            tf_grid_free(&gr);
        }
        double p = fit_order(steps, err, npts);
        printf("order %-8s steps %d..%d: errors", tf_solver_name(o.kind), steps[0], steps[npts - 1]);
        for (int j = 0; j < npts; j++) printf(" %.2e", err[j]);
        printf("  -> measured order %.2f (expected %.0f +- %.2f)\n", p, cases[c].order, cases[c].tol);
        CHECK_MSG(fabs(p - cases[c].order) <= cases[c].tol, "%s order %.3f", tf_solver_name(o.kind), p);
        CHECK(err[npts - 1] < 2e-2);
    }
    tf_gmm_field_free(&f);
}

static void test_edm_heun(void) {
    /* EDM's Heun never evaluates t = 1; it is HEUN bit for bit on a grid that ends before 1; its
     * last step is Euler (checked against HEUN on the first steps followed by one Euler step). */
    TfScheduler cs = tf_scheduler_condot();
    float sd = 0.3f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &cs);
    Counter tm;
    TfVelocityModel m = counted(&tm, &f.model, 0);
    TfSolverOpts edm = tf_solver_opts(TF_SOLVER_EDM_HEUN), heun = tf_solver_opts(TF_SOLVER_HEUN),
                 euler = tf_solver_opts(TF_SOLVER_EULER);
    TfGrid g1 = tf_grid_uniform(0, 1, 8);
    float a[N * D], b[N * D];
    TfSolveStats st;
    run(&m, &edm, &g1, a, &st);
    CHECK_MSG(tm.tmax < 1.0f && st.nfe == 15, "edm_heun: largest t %.9g, nfe %ld", (double)tm.tmax, st.nfe);
    tm.tmax = -1.0f;
    run(&m, &heun, &g1, b, &st);
    CHECK(tm.tmax == 1.0f && st.nfe == 16);
    /* HEUN on [0, 7/8], then Euler on [7/8, 1]: the same map, up to the float state between the calls. */
    double first[8];
    for (int i = 0; i < 8; i++) first[i] = g1.t[i];
    TfGrid ga = tf_grid_from_list(first, 8), gb = tf_grid_uniform(g1.t[7], 1, 1);
    memcpy(b, Z, sizeof Z);
    tf_sample(&m, &heun, &ga, N, NULL, b, NULL, NULL, NULL);
    tf_sample(&m, &euler, &gb, N, NULL, b, NULL, NULL, NULL);
    for (int i = 0; i < N * D; i++) CHECK_CLOSE(a[i], b[i], 1e-6, 1e-6);
    /* Ending before t = 1, it is HEUN exactly. */
    TfGrid g2 = tf_grid_uniform(0, 0.9, 8);
    run(&m, &edm, &g2, a, &st);
    CHECK(st.nfe == 16);
    run(&m, &heun, &g2, b, NULL);
    CHECK(memcmp(a, b, sizeof a) == 0);
    TfSolverKind k;
    CHECK(tf_solver_parse("edm_heun", &k) == 0 && k == TF_SOLVER_EDM_HEUN && !strcmp(tf_solver_name(k), "edm_heun"));
    tf_grid_free(&g1);
    tf_grid_free(&g2);
    tf_grid_free(&ga);
    tf_grid_free(&gb);
    tf_gmm_field_free(&f);
}

static void test_all_schedules_land(void) {
    /* Every scheduler, every solver: the exact pushforward (noise at t = 0, VP's alpha_0 > 0 included). */
    TfScheduler sch[5] = {tf_scheduler_condot(), tf_scheduler_polynomial(2), tf_scheduler_cosine(),
                          tf_scheduler_linear_vp(), tf_scheduler_vp(0.1, 20)};
    float sd = 0.4f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    double worst = 0.0;
    for (int k = 0; k < 5; k++) {
        TfGmmField f;
        tf_gmm_field_init(&f, &g, &sch[k]);
        for (int s = 0; s <= (int)TF_SOLVER_EDM_HEUN; s++) {
            /* DDIM divides by D_t = alpha' sigma - sigma' alpha, which is 0 at t = 0 for t^2 (v = 0 there). */
            if (s == TF_SOLVER_DDIM && sch[k].kind == TF_SCHED_POLYNOMIAL) continue;
            TfSolverOpts o = tf_solver_opts((TfSolverKind)s);
            o.ddim_sched = &sch[k];
            o.atol = o.rtol = 1e-6;
            int steps = s == TF_SOLVER_EULER || s == TF_SOLVER_DDIM ? 2000 : s == TF_SOLVER_DOPRI5 ? 1 : 200;
            TfGrid gr = tf_grid_uniform(0, 1, steps);
            float x[N * D];
            run(&f.model, &o, &gr, x, NULL);
            double e = max_err(&sch[k], sd, 0, 1, Z, x);
            /* DDIM on LINEAR_VP converges below first order (D_t ~ 1/sqrt(1 - t^2) blows up at t = 1):
             * 6.1e-3 at 2000 steps, hence its looser bound.
             * EDM's Heun: its last (Euler) step's local error is O(h^2), the same order as the global
             * error, but a larger constant: 5.2e-4 at 200 steps (VP), hence 1e-3. */
            double bound = s == TF_SOLVER_EULER ? 2e-3 : s == TF_SOLVER_DDIM ? 1e-2 : s == TF_SOLVER_EDM_HEUN ? 1e-3 : 2e-4;
            if (bound == 2e-4 && e > worst) worst = e;
            CHECK_MSG(e < bound, "scheduler %d solver %s: max error %.3e (bound %.0e)", k, tf_solver_name(s), e, bound);
            tf_grid_free(&gr);
        }
        tf_gmm_field_free(&f);
    }
    printf("all schedulers x higher-order solvers land on the pushforward: worst error %.2e (bound 2e-4)\n", worst);
}

static void test_dopri_vs_rk4(void) {
    /* A sharper problem (s = 0.1, CondOT): adaptivity pays off. */
    TfScheduler c = tf_scheduler_condot();
    float sd = 0.1f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &c);
    TfSolverOpts o = tf_solver_opts(TF_SOLVER_DOPRI5);
    o.atol = o.rtol = 1e-5;
    TfGrid gr = tf_grid_uniform(0, 1, 1);
    Counter cnt;
    TfVelocityModel m = counted(&cnt, &f.model, 0);
    float x[N * D];
    TfSolveStats st;
    run(&m, &o, &gr, x, &st);
    double ed = max_err(&c, sd, 0, 1, Z, x);
    double xmax = 0;
    for (int i = 0; i < N * D; i++) xmax = fmax(xmax, fabs(x[i]));
    CHECK_MSG(ed <= 5 * (o.atol + o.rtol * xmax), "dopri5 error %.3e vs tolerance %.1e", ed, o.atol);
    CHECK(st.nfe == cnt.calls && st.nfe == 2 + 6 * (st.steps + st.rejected));
    int rk_steps = 1;
    double er = INFINITY;
    TfSolverOpts r = tf_solver_opts(TF_SOLVER_RK4);
    while (er > ed && rk_steps < 4096) {
        rk_steps *= 2;
        TfGrid g2 = tf_grid_uniform(0, 1, rk_steps);
        run(&f.model, &r, &g2, x, NULL);
        er = max_err(&c, sd, 0, 1, Z, x);
        tf_grid_free(&g2);
    }
    printf("dopri5 atol=rtol=1e-5: error %.2e with %ld NFE (%ld accepted, %ld rejected); RK4 needs %d steps = %d NFE "
           "for error %.2e\n", ed, st.nfe, st.steps, st.rejected, rk_steps, 4 * rk_steps, er);
    CHECK(st.nfe < 4 * rk_steps);
    /* h_init skips the start-up evaluation. */
    o.h_init = 0.05;
    run(&f.model, &o, &gr, x, &st);
    CHECK(st.nfe == 1 + 6 * (st.steps + st.rejected));
    CHECK(max_err(&c, sd, 0, 1, Z, x) <= 5 * (o.atol + o.rtol * xmax));
    tf_grid_free(&gr);
    tf_gmm_field_free(&f);
}

static void test_ddim(void) {
    float sd = 0.3f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    TfScheduler c = tf_scheduler_condot(), cs = tf_scheduler_cosine();
    /* 1. DDIM = Euler on CondOT (EDM grid: non-uniform). */
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &c);
    TfGrid edm = tf_grid_edm(18, 0.002, 80, 7);
    TfSolverOpts oe = tf_solver_opts(TF_SOLVER_EULER), od = tf_solver_opts(TF_SOLVER_DDIM);
    od.ddim_sched = &c;
    float xe[N * D], xd[N * D];
    run(&f.model, &oe, &edm, xe, NULL);
    run(&f.model, &od, &edm, xd, NULL);
    double diff = 0;
    for (int i = 0; i < N * D; i++) diff = fmax(diff, fabs(xe[i] - xd[i]));
    printf("DDIM vs Euler on CondOT (EDM grid, 18 steps): max difference %.2e\n", diff);
    CHECK(diff <= 1e-6);
    tf_gmm_field_free(&f);
    /* 2. On Cosine DDIM is NOT Euler, but equals Euler on the model transformed to CondOT on the grid
     *    r_i = alpha_i / (alpha_i + sigma_i); the end states coincide (alpha + sigma = 1 at t = 0, 1). */
    tf_gmm_field_init(&f, &g, &cs);
    TfGrid tg = tf_grid_uniform(0, 1, 20);
    double rl[21];
    for (int i = 0; i <= 20; i++) {
        TfSchedValues v = tf_scheduler_eval(&cs, tg.t[i]);
        rl[i] = v.alpha / (v.alpha + v.sigma);
    }
    TfGrid rg = tf_grid_from_list(rl, 21);
    od.ddim_sched = &cs;
    run(&f.model, &od, &tg, xd, NULL);
    run(&f.model, &oe, &tg, xe, NULL);
    double de = 0;
    for (int i = 0; i < N * D; i++) de = fmax(de, fabs(xe[i] - xd[i]));
    CHECK(de > 1e-3);
    TfScheduleTransform st;
    tf_schedule_transform_init(&st, &f.model, &cs, &c, N);
    float xt[N * D];
    run(&st.model, &oe, &rg, xt, NULL);
    diff = 0;
    for (int i = 0; i < N * D; i++) diff = fmax(diff, fabs(xt[i] - xd[i]));
    printf("Cosine: DDIM vs Euler differ by %.2e; DDIM vs Euler on the CondOT-transformed model: %.2e; "
           "DDIM error %.2e, Euler error %.2e (20 steps)\n", de, diff, max_err(&cs, sd, 0, 1, Z, xd), max_err(&cs, sd, 0, 1, Z, xe));
    CHECK(diff <= 2e-6);
    tf_schedule_transform_free(&st);
    tf_grid_free(&rg);
    tf_grid_free(&tg);
    tf_grid_free(&edm);
    tf_gmm_field_free(&f);
}

static void test_schedule_transform(void) {
    /* A CondOT-trained field sampled under Cosine and VP via the transform lands on the same samples. */
    float sd = 0.3f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    TfScheduler c = tf_scheduler_condot(), cs = tf_scheduler_cosine(), vp = tf_scheduler_vp(0.1, 20);
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &c);
    TfScheduleTransform st;
    tf_schedule_transform_init(&st, &f.model, &c, &cs, N);
    TfSolverOpts o = tf_solver_opts(TF_SOLVER_RK4);
    TfGrid gr = tf_grid_uniform(0, 1, 100);
    float x[N * D];
    run(&st.model, &o, &gr, x, NULL);
    double e1 = max_err(&c, sd, 0, 1, Z, x);
    CHECK_MSG(e1 < 1e-5, "CondOT model sampled under Cosine: error %.3e", e1);
    tf_schedule_transform_free(&st);
    /* VP: the noise enters at t0 = rho^-1(alpha_VP(0)/sigma_VP(0)) scaled by 1/s_0; dsigma/dr is infinite
     * at r = 1, so use Midpoint (no evaluation at the end point). */
    tf_schedule_transform_init(&st, &f.model, &c, &vp, 0 * N + N);
    TfScheduleMap m0 = tf_schedule_map(&c, &vp, 0.0);
    TfSolverOpts om = tf_solver_opts(TF_SOLVER_MIDPOINT);
    TfGrid g2 = tf_grid_uniform(0, 1, 400);
    run(&st.model, &om, &g2, x, NULL);
    double e2 = 0;
    for (int i = 0; i < N * D; i++) e2 = fmax(e2, fabs(exact_map(&c, sd, m0.t, 1, MU[i % D], Z[i] / m0.s) - x[i]));
    printf("schedule transform: CondOT model under Cosine (RK4, 100 steps) error %.2e; under VP (Midpoint, 400 steps, "
           "t0 = %.4f, s0 = %.4f) error %.2e\n", e1, m0.t, m0.s, e2);
    CHECK_MSG(e2 < 2e-3, "CondOT model sampled under VP: error %.3e", e2);
    tf_schedule_transform_free(&st);
    tf_grid_free(&gr);
    tf_grid_free(&g2);
    tf_gmm_field_free(&f);
}

static void test_traj_reverse_chunks(void) {
    float sd = 0.5f, w = 1.0f;
    TfGmm g = {1, D, MU, &sd, &w};
    TfScheduler c = tf_scheduler_condot();
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &c);
    /* Intermediates at every grid point, for a fixed and the adaptive solver. */
    TfGrid gr = tf_grid_uniform(0, 1, 10);
    for (int s = 0; s < 2; s++) {
        TfSolverOpts o = tf_solver_opts(s ? TF_SOLVER_DOPRI5 : TF_SOLVER_RK4);
        o.atol = o.rtol = 1e-7;
        float x[N * D], traj[11 * N * D];
        memcpy(x, Z, sizeof Z);
        tf_sample(&f.model, &o, &gr, N, NULL, x, traj, NULL, NULL);
        CHECK(memcmp(traj, Z, sizeof Z) == 0 && memcmp(traj + 10 * N * D, x, sizeof x) == 0);
        for (int k = 1; k <= 10; k++) {
            double e = 0;
            for (int i = 0; i < N * D; i++)
                e = fmax(e, fabs(exact_map(&c, sd, 0, gr.t[k], MU[i % D], Z[i]) - traj[k * N * D + i]));
            CHECK_MSG(e < 1e-5, "%s intermediate %d error %.3e", tf_solver_name(o.kind), k, e);
        }
    }
    /* Forward then backward (reversed grid) returns to the start. */
    TfSolverOpts o = tf_solver_opts(TF_SOLVER_RK4);
    float x[N * D];
    memcpy(x, Z, sizeof Z);
    tf_sample(&f.model, &o, &gr, N, NULL, x, NULL, NULL, NULL);
    tf_grid_reverse(&gr);
    tf_sample(&f.model, &o, &gr, N, NULL, x, NULL, NULL, NULL);
    double e = 0;
    for (int i = 0; i < N * D; i++) e = fmax(e, fabs(x[i] - Z[i]));
    CHECK_MSG(e < 1e-5, "round trip error %.3e", e);
    /* Chunking: max_batch 5 for 16 samples -> 4 calls per evaluation, identical results. */
    tf_grid_reverse(&gr);
    Counter cnt;
    TfVelocityModel m = counted(&cnt, &f.model, 5);
    float y[N * D];
    TfSolveStats st;
    run(&f.model, &o, &gr, x, NULL);
    run(&m, &o, &gr, y, &st);
    CHECK(memcmp(x, y, sizeof x) == 0);
    CHECK(st.nfe == 40 && cnt.calls == 4 * st.nfe && cnt.samples == N * st.nfe);
    /* Caller-provided workspace gives the same result. */
    void *work = malloc(tf_sample_workspace_bytes(TF_SOLVER_RK4, N, D));
    memcpy(y, Z, sizeof Z);
    tf_sample(&f.model, &o, &gr, N, NULL, y, NULL, NULL, work);
    CHECK(memcmp(x, y, sizeof x) == 0);
    free(work);
    tf_grid_free(&gr);
    tf_gmm_field_free(&f);
}

static void test_grids(void) {
    TfGrid g = tf_grid_step_size(0, 1, 0.3);
    double want[] = {0, 0.3, 0.6, 0.9, 1.0};
    CHECK(g.n == 5);
    for (int i = 0; i < 5 && i < g.n; i++) CHECK_CLOSE(g.t[i], want[i], 1e-15, 0);
    tf_grid_free(&g);
    g = tf_grid_step_size(0, 1, 0.1);
    CHECK(g.n == 11 && g.t[10] == 1.0 && fabs(g.t[9] - 0.9) < 1e-15);
    tf_grid_free(&g);
    g = tf_grid_step_size(0, 1, 1.0 / 50);
    CHECK(g.n == 51 && g.t[50] == 1.0);
    tf_grid_free(&g);
    g = tf_grid_step_size(1, 0, 0.25);
    CHECK(g.n == 5 && g.t[0] == 1.0 && g.t[4] == 0.0 && g.t[1] == 0.75);
    tf_grid_free(&g);
    g = tf_grid_edm(10, 0.002, 80, 7);
    CHECK(g.n == 11);
    CHECK_CLOSE(g.t[0], 1.0 / 81.0, 1e-15, 0);
    CHECK_CLOSE(g.t[9], 1.0 / 1.002, 1e-12, 0);
    CHECK(g.t[10] == 1.0);
    double s1 = pow(pow(80, 1 / 7.0) + (pow(0.002, 1 / 7.0) - pow(80, 1 / 7.0)) / 9.0, 7);
    CHECK_CLOSE(g.t[1], 1 / (1 + s1), 1e-14, 0);
    for (int i = 1; i < g.n; i++) CHECK(g.t[i] > g.t[i - 1]);
    /* dense near the data end: last interval much shorter than the first */
    CHECK(g.t[10] - g.t[9] < 0.01 * (g.t[1] - g.t[0]) + 0.01);
    tf_grid_free(&g);
    g = tf_grid_uniform(0, 1, 7);
    CHECK(g.n == 8 && g.t[0] == 0.0 && g.t[7] == 1.0);
    tf_grid_reverse(&g);
    CHECK(g.t[0] == 1.0 && g.t[7] == 0.0);
    tf_grid_free(&g);
    TfSolverKind k;
    CHECK(tf_solver_parse("rk4_38", &k) == 0 && k == TF_SOLVER_RK4_38);
    CHECK(tf_solver_parse("dopri5", &k) == 0 && k == TF_SOLVER_DOPRI5);
    CHECK(tf_solver_parse("rk45", &k) == -1);
}

int main(void) {
    TfRng r = tf_rng(2024, TF_STREAM_SAMPLE, 0, 0);
    tf_rng_fill_normal(&r, 0, Z, N * D);
    test_oracle_matches_formula();
    test_orders_and_nfe();
    test_all_schedules_land();
    test_edm_heun();
    test_dopri_vs_rk4();
    test_ddim();
    test_schedule_transform();
    test_traj_reverse_chunks();
    test_grids();
    return tf_test_finish("test_flow_solvers");
}
