/* test_eval_classifier.c - the feature classifier end to end on a small synthetic set
 * (16x16 grey strokes, 10 classes; tests/eval/eval_synth.h):
 *   - 100 steps of the training loop reach > 60 % test accuracy (chance is 10 %);
 *   - the saved checkpoint (found through its folder) reloads with the same hash, the same
 *     test accuracy and bitwise identical features and logits, and records the accuracy;
 *   - a checkpoint of another architecture is refused with a message naming it;
 *   - the warm-up + cosine schedule: lr(warmup-1) = peak, lr(last) = min_lr;
 *   - a run's config text rebuilds its UNet configuration (model.* keys, interpolations,
 *     path scheduler), and a config without model.name is refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/ckpt.h"
#include "eval/classifier.h"
#include "eval/eval_synth.h"
#include "eval/run_model.h"
#include "tf_test.h"

int main(void) {
    const int S = 16;
    TfDataset *train = synth_dataset("mnist", 1600, 1, S, 11, 0, 10), *test = synth_dataset("mnist", 400, 1, S, 11, 100000, 10);
    TfModelConfig mc = tf_classifier_default_config(1, S, 10);
    mc.width = 8, mc.feat_dim = 16, mc.groups = 4;
    TfClassifierTrainOpts o;
    memset(&o, 0, sizeof o);
    o.steps = 100, o.batch = 32, o.lr = 3e-3f, o.min_lr = 1e-4f, o.warmup = 10, o.weight_decay = 0.01f, o.shift = 1;
    o.seed = 5;
    CHECK_CLOSE(tf_classifier_lr(&o, 9), 3e-3, 1e-9, 0);
    CHECK_CLOSE(tf_classifier_lr(&o, 99), 1e-4, 1e-9, 0);
    CHECK(tf_classifier_lr(&o, 0) < tf_classifier_lr(&o, 5) && tf_classifier_lr(&o, 60) < tf_classifier_lr(&o, 20));
    TfTape tp;
    TfClassifierTrainResult res;
    tf_classifier_train(&tp, &mc, &o, train, &res);
    TfClassifier live;
    tf_classifier_wrap(&live, &mc, &tp, 64, "mnist");
    const double acc = tf_classifier_accuracy(&live, test, 0);
    printf("synthetic 16x16: %lld steps, train loss %.3f, test accuracy %.4f (%.1f s)\n", (long long)res.steps, res.loss,
           acc, res.seconds);
    CHECK(acc > 0.6);
    /* the per-step losses: res.loss is the mean of the last min(100, steps), and they went down */
    CHECK(res.step_loss != NULL && res.steps == 100);
    if (res.step_loss) {
        double ml = 0;
        for (int i = 0; i < 100; i++) ml += res.step_loss[i] / 100.0;
        CHECK_CLOSE(res.loss, ml, 1e-9, 1e-6);
        CHECK(res.step_loss[99] < 0.5 * res.step_loss[0]);
    }

    char dir[] = "/tmp/tf_test_clf_XXXXXX", path[4200], err[4096];
    CHECK(mkdtemp(dir) != NULL);
    CHECK_MSG(tf_classifier_save(dir, &mc, &tp, "mnist", acc, 100, 5, res.seconds, path, sizeof path, err, sizeof err) == 0,
              "%s", err);
    TfClassifier back;
    CHECK_MSG(tf_classifier_load(dir, 50, &back, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(back.hash, live.hash) && !strcmp(back.dataset, "mnist") && back.cfg.feat_dim == 16);
    CHECK(fabs(back.recorded_accuracy - acc) < 1e-6);
    const double acc2 = tf_classifier_accuracy(&back, test, 0);
    printf("reloaded from %s: hash %s, test accuracy %.4f\n", path, back.hash, acc2);
    CHECK(acc2 == acc);
    float *x = synth_floats(test);
    const size_t nf = 400 * 16, nl = 400 * 10;
    float *f1 = malloc(sizeof(float) * nf), *f2 = malloc(sizeof(float) * nf), *l1 = malloc(sizeof(float) * nl),
          *l2 = malloc(sizeof(float) * nl);
    tf_classifier_run(&live, x, 400, f1, l1);
    tf_classifier_run(&back, x, 400, f2, l2);
    CHECK(!memcmp(f1, f2, sizeof(float) * nf) && !memcmp(l1, l2, sizeof(float) * nl));

    /* another architecture's checkpoint */
    TfCkptMeta meta;
    memset(&meta, 0, sizeof meta);
    meta.arch = "unet";
    meta.config_text = "model:\n  name: unet\n";
    meta.step = 1;
    float w = 1.0f;
    TfCkptTensor t = {"param/w", 1, {1, 0, 0, 0}, 1, &w, 0};
    char other[4200];
    CHECK(tf_ckpt_save(dir, &meta, &t, 1, other, sizeof other, err, sizeof err) == 0);
    TfClassifier bad;
    CHECK(tf_classifier_load(other, 8, &bad, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "'unet' model") != NULL, "%s", err);

    /* a run's config text -> TfModelConfig */
    TfRunModel rm;
    const char *yaml = "dataset:\n  name: mnist\n  channels: 1\n  image_size: 28\nmodel:\n  name: unet\n"
                       "  in_ch: ${dataset.channels}\n  image_size: ${dataset.image_size}\n  base_ch: 16\n"
                       "  ch_mult: [1, 2]\n  num_res_blocks: 1\n  attn_res: []\n  groups: 4\n  heads: 2\n"
                       "  dropout: 0.0\n  num_classes: 10\n  zero_init: false\npath:\n  scheduler: polynomial\n  n: 2.0\n";
    CHECK_MSG(tf_run_model_from_text(yaml, &rm, err, sizeof err) == 0, "%s", err);
    CHECK(rm.model.kind == TF_MODEL_UNET && rm.model.in_ch == 1 && rm.model.image_size == 28 && rm.model.base_ch == 16);
    CHECK(rm.model.n_mult == 2 && rm.model.ch_mult[1] == 2 && rm.model.n_attn == 0 && rm.model.groups == 4);
    CHECK(rm.model.heads == 2 && rm.model.num_classes == 10 && !rm.model.zero_init && rm.model.num_res_blocks == 1);
    CHECK(rm.sched.kind == TF_SCHED_POLYNOMIAL && rm.sched.n == 2.0 && !strcmp(rm.dataset, "mnist"));
    CHECK(tf_run_model_from_text("dataset:\n  name: mnist\n", &rm, err, sizeof err) == -1 && strstr(err, "model.name"));

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    free(x); free(f1); free(f2); free(l1); free(l2);
    tf_classifier_free(&back);
    tf_classifier_free(&live);
    tf_tape_free(&tp);
    free(res.step_loss);
    tf_dataset_free(train);
    tf_dataset_free(test);
    return tf_test_finish("test_eval_classifier");
}
