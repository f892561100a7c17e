/* test_gpu_step.c - whole training steps on the GPU against the CPU: the same model (same
 * seed, so the same initial parameters, checked bitwise after upload) and the same batch,
 * two flow-matching steps (forward, MSE, backward, Adam) on each backend, then:
 *   - the model output of step 1:                 norm-wise rel <= 1e-4
 *   - the loss of each step:                      rel <= 1e-4
 *   - every parameter tensor's gradient, step 2:  norm-wise rel <= 2e-3 (per tensor)
 *   - the parameters after step 2:                |gpu - cpu| <= 4.1 lr everywhere (Adam's
 *     first steps move each weight by about +-lr whatever the gradient's size), and the updates
 *     (p - p0) agree: rms(update_gpu - update_cpu) <= 5e-2 rms(update_cpu)
 * and the GPU step repeated from scratch is BITWISE identical (determinism). The models are
 * the reference "mnist" UNet (dropout 0.1, 2 heads: every node kind of a UNet) at batch 4,
 * and the "cifar" UNet at batch 2. Exit 77 when no GPU is visible. */
#include "gpu_test.h"
#include "model/model.h"
#include "optim/optim_cuda.h"

#define LR 1e-3f

typedef struct {
    float *xt, *tgt, *t;
    int32_t *lab;
    size_t n;
} Batch;

static Batch make_batch(const TfTape *tp, int step, int classes) {
    Batch b;
    const int B = tp->batch;
    b.n = tp->t[tp->input].numel;
    b.xt = hnew(b.n); b.tgt = hnew(b.n); b.t = hnew((size_t)B);
    b.lab = calloc((size_t)B, sizeof(int32_t));
    float *x1 = hrand(b.n, 100 + step, 1.0f), *x0 = hrand(b.n, 200 + step, 1.0f);
    const size_t per = b.n / B;
    for (int i = 0; i < B; i++) {
        float t = 0.05f + 0.9f * (float)((i * 7 + step * 3) % 11) / 10.0f;
        b.t[i] = t;
        b.lab[i] = (i + step) % (classes + 1);
        for (size_t k = 0; k < per; k++) {
            size_t j = (size_t)i * per + k;
            b.xt[j] = t * x1[j] + (1.0f - t) * x0[j];
            b.tgt[j] = x1[j] - x0[j];
        }
    }
    free(x1); free(x0);
    return b;
}

typedef struct {
    TfTape tp;
    float *m, *v, *tgt;   /* backend memory */
    double *dl, *part;    /* GPU only */
    double loss[2];
    float *p0, *out1, *grad2; /* host copies: initial parameters, step-1 output, step-2 gradients */
} Run;

/* Two steps of flow matching on backend be (CPU when gpu == 0). */
static void run_steps(Run *r, const TfModelConfig *c, const TfBackend *be, int gpu, int batch) {
    tf_model_build(&r->tp, c, be, batch, TF_BUILD_TRAIN, 42, NULL);
    TfTape *tp = &r->tp;
    const size_t np = tp->n_param_floats;
    r->p0 = hnew(np);
    be->download(r->p0, tp->param, np * sizeof(float));
    TfAdamConfig ac = {TF_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0.0f};
    r->m = be->alloc(np * sizeof(float));
    r->v = be->alloc(np * sizeof(float));
    const size_t n = tp->t[tp->input].numel;
    r->tgt = be->alloc(n * sizeof(float));
    if (gpu) {
        r->dl = be->alloc(sizeof(double));
        r->part = be->alloc(TF_CUDA_LOSS_PARTIALS * sizeof(double));
    }
    for (int s = 0; s < 2; s++) {
        Batch b = make_batch(tp, s, c->num_classes);
        be->upload(tf_tape_data(tp, tp->input), b.xt, n * sizeof(float));
        be->upload(tp->time, b.t, (size_t)batch * sizeof(float));
        be->upload(tp->labels, b.lab, (size_t)batch * sizeof(int32_t));
        be->upload(r->tgt, b.tgt, n * sizeof(float));
        tp->training = 1; tp->seed = 9; tp->step = (uint64_t)s; tp->sample0 = 0;
        tf_tape_zero_grad(tp);
        tf_tape_forward(tp);
        float *out = tf_tape_data(tp, tp->output), *dout = tf_tape_grad(tp, tp->output);
        if (gpu) {
            tf_mse_fwd_cuda(n, out, r->tgt, (double)n, r->dl, r->part, 0);
            be->download(&r->loss[s], r->dl, sizeof(double));
            tf_mse_bwd_cuda(n, out, r->tgt, (double)n, dout, 0);
        } else {
            r->loss[s] = tf_mse_fwd(n, out, r->tgt, (double)n);
            tf_mse_bwd(n, out, r->tgt, (double)n, dout, 0);
        }
        if (s == 0) {
            r->out1 = hnew(n);
            be->download(r->out1, out, n * sizeof(float));
        }
        tf_tape_backward(tp);
        if (s == 1) {
            r->grad2 = hnew(np);
            be->download(r->grad2, tp->grad, np * sizeof(float));
        }
        if (gpu) tf_adam_update_cuda(&ac, np, tp->param, tp->grad, r->m, r->v, s + 1, LR, tf_backend_cuda_stream());
        else tf_adam_update(&ac, np, tp->param, tp->grad, r->m, r->v, s + 1, LR);
        free(b.xt); free(b.tgt); free(b.t); free(b.lab);
    }
    be->sync();
}

static void free_run(Run *r, const TfBackend *be) {
    be->release(r->m); be->release(r->v); be->release(r->tgt);
    if (r->dl) { be->release(r->dl); be->release(r->part); }
    free(r->p0); free(r->out1); free(r->grad2);
    tf_tape_free(&r->tp);
}

static void step_case(const char *name, TfModelConfig c, int batch) {
    printf("%s at batch %d:\n", name, batch);
    Run rc = {0}, rg = {0}, rg2 = {0};
    run_steps(&rc, &c, tf_backend_cpu(), 0, batch);
    run_steps(&rg, &c, g_be, 1, batch);
    const TfTape *tc = &rc.tp, *tg = &rg.tp;
    const size_t np = tc->n_param_floats, n = tc->t[tc->input].numel;
    CHECK(np == tg->n_param_floats);
    char what[200];
    CHECK_MSG(!memcmp(rc.p0, rg.p0, np * sizeof(float)), "%s: initial parameters differ after upload", name);
    snprintf(what, sizeof what, "%s output (step 1)", name);
    {
        double err = 0, sc = 0;
        for (size_t i = 0; i < n; i++) { err = fmax(err, fabs(rg.out1[i] - rc.out1[i])); sc = fmax(sc, fabs(rc.out1[i])); }
        CHECK_MSG(err <= 1e-4 * sc, "%s: output differs by %.3g (scale %.3g)", name, err, sc);
        printf("  %-44s max err %.2e  scale %.2e  rel %.2e  (tol 1e-04)\n", what, err, sc, err / sc);
    }
    for (int s = 0; s < 2; s++) {
        double rel = fabs(rg.loss[s] - rc.loss[s]) / fabs(rc.loss[s]);
        CHECK_MSG(rel <= 1e-4, "%s: loss of step %d: gpu %.9g cpu %.9g", name, s + 1, rg.loss[s], rc.loss[s]);
        printf("  loss step %d: gpu %.9g cpu %.9g (rel %.2e, tol 1e-04)\n", s + 1, rg.loss[s], rc.loss[s], rel);
    }
    double worst = 0;
    const char *worst_name = "";
    for (int p = 0; p < tc->n_params; p++) {
        const TfParamInfo *pi = &tc->params[p];
        double err = 0, sc = 0;
        for (size_t i = 0; i < pi->numel; i++) {
            err = fmax(err, fabs((double)rg.grad2[pi->offset + i] - rc.grad2[pi->offset + i]));
            sc = fmax(sc, fabs(rc.grad2[pi->offset + i]));
        }
        double rel = sc > 0 ? err / sc : err;
        CHECK_MSG(rel <= 2e-3, "%s: gradient of %s differs: rel %.3g (max err %.3g, scale %.3g)", name, pi->name, rel, err, sc);
        if (rel > worst) { worst = rel; worst_name = pi->name; }
    }
    printf("  %d parameter gradients (step 2): worst norm-wise rel %.2e in %s (tol 2e-03)\n", tc->n_params, worst, worst_name);
    /* Adam moves each weight by about +-lr per step whatever the gradient's size, so tiny
     * gradients that differ in sign move it the other way: bound the worst element, and
     * compare the updates (p - p0) in aggregate. */
    float *pg = hget(tg->param, np);
    double maxd = 0, sd = 0, su = 0;
    for (size_t i = 0; i < np; i++) {
        double d = fabs((double)pg[i] - tc->param[i]), u = (double)tc->param[i] - rc.p0[i];
        maxd = fmax(maxd, d);
        sd += d * d;
        su += u * u;
    }
    const double rms_rel = su > 0 ? sqrt(sd / su) : sqrt(sd);
    CHECK_MSG(maxd <= 4.1 * LR, "%s: parameters after 2 steps differ by %.3g (> 4.1 lr)", name, maxd);
    CHECK_MSG(rms_rel <= 0.05, "%s: parameter updates differ by %.3g (rms, relative to the CPU's)", name, rms_rel);
    printf("  parameters after 2 Adam steps: max diff %.2e (bound 4.1 lr = %.1e), rms of the update difference "
           "%.2e of the update (tol 5e-02)\n", maxd, 4.1 * LR, rms_rel);
    /* Determinism: the same two GPU steps again, from scratch, must give the same bits. */
    run_steps(&rg2, &c, g_be, 1, batch);
    float *pg2 = hget(rg2.tp.param, np);
    snprintf(what, sizeof what, "%s rerun: parameters", name);
    CHECK_MSG(!memcmp(pg, pg2, np * sizeof(float)), "%s", what);
    CHECK_MSG(!memcmp(rg.grad2, rg2.grad2, np * sizeof(float)), "%s rerun: gradients", name);
    CHECK_MSG(rg.loss[0] == rg2.loss[0] && rg.loss[1] == rg2.loss[1], "%s rerun: losses", name);
    printf("  rerun on the GPU: parameters, gradients and losses %s\n",
           !memcmp(pg, pg2, np * sizeof(float)) && !memcmp(rg.grad2, rg2.grad2, np * sizeof(float)) ? "bitwise identical"
                                                                                                  : "DIFFERENT");
    free(pg); free(pg2);
    free_run(&rc, tf_backend_cpu());
    free_run(&rg, g_be);
    free_run(&rg2, g_be);
}

int main(void) {
    gpu_require("test_gpu_step");
    TfModelConfig m = tf_model_config_named("mnist");
    m.dropout = 0.1f;
    m.heads = 2;
    step_case("mnist unet (dropout 0.1, 2 heads)", m, 4);
    step_case("cifar unet", tf_model_config_named("cifar"), 2);
    return tf_test_finish("test_gpu_step");
}
