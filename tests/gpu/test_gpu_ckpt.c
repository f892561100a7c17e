/* test_gpu_ckpt.c - CPU <-> GPU checkpoint round trips through the backends' own copies:
 *   GPU model (after one Adam step, so moments are non-trivial) -> download -> tf_ckpt_save
 *   -> tf_ckpt_load -> upload into a GPU model built from ANOTHER seed and fresh moment
 *   arenas -> download: parameters and moments BITWISE equal to what was saved;
 *   the same checkpoint into a CPU model: bitwise equal, and both models then give the same
 *   output on the same batch (norm-wise rel <= 1e-4);
 *   and a CPU-initialised model saved and loaded onto the GPU: bitwise equal.
 * Exit 77 when no GPU is visible. */
#include <unistd.h>

#include "../tf_child.h"
#include "ckpt/ckpt.h"
#include "gpu_test.h"
#include "model/model.h"
#include "optim/optim_cuda.h"

static const char *k_groups[3] = {"param", "adam_m", "adam_v"};

/* Save arenas[3] (host copies of parameters, m, v) of tape tp's layout as step `step`. */
static void save(const char *dir, const TfTape *tp, float *const arenas[3], uint64_t step) {
    const int np = tp->n_params;
    TfCkptTensor *t = calloc((size_t)3 * np, sizeof *t);
    char (*names)[TF_CKPT_NAME_MAX + 1] = calloc((size_t)3 * np, sizeof *names);
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < np; i++) {
            const TfParamInfo *p = &tp->params[i];
            TfCkptTensor *x = &t[g * np + i];
            snprintf(names[g * np + i], sizeof names[0], "%s/%s", k_groups[g], p->name);
            x->name = names[g * np + i];
            x->ndim = p->ndim;
            memcpy(x->shape, p->shape, sizeof x->shape);
            x->numel = p->numel;
            x->data = arenas[g] + p->offset;
        }
    TfCkptMeta meta = {0};
    meta.arch = "unet";
    meta.config_text = "";
    meta.step = step;
    char err[512];
    int rc = tf_ckpt_save(dir, &meta, t, 3 * np, NULL, 0, err, sizeof err);
    CHECK_MSG(rc == 0, "save: %s", err);
    free(t);
    free(names);
}

/* Load step `step` of dir into host arenas[3] laid out as tp's parameters. */
static void load(const char *dir, const TfTape *tp, float *arenas[3], uint64_t step) {
    TfCkpt *ck = NULL;
    char err[512], name[TF_CKPT_NAME_MAX + 1];
    int rc = tf_ckpt_load_step(dir, step, &ck, err, sizeof err);
    CHECK_MSG(rc == 0 && ck, "load: %s", err);
    if (!ck) return;
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < tp->n_params; i++) {
            snprintf(name, sizeof name, "%s/%s", k_groups[g], tp->params[i].name);
            const TfCkptTensor *x = tf_ckpt_tensor(ck, name);
            CHECK_MSG(x && x->numel == tp->params[i].numel, "tensor %s missing or misshaped", name);
            if (x) memcpy(arenas[g] + tp->params[i].offset, x->data, x->numel * sizeof(float));
        }
    tf_ckpt_free(ck);
}

int main(void) {
    gpu_require("test_gpu_ckpt");
    char dir[] = "/tmp/tf_gpu_ckpt_XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    TfModelConfig c = tf_model_config_named("mnist");
    const int B = 2;
    TfTape tg, tg2, tc;
    tf_model_build(&tg, &c, g_be, B, TF_BUILD_TRAIN, 1, NULL);
    const size_t np = tg.n_param_floats, n = tg.t[tg.input].numel;
    /* one Adam step on the GPU from a random gradient, so m and v are not zero */
    float *m = dnew(np), *v = dnew(np), *hg = hrand(np, 5, 1e-2f);
    g_be->upload(tg.grad, hg, np * sizeof(float));
    TfAdamConfig ac = {TF_OPTIM_ADAMW, 0.9f, 0.999f, 1e-8f, 0.01f};
    tf_adam_update_cuda(&ac, np, tg.param, tg.grad, m, v, 1, 1e-3f, tf_backend_cuda_stream());
    float *saved[3] = {hget(tg.param, np), hget(m, np), hget(v, np)};
    save(dir, &tg, saved, 1);
    /* into another GPU model (other seed) and fresh moments */
    tf_model_build(&tg2, &c, g_be, B, TF_BUILD_TRAIN, 999, NULL);
    float *m2 = dnew(np), *v2 = dnew(np), *dev2[3] = {tg2.param, m2, v2};
    float *host[3] = {hnew(np), hnew(np), hnew(np)};
    load(dir, &tg2, host, 1);
    for (int g = 0; g < 3; g++) {
        g_be->upload(dev2[g], host[g], np * sizeof(float));
        char what[64];
        snprintf(what, sizeof what, "GPU -> ckpt -> GPU: %s", k_groups[g]);
        cmp_dev_exact(what, dev2[g], saved[g], np, sizeof(float));
    }
    /* into a CPU model: same bits, same forward */
    tf_model_build(&tc, &c, tf_backend_cpu(), B, TF_BUILD_INFERENCE, 999, NULL);
    memcpy(tc.param, host[0], np * sizeof(float));
    CHECK_MSG(!memcmp(tc.param, saved[0], np * sizeof(float)), "GPU -> ckpt -> CPU: parameters differ");
    printf("  %-44s bitwise %s\n", "GPU -> ckpt -> CPU: param",
           memcmp(tc.param, saved[0], np * sizeof(float)) ? "DIFFERENT" : "identical");
    float *x = hrand(n, 7, 1.0f), t[2] = {0.3f, 0.8f};
    int32_t lab[2] = {3, 10};
    memcpy(tf_tape_data(&tc, tc.input), x, n * sizeof(float));
    memcpy(tc.time, t, sizeof t);
    memcpy(tc.labels, lab, sizeof lab);
    g_be->upload(tf_tape_data(&tg2, tg2.input), x, n * sizeof(float));
    g_be->upload(tg2.time, t, sizeof t);
    g_be->upload(tg2.labels, lab, sizeof lab);
    tc.training = tg2.training = 0;
    tf_tape_forward(&tc);
    tf_tape_forward(&tg2);
    cmp_dev("restored models: GPU output vs CPU output", tf_tape_data(&tg2, tg2.output), tf_tape_data(&tc, tc.output), n,
            1e-4);
    /* CPU-initialised parameters -> checkpoint -> GPU */
    float *zeros = hnew(np), *cpu_saved[3] = {tc.param, zeros, zeros};
    tf_tape_init_params(&tc, 12345);
    save(dir, &tc, cpu_saved, 2);
    load(dir, &tc, host, 2);
    g_be->upload(tg2.param, host[0], np * sizeof(float));
    cmp_dev_exact("CPU -> ckpt -> GPU: param", tg2.param, tc.param, np, sizeof(float));
    tf_rm_dir(dir);
    for (int g = 0; g < 3; g++) { free(saved[g]); free(host[g]); }
    free(hg); free(x); free(zeros);
    dfree(m); dfree(v); dfree(m2); dfree(v2);
    tf_tape_free(&tg);
    tf_tape_free(&tg2);
    tf_tape_free(&tc);
    return tf_test_finish("test_gpu_ckpt");
}
