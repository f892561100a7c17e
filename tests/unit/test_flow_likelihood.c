/* test_flow_likelihood.c - log p1(x) by the reverse ODE against closed forms.
 *
 * The exact marginal field of Gaussian(-mixture) data pushes N(0, I) at t = 0 onto the data law at
 * t = 1, so the ODE log-density must equal the closed-form density: for one Gaussian N(mu, s^2 I) and
 * for a 3-component mixture (whose Jacobian is not diagonal, so Hutchinson has real variance).
 * Also: VJPs of the oracle / CFG / transform wrappers against finite differences, the bits-per-dim
 * formula and the dequantisation it assumes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "flow/draw.h"
#include "flow/gmm.h"
#include "flow/likelihood.h"
#include "flow/velocity.h"
#include "tf_test.h"
#ifndef AMP
#define AMP 0.5
#define SD0 0.7f
#define SD1 0.6f
#define SD2 0.8f
#define NPROBE 4000
#endif

/* (dv/dx)^T cot against central differences of v . cot. */
static double vjp_fd_error(const TfVelocityModel *m, float t, const int *labels, const float *x) {
    int D = m->dim;
    float *cot = calloc(D, sizeof(float)), *v = calloc(D, sizeof(float)), *g = calloc(D, sizeof(float));
    float *xp = malloc(D * sizeof(float)), *vp = malloc(D * sizeof(float));
    for (int i = 0; i < D; i++) cot[i] = (float)(0.3 + 0.1 * i) * (i % 2 ? -1.0f : 1.0f);
    m->velocity_vjp(m->ctx, 1, x, t, labels, cot, v, g);
    double worst = 0.0;
    for (int i = 0; i < D; i++) {
        double h = 1e-2, fp = 0, fm = 0;
        memcpy(xp, x, D * sizeof(float));
        xp[i] = x[i] + (float)h;
        m->velocity(m->ctx, 1, xp, t, labels, vp);
        for (int j = 0; j < D; j++) fp += (double)vp[j] * cot[j];
        xp[i] = x[i] - (float)h;
        m->velocity(m->ctx, 1, xp, t, labels, vp);
        for (int j = 0; j < D; j++) fm += (double)vp[j] * cot[j];
        double fd = (fp - fm) / (2 * h);
        worst = fmax(worst, fabs(fd - g[i]) / (1 + fabs(g[i])));
    }
    free(cot); free(v); free(g); free(xp); free(vp);
    return worst;
}

/* A labelled linear field for the CFG wrapper: u(x | y) = a_y x + b_y, with its exact VJP. */
typedef struct { int dim, classes; } Lin;
static void lin_velocity(void *ctx, int n, const float *x, float t, const int *labels, float *v) {
    Lin *l = ctx;
    for (int b = 0; b < n; b++)
        for (int i = 0; i < l->dim; i++) {
            double a = 0.5 + 0.25 * labels[b] + 0.1 * i, c = labels[b] - 0.5 * t;
            v[b * l->dim + i] = (float)(a * x[b * l->dim + i] * x[b * l->dim + i] + c);
        }
}
static void lin_vjp(void *ctx, int n, const float *x, float t, const int *labels, const float *cot, float *v, float *g) {
    Lin *l = ctx;
    lin_velocity(ctx, n, x, t, labels, v);
    for (int b = 0; b < n; b++)
        for (int i = 0; i < l->dim; i++) {
            double a = 0.5 + 0.25 * labels[b] + 0.1 * i;
            g[b * l->dim + i] = (float)(2 * a * x[b * l->dim + i] * cot[b * l->dim + i]);
        }
}

static void test_vjps(void) {
    float means[6] = {1, 0, -1, 1, 0, -1.5f}, sds[3] = {0.4f, 0.3f, 0.5f}, ws[3] = {0.5f, 0.3f, 0.2f};
    TfGmm g = {3, 2, means, sds, ws};
    TfScheduler sch[3] = {tf_scheduler_condot(), tf_scheduler_cosine(), tf_scheduler_linear_vp()};
    float x[2] = {0.3f, -0.2f};
    double worst = 0;
    for (int k = 0; k < 3; k++) {
        TfGmmField f;
        tf_gmm_field_init(&f, &g, &sch[k]);
        for (int i = 0; i <= 4; i++) worst = fmax(worst, vjp_fd_error(&f.model, 0.25f * i, NULL, x));
        /* schedule-transform VJP */
        TfScheduleTransform st;
        tf_schedule_transform_init(&st, &f.model, &sch[k], &sch[(k + 1) % 3], 4);
        for (int i = 1; i <= 3; i++) worst = fmax(worst, vjp_fd_error(&st.model, 0.25f * i, NULL, x));
        tf_schedule_transform_free(&st);
        tf_gmm_field_free(&f);
    }
    Lin lin = {3, 4};
    TfVelocityModel lm = {&lin, 3, lin_velocity, lin_vjp, 8};
    TfCfgModel cfg;
    tf_guidance_init(&cfg, &lm, 2.5f, 4, 0);
    CHECK(cfg.model.max_batch == 4);
    float x3[3] = {0.4f, -0.7f, 1.1f};
    int y = 2;
    worst = fmax(worst, vjp_fd_error(&cfg.model, 0.3f, &y, x3));
    tf_guidance_free(&cfg);
    printf("VJP vs finite differences (oracle, schedule transform, CFG): worst relative error %.2e (bound 2e-3)\n", worst);
    CHECK(worst < 2e-3);
}

static double closed_form_error(const TfGmm *g, const TfScheduler *sch, const TfLikelihoodOpts *o, int n,
                                const float *x, double *lp, TfSolveStats *st) {
    TfGmmField f;
    tf_gmm_field_init(&f, g, sch);
    TfGrid gr = tf_grid_uniform(1, 0, o->solver.kind == TF_SOLVER_DOPRI5 ? 1 : 200);
    tf_log_likelihood(&f.model, o, &gr, n, NULL, x, lp, st);
    double worst = 0;
    for (int b = 0; b < n; b++) worst = fmax(worst, fabs(lp[b] - tf_gmm_log_density(g, sch, 1.0, x + b * g->dim)));
    tf_grid_free(&gr);
    tf_gmm_field_free(&f);
    return worst;
}

static void test_exact(void) {
    enum { n = 8 };
    /* One Gaussian in D = 3, and a 3-component mixture in D = 2; CondOT and Cosine. */
    float mu[3] = {0.5f, -1.0f, 0.25f}, sd1 = 0.3f, w1 = 1.0f;
    TfGmm g1 = {1, 3, mu, &sd1, &w1};
    float means[6] = {1, 0, -1, 1, 0, -1.5f}, sds[3] = {0.4f, 0.3f, 0.5f}, ws[3] = {0.5f, 0.3f, 0.2f};
    TfGmm g3 = {3, 2, means, sds, ws};
    TfScheduler sch[2] = {tf_scheduler_condot(), tf_scheduler_cosine()};
    float x[n * 3];
    for (int gi = 0; gi < 2; gi++) {
        const TfGmm *g = gi ? &g3 : &g1;
        tf_gmm_sample(g, 5, 0, 0, n, x);
        for (int k = 0; k < 2; k++) {
            TfLikelihoodOpts o = tf_likelihood_opts();
            o.exact = 1;
            o.solver.atol = o.solver.rtol = 1e-7;
            double lp[n];
            TfSolveStats st;
            double e = closed_form_error(g, &sch[k], &o, n, x, lp, &st);
            printf("exact likelihood, %s, %s, dopri5 tol 1e-7: max |log p - closed form| = %.2e (logp[0] = %.4f), "
                   "NFE %ld, VJP calls %ld\n", gi ? "3-mixture D=2" : "Gaussian D=3", k ? "cosine" : "condot", e, lp[0],
                   st.nfe, st.vjps);
            CHECK(e < 1e-4);
            CHECK(st.vjps == (long)g->dim * st.nfe);
            /* a fixed-step solver gives the same to its own accuracy */
            o.solver = tf_solver_opts(TF_SOLVER_RK4);
            e = closed_form_error(g, &sch[k], &o, n, x, lp, &st);
            CHECK_MSG(e < 1e-4, "RK4-200 exact likelihood error %.3e", e);
            CHECK(st.nfe == 800);
        }
    }
}

static void test_hutchinson(void) {
    enum { n = 8, D = 6 };
    /* 3 overlapping components in D = 6: the Jacobian is not diagonal (one probe is off by up to ~1 nat),
     * yet mild enough that 4000 probes reach 1 % (error ~ 1/sqrt(probes): 1000 -> 1.3e-2, 4000 -> 7e-3 nats mean). */
    float means[3 * D], sds[3] = {SD0, SD1, SD2}, ws[3] = {0.4f, 0.35f, 0.25f};
    for (int i = 0; i < 3 * D; i++) means[i] = (float)(AMP * sin(1.7 * i + 0.3));
    TfGmm g = {3, D, means, sds, ws};
    TfScheduler c = tf_scheduler_condot();
    float x[n * D];
    tf_gmm_sample(&g, 11, 0, 0, n, x);
    double exact[n], one[n], many[n];
    TfLikelihoodOpts o = tf_likelihood_opts();
    o.exact = 1;
    o.solver.atol = o.solver.rtol = 1e-7;
    TfSolveStats st;
    double eex = closed_form_error(&g, &c, &o, n, x, exact, &st);
    CHECK(eex < 1e-3);
    o.exact = 0;
    o.probe_seed = 7;
    o.num_probes = 1;
    closed_form_error(&g, &c, &o, n, x, one, &st);
    CHECK(st.vjps == st.nfe);
    double spread = 0;
    for (int b = 0; b < n; b++) spread = fmax(spread, fabs(one[b] - exact[b]));
    CHECK_MSG(spread > 1e-3, "a single Rademacher probe should not be exact here (spread %.3e)", spread);
    o.num_probes = NPROBE;
    closed_form_error(&g, &c, &o, n, x, many, &st);
    CHECK(st.vjps == NPROBE * st.nfe);
    double worst_rel = 0, mean_abs = 0;
    for (int b = 0; b < n; b++) {
        double rel = fabs(many[b] - exact[b]) / fabs(exact[b]);
        worst_rel = fmax(worst_rel, rel);
        mean_abs += fabs(many[b] - exact[b]) / n;
        CHECK_MSG(rel < 0.01, "sample %d: Hutchinson(NPROBE) %.5f vs exact %.5f", b, many[b], exact[b]);
    }
    printf("Hutchinson D=6 mixture: 1 probe max |err| %.3f; %d probes worst relative error %.2e, mean |err| %.2e "
           "(exact %.2e from closed form)\n", spread, NPROBE, worst_rel, mean_abs, eex);
    /* Probes are keyed by the global index: scoring rows 4..7 alone (first = 4) gives the same numbers.
     * (A fixed-step solver: Dopri5's step sizes depend on the whole batch.) */
    o.num_probes = 3;
    o.solver = tf_solver_opts(TF_SOLVER_RK4);
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &c);
    TfGrid gr = tf_grid_uniform(1, 0, 50);
    double part[4], whole[n];
    tf_log_likelihood(&f.model, &o, &gr, n, NULL, x, whole, NULL);
    o.first = 4;
    tf_log_likelihood(&f.model, &o, &gr, 4, NULL, x + 4 * D, part, NULL);
    for (int b = 0; b < 4; b++) CHECK(part[b] == whole[4 + b]);
    tf_grid_free(&gr);
    tf_gmm_field_free(&f);
}

static void test_bpd(void) {
    CHECK_CLOSE(tf_bits_per_dim(-10 * log(2.0), 10, TF_BPD_SCALE_U8), 8.0, 1e-12, 0);
    CHECK_CLOSE(tf_bits_per_dim(0.0, 3, 1.0 / 127.5), log2(127.5), 1e-12, 0);
    /* Dequantisation: every level k fills [k/128 - 1, (k+1)/128 - 1) uniformly. */
    enum { n = 4000, D = 4 };
    unsigned char *k = malloc(n * D);
    float *x = malloc(n * D * sizeof(float)), *y = malloc(n * D * sizeof(float));
    for (int i = 0; i < n * D; i++) k[i] = (unsigned char)((i * 37) % 256);
    tf_draw_dequantize_u8(1, 2, 0, n, D, k, TF_BPD_SCALE_U8, x);
    double mean_u = 0;
    int inside = 1;
    for (int i = 0; i < n * D; i++) {
        double u = (x[i] + 1.0) * 128.0 - k[i];
        inside &= u >= -1e-4 && u <= 1.0 + 1e-4;
        mean_u += u / (n * D);
    }
    CHECK(inside);
    CHECK_CLOSE(mean_u, 0.5, 0.01, 0);
    tf_draw_dequantize_u8(1, 2, 100, n - 100, D, k + 100 * D, TF_BPD_SCALE_U8, y); /* rows keyed by global index */
    CHECK(memcmp(x + 100 * D, y, (size_t)(n - 100) * D * sizeof(float)) == 0);
    /* End to end: pixels drawn from P(k) proportional to a Gaussian density on the [-1,1] level
     * grid; the model density is that Gaussian (scored by the ODE likelihood of the exact field).
     * E[bpd] must match the entropy of P in bits (within 0.02 bits: bin width vs std 0.3). */
    double P[256], Z = 0, H = 0, sdv = 0.3;
    for (int j = 0; j < 256; j++) {
        double c = (j + 0.5) / 128.0 - 1.0;
        P[j] = exp(-0.5 * c * c / (sdv * sdv));
        Z += P[j];
    }
    for (int j = 0; j < 256; j++) { P[j] /= Z; H -= P[j] * log2(P[j]); }
    enum { m = 64 };
    TfRng r = tf_rng(9, TF_STREAM_USER, 0, 0);
    for (int i = 0; i < m * D; i++) {
        double u = tf_rng_uniform(&r, (uint64_t)i), cum = 0;
        int j = 0;
        while (j < 255 && (cum += P[j]) <= u) j++;
        k[i] = (unsigned char)j;
    }
    tf_draw_dequantize_u8(3, 0, 0, m, D, k, TF_BPD_SCALE_U8, x);
    float zero[D] = {0}, sd = (float)sdv, w = 1;
    TfGmm g = {1, D, zero, &sd, &w};
    TfScheduler c = tf_scheduler_condot();
    TfGmmField f;
    tf_gmm_field_init(&f, &g, &c);
    TfLikelihoodOpts o = tf_likelihood_opts();
    o.exact = 1;
    TfGrid gr = tf_grid_uniform(1, 0, 1);
    double lp[m], bpd = 0;
    tf_log_likelihood(&f.model, &o, &gr, m, NULL, x, lp, NULL);
    for (int b = 0; b < m; b++) bpd += tf_bits_per_dim(lp[b], D, TF_BPD_SCALE_U8) / m;
    /* the sample mean of bpd has its own spread: compare to the entropy within 0.15 bits for 64 x 4 pixels */
    printf("bpd: mean %.4f over %d samples vs entropy of the level distribution %.4f bits\n", bpd, m, H);
    CHECK_CLOSE(bpd, H, 0.15, 0);
    tf_grid_free(&gr);
    tf_gmm_field_free(&f);
    free(k); free(x); free(y);
}

int main(void) {
    test_vjps();
    test_exact();
    test_hutchinson();
    test_bpd();
    return tf_test_finish("test_flow_likelihood");
}
