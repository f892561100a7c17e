/* test_flow2d_engine.c - the 2-D end-to-end check of the flow core ON THE ENGINE:
 * the time-conditioned MLP (model/mlp.c) is trained with conditional flow matching
 * (CondOT path, uniform t, keyed noise, Adam) on 8 Gaussians (radius 2, std 0.2),
 * then sampled from N(0, I) through the TfVelocityModel bridge with Euler (100 steps)
 * and Heun (25 steps). Pass: squared energy distance to fresh data < 0.02 (reference
 * vs reference is ~0 +- 0.002; noise vs reference is ~1.4), every mode holds 8-17 % of
 * the samples, >= 90 % lie within 3 std of a mode; the loss fell by > 15 % (the CFM loss has a large irreducible floor). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "data/toy.h"
#include "eval/model_velocity.h"
#include "flow/draw.h"
#include "flow/grid.h"
#include "flow/solver.h"
#include "model/model.h"
#include "ops/ops.h"
#include "optim/optim.h"
#include "core/rng.h"
#include "energy.h"
#include "tf_test.h"

#define PI 3.14159265358979323846

#define B 512
#define STEPS 2000
#define NS 2000


static void check_samples(const char *what, const float *x, const float *ref, long nfe) {
    int cnt[8] = {0}, near = 0;
    for (int i = 0; i < NS; i++) {
        double best = INFINITY;
        int bk = 0;
        for (int k = 0; k < 8; k++) {
            double dx = x[2 * i] - 2 * cos(k * PI / 4), dy = x[2 * i + 1] - 2 * sin(k * PI / 4);
            double d = hypot(dx, dy);
            if (d < best) { best = d; bk = k; }
        }
        cnt[bk]++;
        near += best < 3 * 0.2;
    }
    double e = energy2(x, NS, ref, NS);
    int lo = NS, hi = 0;
    for (int k = 0; k < 8; k++) { lo = cnt[k] < lo ? cnt[k] : lo; hi = cnt[k] > hi ? cnt[k] : hi; }
    printf("%-12s NFE %3ld: energy distance^2 %.5f (bound 0.02), modes %.3f..%.3f, within 3 std %.3f\n", what, nfe, e,
           (double)lo / NS, (double)hi / NS, (double)near / NS);
    CHECK_MSG(e < 0.02, "%s: energy distance^2 %.4f", what, e);
    CHECK_MSG(lo >= 0.08 * NS && hi <= 0.17 * NS, "%s: mode fractions %d..%d of %d", what, lo, hi, NS);
    CHECK_MSG(near >= 0.90 * NS, "%s: %d of %d within 3 std", what, near, NS);
}

int main(void) {
    TfModelConfig c = tf_model_config_named("mlp2d");
    TfTape tp, inf;
    tf_model_build(&tp, &c, tf_backend_cpu(), B, TF_BUILD_TRAIN, 11, NULL);
    const size_t np = tp.n_param_floats;
    float *m = calloc(np, 4), *v = calloc(np, 4), *x1 = malloc(sizeof(float) * B * 2), *x0 = malloc(sizeof(float) * B * 2),
          *t = malloc(sizeof(float) * B), *tgt = malloc(sizeof(float) * B * 2);
    TfAdamConfig ac = {TF_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0.0f};
    TfTimeSampler ts = tf_time_uniform();
    double first = 0, last = 0;
    for (int step = 0; step < STEPS; step++) {
        for (int b = 0; b < B; b++) tf_toy_point(TF_DATA_8GAUSSIANS, 5, 0, (uint64_t)step * B + b, x1 + 2 * b, NULL);
        tf_draw_time(&ts, 5, (uint64_t)step, 0, B, t);
        tf_draw_noise(TF_STREAM_NOISE, 5, (uint64_t)step, 0, B, 2, x0);
        float *xt = tf_tape_data(&tp, tp.input);
        for (int b = 0; b < B; b++) {
            tp.time[b] = t[b];
            for (int k = 0; k < 2; k++) {
                xt[2 * b + k] = t[b] * x1[2 * b + k] + (1 - t[b]) * x0[2 * b + k];
                tgt[2 * b + k] = x1[2 * b + k] - x0[2 * b + k];
            }
        }
        tf_tape_zero_grad(&tp);
        tf_tape_forward(&tp);
        float *out = tf_tape_data(&tp, tp.output);
        double loss = tf_mse_fwd(B * 2, out, tgt, B * 2);
        tf_mse_bwd(B * 2, out, tgt, B * 2, tf_tape_grad(&tp, tp.output), 0);
        tf_tape_backward(&tp);
        float lr = 2e-3f * (float)(0.5 * (1 + cos(PI * step / STEPS))) + 1e-5f;
        tf_adam_update(&ac, np, tp.param, tp.grad, m, v, step + 1, lr);
        if (step < 50) first += loss / 50;
        if (step >= STEPS - 50) last += loss / 50;
    }
    printf("training loss: first 50 steps %.4f, last 50 steps %.4f\n", first, last);
    CHECK(last < 0.85 * first); /* CFM loss has a large irreducible floor */
    /* sampling through the bridge, on an inference tape sharing the trained parameters */
    tf_model_build(&inf, &c, tf_backend_cpu(), 500, TF_BUILD_INFERENCE, 0, &tp);
    TfTapeVelocity tv;
    tf_tape_velocity_init(&tv, &inf, 0);
    float *ref = malloc(sizeof(float) * NS * 2), *x = malloc(sizeof(float) * NS * 2);
    for (int i = 0; i < NS; i++) tf_toy_point(TF_DATA_8GAUSSIANS, 99, 1, (uint64_t)i, ref + 2 * i, NULL);
    const TfSolverKind kinds[2] = {TF_SOLVER_EULER, TF_SOLVER_HEUN};
    const int steps[2] = {100, 25};
    for (int s = 0; s < 2; s++) {
        tf_draw_noise(TF_STREAM_SAMPLE, 7, 0, 0, NS, 2, x);
        TfSolverOpts o = tf_solver_opts(kinds[s]);
        TfGrid g = tf_grid_uniform(0.0, 1.0, steps[s]);
        void *work = malloc(tf_sample_workspace_bytes(kinds[s], NS, 2));
        TfSolveStats st;
        tf_sample(&tv.model, &o, &g, NS, NULL, x, NULL, &st, work);
        CHECK(st.nfe == (long)steps[s] * tf_solver_stages(kinds[s]));
        check_samples(tf_solver_name(kinds[s]), x, ref, st.nfe);
        free(work);
        tf_grid_free(&g);
    }
    tf_tape_free(&inf);
    tf_tape_free(&tp);
    free(m); free(v); free(x1); free(x0); free(t); free(tgt); free(ref); free(x);
    return tf_test_finish("test_flow2d_engine");
}
