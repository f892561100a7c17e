/* test_model_config.c - bad model configurations end in a clear message (naming the
 * config key and a fix) and exit code 2, never a crash; good ones build. Each bad case
 * runs in a forked child whose stderr is captured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "model/model.h"
#include "tf_child.h"
#include "tf_test.h"

typedef struct { const TfModelConfig *c; int batch; } BuildArgs;
static void build(const void *arg) {
    const BuildArgs *a = arg;
    TfTape tp;
    tf_model_build(&tp, a->c, tf_backend_cpu(), a->batch, 0, 1, NULL);
    tf_tape_free(&tp);
}
static void named(const void *name) { tf_model_config_named(name); }

/* Build in a forked child: its exit code, and its stderr in buf. */
static int build_in_child(const TfModelConfig *c, int batch, char *buf, size_t cap) {
    BuildArgs a = {c, batch};
    return tf_child_run(build, &a, buf, cap);
}

static void expect_error(const char *what, TfModelConfig c, int batch, const char *needle) {
    char buf[4096];
    int code = build_in_child(&c, batch, buf, sizeof buf);
    CHECK_MSG(code == 2, "%s: exit code %d, want 2 (stderr: %s)", what, code, buf);
    CHECK_MSG(strstr(buf, needle) != NULL, "%s: message lacks '%s': %s", what, needle, buf);
    CHECK_MSG(strstr(buf, "hint:") != NULL, "%s: message has no hint: %s", what, buf);
}

int main(void) {
    TfModelConfig u = tf_model_config_named("mnist");
    TfModelConfig c;
    c = u; c.groups = 5; expect_error("groups", c, 2, "model.groups");
    c = u; c.n_mult = 0; expect_error("no levels", c, 2, "model.ch_mult");
    c = u; c.ch_mult[1] = 0; expect_error("zero multiplier", c, 2, "model.ch_mult");
    c = u; c.attn_res[0] = 9; expect_error("attn_res", c, 2, "model.attn_res");
    c = u; c.heads = 3; expect_error("heads", c, 2, "heads");
    c = u; c.dropout = 1.5f; expect_error("dropout", c, 2, "model.dropout");
    c = u; c.base_ch = -8; expect_error("base_ch", c, 2, "model.base_ch");
    c = u; c.in_ch = 0; expect_error("in_ch", c, 2, "model.in_ch");
    c = u; c.image_size = 2; c.n_attn = 0; c.n_mult = 5; c.ch_mult[3] = c.ch_mult[4] = 1;
    expect_error("too many levels for the image", c, 2, "model.ch_mult");
    c = u; expect_error("batch", c, 0, "batch");
    TfModelConfig m = tf_model_config_named("mlp2d");
    c = m; c.temb_dim = 7; expect_error("odd temb", c, 2, "model.temb_dim");
    c = m; c.layers = 0; expect_error("layers", c, 2, "model.layers");
    TfModelConfig k = tf_model_config_named("classifier_mnist");
    c = k; c.num_classes = 1; expect_error("classes", c, 2, "model.num_classes");
    c = k; c.image_size = 3; expect_error("tiny image", c, 2, "model.image_size");
    /* Unknown named configuration. */
    {
        char buf[1024];
        int code = tf_child_run(named, "resnet", buf, sizeof buf);
        CHECK(code == 2 && strstr(buf, "resnet") && strstr(buf, "mnist"));
    }
    /* The named configurations are valid and build. */
    const char *names[] = {"mnist", "cifar", "mlp2d", "classifier_mnist", "classifier_cifar"};
    for (int i = 0; i < 5; i++) {
        char buf[4096];
        TfModelConfig g = tf_model_config_named(names[i]);
        int code = build_in_child(&g, 2, buf, sizeof buf);
        CHECK_MSG(code == 0, "%s does not build: %s", names[i], buf);
    }
    /* Parameter counts of the reference UNets (same as the PyTorch reference module). */
    TfTape tp;
    tf_model_build(&tp, &u, tf_backend_cpu(), 1, 0, 1, NULL);
    size_t n = 0;
    for (int p = 0; p < tp.n_params; p++) n += tp.params[p].numel;
    printf("mnist UNet: %d tensors, %zu parameters\n", tp.n_params, n);
    CHECK(tp.n_params == 245);
    tf_tape_free(&tp);
    return tf_test_finish("test_model_config");
}
