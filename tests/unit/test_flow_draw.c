/* test_flow_draw.c - training-time randomness and batch assembly, and the CFG wrapper.
 * Rank-split invariance (2 ranks x B/2 draw what 1 rank x B draws), the time distributions
 * (uniform reaches t -> 1 by default; logit-normal / skewed moments; clipping), per-sample label
 * dropout, probes, tf_flow_batch (independent and OT), and CFG as ONE batched call of 2n. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rng.h"
#include "flow/batch.h"
#include "flow/draw.h"
#include "flow/grid.h"
#include "flow/likelihood.h"
#include "flow/solver.h"
#include "flow/velocity.h"
#include "tf_test.h"

static void test_rank_split(void) {
    enum { B = 12, D = 5, H = B / 2 };
    TfTimeSampler ts[2] = {tf_time_uniform(), tf_time_skewed()};
    for (int k = 0; k < 2; k++) {
        float a[B], b[B];
        tf_draw_time(&ts[k], 42, 7, 0, B, a);
        tf_draw_time(&ts[k], 42, 7, 0, H, b);      /* rank 0 */
        tf_draw_time(&ts[k], 42, 7, H, H, b + H);  /* rank 1 */
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    float n1[B * D], n2[B * D];
    tf_draw_noise(TF_STREAM_NOISE, 42, 7, 0, B, D, n1);
    tf_draw_noise(TF_STREAM_NOISE, 42, 7, 0, H, D, n2);
    tf_draw_noise(TF_STREAM_NOISE, 42, 7, H, H, D, n2 + H * D);
    CHECK(memcmp(n1, n2, sizeof n1) == 0);
    tf_draw_noise(TF_STREAM_SAMPLE, 42, 7, 0, B, D, n2); /* generation noise is a different stream */
    CHECK(memcmp(n1, n2, sizeof n1) != 0);
    tf_draw_noise(TF_STREAM_NOISE, 42, 8, 0, B, D, n2);  /* and every step is fresh */
    CHECK(memcmp(n1, n2, sizeof n1) != 0);
    int lab[B], l1[B], l2[B];
    for (int i = 0; i < B; i++) lab[i] = i % 10;
    tf_draw_label_dropout(42, 7, 0, B, 0.5, 10, lab, l1);
    tf_draw_label_dropout(42, 7, 0, H, 0.5, 10, lab, l2);
    tf_draw_label_dropout(42, 7, H, H, 0.5, 10, lab + H, l2 + H);
    CHECK(memcmp(l1, l2, sizeof l1) == 0);
    float z1[B * D], z2[B * D];
    tf_draw_rademacher(42, 0, 0, B, D, 0, z1);
    tf_draw_rademacher(42, 0, 0, H, D, 0, z2);
    tf_draw_rademacher(42, 0, H, H, D, 0, z2 + H * D);
    CHECK(memcmp(z1, z2, sizeof z1) == 0);
    tf_draw_rademacher(42, 0, 0, B, D, 1, z2);
    CHECK(memcmp(z1, z2, sizeof z1) != 0);
    /* The whole batch (independent coupling) splits the same way. */
    TfFlowBatchSpec spec = tf_flow_batch_spec();
    spec.label_drop = 0.3;
    spec.num_classes = 10;
    float x1[B * D], t1[B], t2[B], a0[B * D], b0[B * D], xt1[B * D], xt2[B * D], u1[B * D], u2[B * D];
    TfRng r = tf_rng(1, TF_STREAM_USER, 0, 0);
    tf_rng_fill_normal(&r, 0, x1, B * D);
    tf_flow_batch(&spec, 5, 3, 0, B, D, x1, lab, t1, a0, xt1, u1, l1, NULL);
    tf_flow_batch(&spec, 5, 3, 0, H, D, x1, lab, t2, b0, xt2, u2, l2, NULL);
    tf_flow_batch(&spec, 5, 3, H, H, D, x1 + H * D, lab + H, t2 + H, b0 + H * D, xt2 + H * D, u2 + H * D, l2 + H, NULL);
    CHECK(memcmp(t1, t2, sizeof t1) == 0 && memcmp(a0, b0, sizeof a0) == 0 && memcmp(xt1, xt2, sizeof xt1) == 0 &&
          memcmp(u1, u2, sizeof u1) == 0 && memcmp(l1, l2, sizeof l1) == 0);
    /* CondOT: x_t = t x1 + (1 - t) x0 and target = x1 - x0. */
    for (int i = 0; i < B * D; i++) {
        float t = t1[i / D];
        CHECK_CLOSE(xt1[i], t * x1[i] + (1 - t) * a0[i], 1e-6, 1e-6);
        CHECK_CLOSE(u1[i], x1[i] - a0[i], 1e-6, 1e-6);
    }
}

static void test_time_distributions(void) {
    enum { n = 200000 };
    float *t = malloc(n * sizeof(float));
    TfTimeSampler u = tf_time_uniform();
    tf_draw_time(&u, 1, 0, 0, n, t);
    double mean = 0, tmin = 1, tmax = 0, above = 0;
    for (int i = 0; i < n; i++) {
        mean += t[i] / n;
        tmin = fmin(tmin, t[i]);
        tmax = fmax(tmax, t[i]);
        above += t[i] >= 0.99f;
    }
    printf("uniform t: mean %.4f, min %.2e, max %.7f, fraction >= 0.99: %.4f\n", mean, tmin, tmax, above / n);
    CHECK_CLOSE(mean, 0.5, 3e-3, 0);
    CHECK(tmin >= 0.0 && tmin < 1e-4 && tmax < 1.0 && tmax > 0.9999);
    CHECK_CLOSE(above / n, 0.01, 1.5e-3, 0); /* training covers the t near 1 that sampling reaches */
    TfTimeSampler ln = tf_time_logit_normal(-0.5, 0.8);
    tf_draw_time(&ln, 1, 0, 0, n, t);
    double m1 = 0, m2 = 0;
    for (int i = 0; i < n; i++) {
        double l = log(t[i] / (1 - t[i]));
        m1 += l / n;
        m2 += l * l / n;
    }
    CHECK_CLOSE(m1, -0.5, 1e-2, 0);
    CHECK_CLOSE(sqrt(m2 - m1 * m1), 0.8, 1e-2, 0);
    TfTimeSampler sk = tf_time_skewed();
    tf_draw_time(&sk, 1, 0, 0, n, t);
    int below = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        below += t[i] < 0.7685611f; /* sigmoid(1.2), the median of logit-normal(1.2, 1.2) */
        bad += !(t[i] >= 1e-4f && t[i] <= 1.0f);
    }
    CHECK(bad == 0);
    CHECK_CLOSE((double)below / n, 0.5, 5e-3, 0);
    /* EDM form with n' = -n (same law): sigma = exp(-1.2 + 1.2 n'), t = 1 / (1 + sigma). */
    TfRng r = tf_rng(1, TF_STREAM_TIME, 0, 17);
    double nrm = tf_rng_normal(&r, 0);
    CHECK_CLOSE(t[17], 1.0 / (1.0 + exp(-1.2 + 1.2 * -nrm)), 1e-6, 0);
    TfTimeSampler cl = tf_time_clip(tf_time_uniform(), 0.2, 0.4);
    tf_draw_time(&cl, 1, 0, 0, n, t);
    bad = 0;
    for (int i = 0; i < n; i++) bad += !(t[i] >= 0.2f && t[i] <= 0.4f);
    CHECK(bad == 0);
    free(t);
}

static void test_label_dropout(void) {
    enum { n = 100000 };
    int *lab = malloc(n * sizeof(int)), *out = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) lab[i] = i % 7;
    tf_draw_label_dropout(3, 1, 0, n, 0.2, 7, lab, out);
    int dropped = 0, wrong = 0;
    for (int i = 0; i < n; i++) {
        if (out[i] == 7) dropped++;
        else wrong += out[i] != lab[i];
    }
    printf("label dropout p = 0.2: dropped fraction %.4f (per sample)\n", (double)dropped / n);
    CHECK(wrong == 0);
    CHECK_CLOSE((double)dropped / n, 0.2, 4e-3, 0);
    tf_draw_label_dropout(3, 1, 0, n, 0.0, 7, lab, out);
    CHECK(memcmp(lab, out, n * sizeof(int)) == 0);
    tf_draw_label_dropout(3, 1, 0, n, 1.0, 7, lab, out);
    dropped = 0;
    for (int i = 0; i < n; i++) dropped += out[i] == 7;
    CHECK(dropped == n);
    free(lab);
    free(out);
}

static void test_ot_batch(void) {
    enum { B = 32, D = 3 };
    float x1[B * D], t[B], x0[B * D], xt[B * D], u[B * D], ind[B * D];
    TfRng r = tf_rng(9, TF_STREAM_USER, 0, 0);
    tf_rng_fill_normal(&r, 0, x1, B * D);
    for (int i = 0; i < B * D; i++) x1[i] = 0.3f * x1[i] + 3.0f;
    TfFlowBatchSpec spec = tf_flow_batch_spec();
    spec.coupling = TF_COUPLING_OT;
    void *work = malloc(tf_flow_batch_workspace_bytes(&spec, B, D));
    tf_flow_batch(&spec, 1, 2, 0, B, D, x1, NULL, t, x0, xt, u, NULL, work);
    tf_draw_noise(TF_STREAM_NOISE, 1, 2, 0, B, D, ind);
    /* x0 rows are a permutation of the independent noise rows, with no larger pairing cost. */
    int used[B] = {0}, ok = 1;
    double cot = 0, cind = 0;
    for (int i = 0; i < B; i++) {
        int found = -1;
        for (int j = 0; j < B && found < 0; j++)
            if (!used[j] && memcmp(x0 + i * D, ind + j * D, D * sizeof(float)) == 0) found = j;
        ok &= found >= 0;
        if (found >= 0) used[found] = 1;
        for (int k = 0; k < D; k++) {
            cot += ((double)x1[i * D + k] - x0[i * D + k]) * ((double)x1[i * D + k] - x0[i * D + k]);
            cind += ((double)x1[i * D + k] - ind[i * D + k]) * ((double)x1[i * D + k] - ind[i * D + k]);
        }
    }
    CHECK(ok);
    CHECK(cot <= cind);
    printf("OT batch B = %d: pairing cost %.2f vs independent %.2f\n", B, cot, cind);
    free(work);
}

/* CFG: a labelled field u(x | y) = (y + 1) x + y that records how it is called. */
typedef struct { int calls, last_n, labels[64]; } Rec;
static void rec_velocity(void *ctx, int n, const float *x, float t, const int *labels, float *v) {
    Rec *r = ctx;
    r->calls++;
    r->last_n = n;
    for (int b = 0; b < n; b++) {
        r->labels[b] = labels[b];
        for (int i = 0; i < 2; i++) v[b * 2 + i] = (float)((labels[b] + 1) * x[b * 2 + i] + labels[b] + t);
    }
}

static void test_cfg(void) {
    Rec rec = {0, 0, {0}};
    TfVelocityModel inner = {&rec, 2, rec_velocity, NULL, 16};
    TfCfgModel cfg;
    tf_guidance_init(&cfg, &inner, 1.5f, 5, 0);
    CHECK(cfg.model.max_batch == 8 && cfg.model.velocity_vjp == NULL);
    float x[6] = {0.5f, -1, 2, 0.25f, -0.5f, 1}, v[6];
    int y[3] = {0, 3, 4};
    tf_velocity_eval(&cfg.model, 3, x, 0.25f, y, v);
    CHECK(rec.calls == 1 && rec.last_n == 6);
    CHECK(rec.labels[0] == 0 && rec.labels[1] == 3 && rec.labels[2] == 4);
    CHECK(rec.labels[3] == 5 && rec.labels[4] == 5 && rec.labels[5] == 5);
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 2; i++) {
            double xc = x[b * 2 + i];
            double uc = (y[b] + 1) * xc + y[b] + 0.25, uu = 6 * xc + 5 + 0.25;
            CHECK_CLOSE(v[b * 2 + i], 2.5 * uc - 1.5 * uu, 1e-5, 1e-6);
        }
    /* n = 12 > max_batch 8: tf_velocity_eval chunks into 8 + 4, each ONE inner call of 2n. */
    float x12[24], v12[24];
    int y12[12];
    for (int i = 0; i < 24; i++) x12[i] = 0.1f * i;
    for (int i = 0; i < 12; i++) y12[i] = i % 5;
    rec.calls = 0;
    tf_velocity_eval(&cfg.model, 12, x12, 0.5f, y12, v12);
    CHECK(rec.calls == 2 && rec.last_n == 8);
    /* Guidance interval [0.3, 0.7]: outside it one conditional call of n, inside the guided 2n call;
     * the end points are inside. */
    tf_guidance_set_interval(&cfg, 0.3f, 0.7f);
    const float times[5] = {0.25f, 0.3f, 0.5f, 0.7f, 0.75f};
    for (int k = 0; k < 5; k++) {
        int inside = k >= 1 && k <= 3;
        rec.calls = 0;
        tf_velocity_eval(&cfg.model, 3, x, times[k], y, v);
        CHECK_MSG(rec.calls == 1 && rec.last_n == (inside ? 6 : 3), "t = %g: %d calls of %d", (double)times[k], rec.calls, rec.last_n);
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < 2; i++) {
                double xc = x[b * 2 + i];
                double uc = (y[b] + 1) * xc + y[b] + times[k], uu = 6 * xc + 5 + times[k];
                CHECK_CLOSE(v[b * 2 + i], inside ? 2.5 * uc - 1.5 * uu : uc, 1e-5, 1e-6);
            }
    }
    tf_guidance_free(&cfg);
    /* w = 0: a single conditional call of n samples. */
    tf_guidance_init(&cfg, &inner, 0.0f, 5, 4);
    rec.calls = 0;
    tf_velocity_eval(&cfg.model, 3, x, 0.25f, y, v);
    CHECK(rec.calls == 1 && rec.last_n == 3);
    CHECK_CLOSE(v[2], 4 * x[2] + 3 + 0.25, 1e-6, 0);
    tf_guidance_free(&cfg);
}

/* Bad arguments end in tf_die_usage: exit code 2 and a message naming the bad value. */
static void expect_usage_error(void (*bad)(void), const char *needle) {
    int fd[2];
    if (pipe(fd) != 0) { CHECK(0); return; }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        bad();
        _exit(0);
    }
    close(fd[1]);
    char buf[2048] = {0};
    size_t got = 0;
    ssize_t k;
    while (got < sizeof buf - 1 && (k = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)k;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 2, "expected exit code 2 for '%s', got status %d", needle, st);
    CHECK_MSG(strstr(buf, needle) != NULL && strstr(buf, "hint:") != NULL, "message lacks '%s': %s", needle, buf);
}
static void bad_grid(void) { double t[3] = {0, 0.5, 0.4}; tf_grid_from_list(t, 3); }
static void bad_sigma_min(void) { tf_scheduler_ot(1.5); }
static void bad_time_range(void) { tf_time_clip(tf_time_uniform(), 0.0, 0.99 + 0.02); }
static void vel_zero(void *c, int n, const float *x, float t, const int *l, float *v) {
    (void)c; (void)x; (void)t; (void)l;
    memset(v, 0, (size_t)n * 2 * sizeof(float));
}
static void bad_ddim(void) {
    TfVelocityModel m = {NULL, 2, vel_zero, NULL, 0};
    TfSolverOpts o = tf_solver_opts(TF_SOLVER_DDIM);
    TfGrid g = tf_grid_uniform(0, 1, 4);
    float x[2] = {0, 0};
    tf_sample(&m, &o, &g, 1, NULL, x, NULL, NULL, NULL);
}
static void bad_likelihood(void) {
    TfVelocityModel m = {NULL, 2, vel_zero, NULL, 0};
    TfLikelihoodOpts o = tf_likelihood_opts();
    TfGrid g = tf_grid_uniform(1, 0, 4);
    float x[2] = {0, 0};
    double lp;
    tf_log_likelihood(&m, &o, &g, 1, NULL, x, &lp, NULL);
}
static void bad_cfg_labels(void) {
    TfVelocityModel m = {NULL, 2, vel_zero, NULL, 8};
    TfCfgModel c;
    tf_guidance_init(&c, &m, 2.0f, 10, 0);
    float x[2] = {0, 0}, v[2];
    tf_velocity_eval(&c.model, 1, x, 0.5f, NULL, v);
}
static void bad_cfg_interval(void) {
    TfVelocityModel m = {NULL, 2, vel_zero, NULL, 8};
    TfCfgModel c;
    tf_guidance_init(&c, &m, 2.0f, 10, 0);
    tf_guidance_set_interval(&c, 0.8f, 0.2f);
}
static void bad_label(void) { int l = 11, o; tf_draw_label_dropout(0, 0, 0, 1, 0.1, 10, &l, &o); }

static void test_usage_errors(void) {
    expect_usage_error(bad_grid, "not strictly monotone at point 2");
    expect_usage_error(bad_sigma_min, "sigma_min = 1.5");
    expect_usage_error(bad_time_range, "time range [0, 1.01]");
    expect_usage_error(bad_ddim, "DDIM needs the training scheduler");
    expect_usage_error(bad_likelihood, "no velocity_vjp");
    expect_usage_error(bad_cfg_labels, "labels = NULL");
    expect_usage_error(bad_cfg_interval, "guidance interval [0.8, 0.2]");
    expect_usage_error(bad_label, "label[0] = 11");
}

int main(void) {
    test_rank_split();
    test_time_distributions();
    test_label_dropout();
    test_ot_batch();
    test_cfg();
    test_usage_errors();
    return tf_test_finish("test_flow_draw");
}
