/* test_flow_scheduler.c - schedulers (derivatives vs finite differences, SNR-inverse round trips,
 * end points, names), the affine path sample, prediction conversions, the schedule map and the
 * DDIM coefficients. Pure maths: no solver, no model. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "flow/path.h"
#include "flow/scheduler.h"
#include "tf_test.h"

#define NS 9
static TfScheduler all_scheds(int i) {
    switch (i) {
    case 0: return tf_scheduler_condot();
    case 1: return tf_scheduler_ot(0.05);
    case 2: return tf_scheduler_polynomial(2.0);
    case 3: return tf_scheduler_polynomial(0.7);
    case 4: return tf_scheduler_cosine();
    case 5: return tf_scheduler_linear_vp();
    case 6: return tf_scheduler_vp(0.1, 20.0);
    case 7: return tf_scheduler_vp(0.0, 5.0);
    default: return tf_scheduler_polynomial(3.0);
    }
}

static void test_derivatives(void) {
    double worst = 0.0;
    for (int k = 0; k < NS; k++) {
        TfScheduler s = all_scheds(k);
        for (int i = 1; i < 40; i++) {
            double t = i / 40.0, h = 1e-6;
            TfSchedValues v = tf_scheduler_eval(&s, t), p = tf_scheduler_eval(&s, t + h), m = tf_scheduler_eval(&s, t - h);
            double fa = (p.alpha - m.alpha) / (2 * h), fs = (p.sigma - m.sigma) / (2 * h);
            double ea = fabs(fa - v.d_alpha) / (1 + fabs(v.d_alpha)), es = fabs(fs - v.d_sigma) / (1 + fabs(v.d_sigma));
            if (ea > worst) worst = ea;
            if (es > worst) worst = es;
            CHECK_MSG(ea < 1e-6 && es < 1e-6, "sched %d t %g: d_alpha %g vs fd %g, d_sigma %g vs fd %g", k, t,
                      v.d_alpha, fa, v.d_sigma, fs);
        }
    }
    printf("scheduler derivatives: worst relative FD mismatch %.2e (bound 1e-6)\n", worst);
}

static void test_snr_inverse(void) {
    double worst = 0.0;
    for (int k = 0; k < NS; k++) {
        TfScheduler s = all_scheds(k);
        for (int i = 1; i < 100; i++) {
            double t = i / 100.0;
            TfSchedValues v = tf_scheduler_eval(&s, t);
            double back = tf_scheduler_snr_inverse(&s, v.alpha / v.sigma);
            if (fabs(back - t) > worst) worst = fabs(back - t);
            CHECK_MSG(fabs(back - t) < 1e-9, "sched %d: snr_inverse(rho(%g)) = %.15g", k, t, back);
        }
        /* rho is increasing: the inverse must be monotone as well */
        CHECK(tf_scheduler_snr_inverse(&s, 0.5) < tf_scheduler_snr_inverse(&s, 2.0));
    }
    printf("snr_inverse round trip: worst |t - t'| %.2e (bound 1e-9)\n", worst);
    /* End points: rho = inf is the data end for schedules with sigma_1 = 0, rho = 0 the noise end. */
    int ends[] = {0, 2, 4, 5, 6};
    for (int j = 0; j < 5; j++) {
        TfScheduler s = all_scheds(ends[j]);
        CHECK_CLOSE(tf_scheduler_snr_inverse(&s, INFINITY), 1.0, 1e-12, 0);
        if (s.kind != TF_SCHED_VP) CHECK_CLOSE(tf_scheduler_snr_inverse(&s, 0.0), 0.0, 1e-12, 0);
    }
    TfScheduler vp = tf_scheduler_vp(0.1, 20);
    CHECK(isinf(tf_scheduler_snr_inverse(&vp, 0.0)) && tf_scheduler_snr_inverse(&vp, 0.0) < 0);
}

static void test_endpoints_and_names(void) {
    for (int k = 0; k < NS; k++) {
        TfScheduler s = all_scheds(k);
        TfSchedValues a = tf_scheduler_eval(&s, 0.0), b = tf_scheduler_eval(&s, 1.0);
        if (s.kind != TF_SCHED_VP) {
            CHECK_CLOSE(a.alpha, 0.0, 1e-15, 0);
            CHECK_CLOSE(a.sigma, 1.0, 1e-15, 0);
        } else {
            CHECK(a.alpha > 0 && a.alpha < 0.3 && fabs(a.alpha * a.alpha + a.sigma * a.sigma - 1) < 1e-12);
        }
        CHECK_CLOSE(b.alpha, 1.0, 1e-15, 0);
        CHECK_CLOSE(b.sigma, s.kind == TF_SCHED_CONDOT ? s.sigma_min : 0.0, 1e-15, 0);
        char buf[64];
        TfScheduler p;
        CHECK(tf_scheduler_parse(tf_scheduler_name(&s, buf, sizeof buf), &p) == 0);
        CHECK(p.kind == s.kind && p.sigma_min == s.sigma_min && p.n == s.n && p.beta_min == s.beta_min &&
              p.beta_max == s.beta_max);
    }
    TfScheduler p;
    CHECK(tf_scheduler_parse("vp", &p) == 0 && p.beta_min == 0.1 && p.beta_max == 20.0);
    CHECK(tf_scheduler_parse("polynomial", &p) == -1);
    CHECK(tf_scheduler_parse("polynomial:-1", &p) == -1);
    CHECK(tf_scheduler_parse("cosine:3", &p) == -1);
    CHECK(tf_scheduler_parse("vp:5:1", &p) == -1);
    CHECK(tf_scheduler_parse("warp", &p) == -1);
    /* variance preservation of the VP family */
    TfScheduler lvp = tf_scheduler_linear_vp(), cs = tf_scheduler_cosine();
    for (int i = 0; i <= 10; i++) {
        TfSchedValues a = tf_scheduler_eval(&lvp, i / 10.0), c = tf_scheduler_eval(&cs, i / 10.0);
        CHECK_CLOSE(a.alpha * a.alpha + a.sigma * a.sigma, 1.0, 1e-12, 0);
        CHECK_CLOSE(c.alpha * c.alpha + c.sigma * c.sigma, 1.0, 1e-12, 0);
    }
}

static void test_path_and_conversions(void) {
    enum { N = 6, D = 5 };
    float x0[N * D], x1[N * D], t[N], xt[N * D], dx[N * D], out[N * D], back[N * D];
    TfRng r = tf_rng(3, TF_STREAM_USER, 0, 0);
    tf_rng_fill_normal(&r, 0, x0, N * D);
    tf_rng_fill_normal(&r, 1000, x1, N * D);
    for (int b = 0; b < N; b++) t[b] = 0.07f + 0.15f * b;
    double worst = 0.0;
    for (int k = 0; k < NS; k++) {
        TfScheduler s = all_scheds(k);
        tf_path_sample(&s, N, D, t, x0, x1, xt, dx);
        for (int b = 0; b < N; b++) {
            TfSchedValues v = tf_scheduler_eval(&s, t[b]);
            double h = 1e-4;
            TfSchedValues p = tf_scheduler_eval(&s, t[b] + h), m = tf_scheduler_eval(&s, t[b] - h);
            for (int i = 0; i < D; i++) {
                int e = b * D + i;
                CHECK_CLOSE(xt[e], v.alpha * x1[e] + v.sigma * x0[e], 1e-6, 1e-6);
                double fd = ((p.alpha - m.alpha) * x1[e] + (p.sigma - m.sigma) * x0[e]) / (2 * h);
                CHECK_CLOSE(dx[e], fd, 1e-4, 1e-4);
            }
        }
        /* The conditional velocity dx_t predicts exactly the x1 and x0 it was built from. */
        tf_path_convert(&s, TF_PRED_VELOCITY, TF_PRED_X1, N, D, t, xt, dx, out);
        for (int e = 0; e < N * D; e++) { double d = fabs(out[e] - x1[e]); if (d > worst) worst = d; }
        for (int e = 0; e < N * D; e++) CHECK_CLOSE(out[e], x1[e], 2e-5, 2e-5);
        tf_path_convert(&s, TF_PRED_X1, TF_PRED_VELOCITY, N, D, t, xt, out, back);
        for (int e = 0; e < N * D; e++) CHECK_CLOSE(back[e], dx[e], 1e-4, 1e-4);
        tf_path_convert(&s, TF_PRED_VELOCITY, TF_PRED_X0, N, D, t, xt, dx, out);
        for (int e = 0; e < N * D; e++) CHECK_CLOSE(out[e], x0[e], 2e-5, 2e-5);
        tf_path_convert(&s, TF_PRED_X0, TF_PRED_VELOCITY, N, D, t, xt, out, back);
        for (int e = 0; e < N * D; e++) CHECK_CLOSE(back[e], dx[e], 1e-3, 1e-4);
        tf_path_convert(&s, TF_PRED_X0, TF_PRED_X1, N, D, t, xt, x0, out);
        for (int e = 0; e < N * D; e++) CHECK_CLOSE(out[e], x1[e], 1e-4, 1e-4);
        tf_path_convert(&s, TF_PRED_X1, TF_PRED_X0, N, D, t, xt, x1, out);
        for (int e = 0; e < N * D; e++) CHECK_CLOSE(out[e], x0[e], 1e-4, 1e-4);
    }
    printf("velocity -> x1 conversion: worst |x1' - x1| %.2e\n", worst);
}

static void test_schedule_map(void) {
    for (int a = 0; a < NS; a++) {
        TfScheduler s = all_scheds(a);
        TfScheduleMap m = tf_schedule_map(&s, &s, 0.37);
        CHECK_CLOSE(m.t, 0.37, 1e-9, 0);
        CHECK_CLOSE(m.s, 1.0, 1e-9, 0);
        CHECK_CLOSE(m.dt, 1.0, 1e-7, 0);
        CHECK_CLOSE(m.ds, 0.0, 1e-7, 0);
    }
    /* Across schedules: same SNR, s scales sigma and alpha alike, dt/dr and ds/dr match finite differences. */
    int pairs[][2] = {{0, 4}, {4, 0}, {0, 6}, {6, 4}, {2, 5}, {5, 3}, {1, 4}};
    for (int p = 0; p < 7; p++) {
        TfScheduler tr = all_scheds(pairs[p][0]), tg = all_scheds(pairs[p][1]);
        for (int i = 1; i < 10; i++) {
            double r = i / 10.0, h = 1e-6;
            TfScheduleMap m = tf_schedule_map(&tr, &tg, r), mp = tf_schedule_map(&tr, &tg, r + h),
                          mm = tf_schedule_map(&tr, &tg, r - h);
            TfSchedValues o = tf_scheduler_eval(&tr, m.t), n = tf_scheduler_eval(&tg, r);
            CHECK_CLOSE(m.s * o.sigma, n.sigma, 1e-9, 1e-9);
            CHECK_CLOSE(m.s * o.alpha, n.alpha, 1e-9, 1e-9);
            CHECK_CLOSE(m.dt, (mp.t - mm.t) / (2 * h), 1e-5, 1e-5);
            CHECK_CLOSE(m.ds, (mp.s - mm.s) / (2 * h), 1e-5, 1e-5);
        }
    }
}

static void test_ddim_coeffs(void) {
    TfScheduler c = tf_scheduler_condot(), cs = tf_scheduler_cosine();
    for (int i = 0; i < 10; i++) {
        double t = i / 10.0, s = t + 0.1, a, b;
        tf_path_ddim_coeffs(&c, t, s, &a, &b);
        CHECK_CLOSE(a, 1.0, 1e-15, 0);
        CHECK_CLOSE(b, s - t, 1e-15, 0);
        /* Cosine: x_s = alpha_s x1 + sigma_s x0 from x_t = alpha_t x1 + sigma_t x0, v = dx_t (one pair). */
        tf_path_ddim_coeffs(&cs, t, s, &a, &b);
        TfSchedValues vt = tf_scheduler_eval(&cs, t), vs = tf_scheduler_eval(&cs, s);
        double x1 = 0.8, x0 = -1.3;
        double xt = vt.alpha * x1 + vt.sigma * x0, v = vt.d_alpha * x1 + vt.d_sigma * x0;
        CHECK_CLOSE(a * xt + b * v, vs.alpha * x1 + vs.sigma * x0, 1e-12, 0);
    }
}

int main(void) {
    test_derivatives();
    test_snr_inverse();
    test_endpoints_and_names();
    test_path_and_conversions();
    test_schedule_map();
    test_ddim_coeffs();
    return tf_test_finish("test_flow_scheduler");
}
