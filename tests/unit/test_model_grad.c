/* test_model_grad.c - whole-model gradients (UNet, MLP, classifier) against
 * central finite differences, w.r.t. every parameter tensor (several probes
 * each) and the model input. Small configurations exercise every node kind:
 * attention with 2 heads, dropout (fixed key), label embedding, skips consumed
 * twice. Tolerance: |num - ana| <= 3e-3 + 2e-2 max(|num|,|ana|), eps 1e-2. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "gradcheck.h"
#include "model/model.h"

typedef struct { TfTape *tp; } Ctx;
static void fwd(void *c) { tf_tape_forward(((Ctx *)c)->tp); }

static void check_model(const char *what, TfModelConfig *cfg, int B, int probes_per_param) {
    TfTape tp;
    tf_model_build(&tp, cfg, tf_backend_cpu(), B, 1, 7, NULL);
    tp.training = 1; tp.seed = 3; tp.step = 5; tp.sample0 = 10;
    size_t nin = tp.t[tp.input].numel, nout = tp.t[tp.output].numel;
    gc_fill(tf_tape_data(&tp, tp.input), nin, 31, 1.0f);
    for (int b = 0; b < B; b++) { tp.time[b] = 0.1f + 0.8f * b / B; tp.labels[b] = b % (cfg->num_classes + (cfg->kind == TF_MODEL_CLASSIFIER ? 0 : 1)); }
    /* Random parameters (not the init) so zero-init or symmetric choices hide nothing. */
    gc_fill(tp.param, tp.n_param_floats, 32, 0.4f);
    float *r = malloc(sizeof(float) * nout);
    gc_fill(r, nout, 33, 1.0f);
    tf_tape_zero_grad(&tp);
    tf_tape_forward(&tp);
    memcpy(tf_tape_grad(&tp, tp.output), r, sizeof(float) * nout);
    tf_tape_backward(&tp);
    float *grad = malloc(sizeof(float) * tp.n_param_floats), *gin = malloc(sizeof(float) * nin);
    memcpy(grad, tp.grad, sizeof(float) * tp.n_param_floats);
    memcpy(gin, tf_tape_grad(&tp, tp.input), sizeof(float) * nin);
    Ctx c = {&tp};
    int bad = 0;
    for (int p = 0; p < tp.n_params; p++) {
        GcTensor t = {tp.params[p].name, tp.param + tp.params[p].offset, grad + tp.params[p].offset, tp.params[p].numel};
        bad += gc_check(what, fwd, &c, tf_tape_data(&tp, tp.output), r, nout, &t, 1e-2f, 3e-3, 2e-2, probes_per_param);
    }
    GcTensor ti = {"input", tf_tape_data(&tp, tp.input), gin, nin};
    bad += gc_check(what, fwd, &c, tf_tape_data(&tp, tp.output), r, nout, &ti, 1e-2f, 3e-3, 2e-2, 30);
    printf("%s: %d parameter tensors, %zu floats, %d bad probes\n", what, tp.n_params, tp.n_param_floats, bad);
    /* Backward twice from zeroed grads gives identical parameter gradients (no stale accumulation). */
    tf_tape_zero_grad(&tp);
    tf_tape_forward(&tp);
    memcpy(tf_tape_grad(&tp, tp.output), r, sizeof(float) * nout);
    tf_tape_backward(&tp);
    CHECK_MSG(memcmp(grad, tp.grad, sizeof(float) * tp.n_param_floats) == 0, "%s: second backward differs", what);
    free(r); free(grad); free(gin);
    tf_tape_free(&tp);
}

int main(void) {
    TfModelConfig u = tf_model_config_named("mnist");
    u.in_ch = 2; u.image_size = 8; u.base_ch = 8; u.n_mult = 2; u.ch_mult[0] = 1; u.ch_mult[1] = 2;
    u.num_res_blocks = 1; u.attn_res[0] = 4; u.n_attn = 1; u.groups = 4; u.heads = 2; u.num_classes = 3;
    u.dropout = 0.2f;
    check_model("unet", &u, 2, 3);
    TfModelConfig m = tf_model_config_named("mlp2d");
    m.hidden = 16; m.layers = 3; m.num_classes = 2; m.dropout = 0.1f;
    check_model("mlp", &m, 3, 6);
    TfModelConfig k = tf_model_config_named("classifier_mnist");
    k.image_size = 8; k.width = 4; k.groups = 2; k.feat_dim = 6; k.num_classes = 3; k.dropout = 0.0f;
    check_model("classifier", &k, 2, 4);
    return tf_test_finish("test_model_grad");
}
