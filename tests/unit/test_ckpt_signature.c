/* test_ckpt_signature.c - a checkpoint from another model configuration is refused with a
 * message naming the FIRST difference (architecture, missing/extra tensor, shape, optimizer
 * or EMA group), with the first differing model.* config key as a hint; the config-text
 * comparison on its own; the dying wrapper exits with the usage code (2) under fork. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt/ckpt.h"
#include "tf_child.h"
#include "tf_test.h"

static const char *CFG64 =
    "model:\n  name: unet\n  base_ch: 64   # channels\n  ch_mult: [1, 2, 2]\n  blocks:\n  -\n    kind: res\n    n: 2\n"
    "optim:\n  lr: 0.001\n";
static const char *CFG32 =
    "model:\n  name: unet\n  base_ch: 32\n  ch_mult: [1, 2, 2]\n  blocks:\n  -\n    kind: res\n    n: 2\n"
    "optim:\n  lr: 0.002\n";


int main(void) {
    char out[1024];
    /* Config comparison by key path, comments ignored, lists and nested dicts handled. */
    CHECK(tf_ckpt_config_diff(CFG64, CFG32, "model", out, sizeof out) == 1);
    CHECK_MSG(strcmp(out, "model.base_ch is 64 in the checkpoint but 32 in this config") == 0, "%s", out);
    CHECK(tf_ckpt_config_diff(CFG64, CFG64, NULL, out, sizeof out) == 0);
    CHECK(tf_ckpt_config_diff("model:\n  a: 1\n", "model:\n  a: 1 # same\n", "model", out, sizeof out) == 0);
    const char *l1 = "model:\n  blocks:\n  -\n    kind: res\n  -\n    kind: attn\n";
    const char *l2 = "model:\n  blocks:\n  -\n    kind: res\n  -\n    kind: res\n";
    CHECK(tf_ckpt_config_diff(l1, l2, "model", out, sizeof out) == 1 && strstr(out, "model.blocks[1].kind is attn"));
    CHECK(tf_ckpt_config_diff("model:\n  x:\n    - 1\n    - 2\n", "model:\n  x:\n    - 1\n    - 3\n", "model", out, sizeof out) == 1 &&
          strstr(out, "model.x[1] is 2"));
    CHECK(tf_ckpt_config_diff("model:\n  a: 1\n", "model:\n  a: 1\n  b: 2\n", "model", out, sizeof out) == 1 &&
          strstr(out, "model.b is set in this config (2) but not in the checkpoint"));
    CHECK(tf_ckpt_config_diff("model:\n  a: 1\n  b: 2\n", "model:\n  a: 1\n", "model", out, sizeof out) == 1 &&
          strstr(out, "model.b is set in the checkpoint (2)"));
    /* only optim differs: nothing under model, a difference over all keys */
    CHECK(tf_ckpt_config_diff(CFG64, CFG64, "model", out, sizeof out) == 0);
    CHECK(tf_ckpt_config_diff("model:\n  a: 1\noptim:\n  lr: 1\n", "model:\n  a: 1\noptim:\n  lr: 2\n", "model", out, sizeof out) == 0);
    CHECK(tf_ckpt_config_diff("model:\n  a: 1\noptim:\n  lr: 1\n", "model:\n  a: 1\noptim:\n  lr: 2\n", "", out, sizeof out) == 1 &&
          strstr(out, "optim.lr is 1"));
    /* "model_x" is not under "model" */
    CHECK(tf_ckpt_config_diff("model_x: 1\n", "model_x: 2\n", "model", out, sizeof out) == 0);

    /* A checkpoint of a base_ch=64 model with parameters, Adam moments and EMA. */
    char dir[] = "/tmp/tf_ckpt_sig_XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    static float w[64 * 32 * 9];
    const char *pn[3] = {"stem.weight", "down.0.blocks.0.res.conv1.weight", "out.bias"};
    TfCkptTensor model[3] = {{pn[0], 4, {64, 3, 3, 3}, 64 * 27, NULL, 0},
                             {pn[1], 4, {64, 32, 3, 3}, 64 * 32 * 9, NULL, 0},
                             {pn[2], 1, {3}, 3, NULL, 0}};
    const char *groups[4] = {"param", "adam_m", "adam_v", "ema"};
    TfCkptTensor t[12];
    char names[12][96];
    for (int g = 0; g < 4; g++)
        for (int p = 0; p < 3; p++) {
            snprintf(names[g * 3 + p], sizeof names[0], "%s/%s", groups[g], pn[p]);
            t[g * 3 + p] = model[p];
            t[g * 3 + p].name = names[g * 3 + p];
            t[g * 3 + p].data = w;
        }
    TfCkptMeta meta = {.arch = "unet", .config_text = CFG64, .step = 7};
    char err[2048], path[4200];
    CHECK(tf_ckpt_save(dir, &meta, t, 12, path, sizeof path, err, sizeof err) == 0);
    TfCkpt *ck = NULL;
    CHECK_MSG(tf_ckpt_load(path, &ck, err, sizeof err) == 0, "%s", err);
    if (!ck) return 1;

    /* The same model fits (configs may differ outside model.*). */
    CHECK_MSG(tf_ckpt_check_signature(ck, "unet", model, 3, CFG64, err, sizeof err) == 0, "%s", err);
    CHECK(tf_ckpt_check_signature(ck, NULL, model, 3, NULL, err, sizeof err) == 0);
    /* base_ch 32: the first differing parameter, its two shapes, and the config key. */
    TfCkptTensor m32[3] = {model[0], model[1], model[2]};
    m32[0].shape[0] = 32;
    m32[1].shape[0] = 32;
    CHECK(tf_ckpt_check_signature(ck, "unet", m32, 3, CFG32, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "parameter stem.weight has shape [64,3,3,3] in the checkpoint but [32,3,3,3] in this model") &&
              strstr(err, "model.base_ch is 64 in the checkpoint but 32 in this config") && strstr(err, path),
              "%s", err);
    m32[0] = model[0];
    CHECK(tf_ckpt_check_signature(ck, "unet", m32, 3, NULL, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "parameter down.0.blocks.0.res.conv1.weight has shape [64,32,3,3] in the checkpoint but "
                          "[32,32,3,3] in this model") && !strstr(err, "config:"), "%s", err);
    /* Architecture. */
    CHECK(tf_ckpt_check_signature(ck, "mlp", model, 3, NULL, err, sizeof err) == -1 &&
          strstr(err, "architecture is 'unet' in the checkpoint but 'mlp' in this model"));
    /* A parameter this model has and the checkpoint lacks; one the checkpoint has extra. */
    TfCkptTensor more[4] = {model[0], model[1], model[2], {"head.weight", 2, {10, 64}, 640, NULL, 0}};
    CHECK(tf_ckpt_check_signature(ck, "unet", more, 4, NULL, err, sizeof err) == -1 &&
          strstr(err, "parameter head.weight [10,64] is in this model but not in the checkpoint"));
    CHECK(tf_ckpt_check_signature(ck, "unet", model, 2, NULL, err, sizeof err) == -1 &&
          strstr(err, "parameter out.bias [3] is in the checkpoint but not in this model"));
    CHECK(tf_ckpt_check_signature(ck, "unet", model + 1, 2, NULL, err, sizeof err) == -1 &&
          strstr(err, "parameter stem.weight [64,3,3,3] is in the checkpoint but not in this model"));
    TfCkptTensor dot[3] = {model[0], model[1], model[2]};
    dot[2].shape[0] = 3;
    dot[2].ndim = 2;
    dot[2].shape[1] = 1;
    CHECK(tf_ckpt_check_signature(ck, "unet", dot, 3, NULL, err, sizeof err) == -1 && strstr(err, "[3] in the checkpoint but [3,1]"));
    tf_ckpt_free(ck);

    /* Optimizer/EMA groups must cover every parameter with its shape. */
    meta.step = 8;
    t[5].shape[0] = 2;  /* adam_m/out.bias [2] */
    t[5].numel = 2;
    CHECK(tf_ckpt_save(dir, &meta, t, 12, path, sizeof path, err, sizeof err) == 0);
    CHECK(tf_ckpt_load(path, &ck, err, sizeof err) == 0);
    CHECK(ck && tf_ckpt_check_signature(ck, "unet", model, 3, NULL, err, sizeof err) == -1 &&
          strstr(err, "tensor adam_m/out.bias has shape [2] in the checkpoint but [3] in this model"));
    tf_ckpt_free(ck);
    meta.step = 9;
    CHECK(tf_ckpt_save(dir, &meta, t, 11, path, sizeof path, err, sizeof err) == 0); /* no ema/out.bias */
    t[5] = t[2];
    t[5].name = names[5];
    CHECK(tf_ckpt_save(dir, &meta, t, 11, path, sizeof path, err, sizeof err) == 0);
    CHECK(tf_ckpt_load(path, &ck, err, sizeof err) == 0);
    CHECK(ck && tf_ckpt_check_signature(ck, "unet", model, 3, NULL, err, sizeof err) == -1 &&
          strstr(err, "tensor ema/out.bias [3] is in this model but not in the checkpoint"));
    /* The dying wrapper: exit code 2 (a usage error: the config does not match). */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        tf_ckpt_check_signature_or_die(ck, "unet", model, 3, NULL);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    tf_ckpt_free(ck);
    CHECK(tf_ckpt_load_step(dir, 7, &ck, err, sizeof err) == 0);
    pid = fork();
    if (pid == 0) {
        tf_ckpt_check_signature_or_die(ck, "unet", model, 3, CFG32); /* fits: returns */
        _exit(0);
    }
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    tf_ckpt_free(ck);
    tf_rm_dir(dir);
    return tf_test_finish("test_ckpt_signature");
}
