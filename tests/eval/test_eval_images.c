/* test_eval_images.c (label slow) - the metrics behave as FID/KID should on image fixtures:
 * a small classifier (width 8, 32 features) is trained here on 6000 synthetic 28x28 stroke
 * images (eval_synth.h) and the reference statistics are those of that training set; then
 *   - FID of the 2000 held-out test images is low, and grows strictly with additive Gaussian
 *     noise (sigma 0.05, 0.1, 0.2, 0.4) and with blur strength (sigma 0.5, 1, 1.5, 2.5 px);
 *     KID grows from the clean set to the noisiest and the blurriest;
 *   - FID between the two disjoint halves of the test set is far below (< 1/3) the FID of the
 *     first half against a different set (the same generator restricted to classes 0-4);
 *   - the conditional metrics: with the true labels the class accuracy equals the classifier's
 *     test accuracy (> 0.9) and the class entropy is ~log 10; on the 5-class set it is <= log 5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/classifier.h"
#include "eval/eval_synth.h"
#include "eval/metrics.h"
#include "tf_test.h"

#define S 28

static double fid_of(const TfEvalContext *ctx, const float *x, int n, const int *labels, TfEvalResult *r) {
    char err[1024];
    int rc = tf_eval_fid_samples(ctx, x, n, labels, r, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    return r->fid;
}

int main(void) {
    TfDataset *train = synth_dataset("mnist", 6000, 1, S, 1, 0, 10), *test = synth_dataset("mnist", 2000, 1, S, 1, 1000000, 10);
    TfDataset *five = synth_dataset("mnist", 1000, 1, S, 1, 2000000, 5);
    TfModelConfig mc = tf_classifier_default_config(1, S, 10);
    mc.width = 8, mc.feat_dim = 32, mc.groups = 4;
    TfClassifierTrainOpts o;
    memset(&o, 0, sizeof o);
    o.steps = 300, o.batch = 64, o.lr = 3e-3f, o.warmup = 20, o.weight_decay = 0.01f, o.shift = 2, o.seed = 1;
    TfTape tp;
    TfClassifierTrainResult res;
    tf_classifier_train(&tp, &mc, &o, train, &res);
    TfClassifier clf;
    tf_classifier_wrap(&clf, &mc, &tp, 250, "synthetic");
    const double acc = tf_classifier_accuracy(&clf, test, 0);
    printf("classifier: %lld steps in %.1f s, test accuracy %.4f\n", (long long)res.steps, res.seconds, acc);
    CHECK(acc > 0.9);

    TfEvalOpts eo = tf_eval_opts_default();
    eo.kid_subsets = 20, eo.kid_size = 500, eo.kid_ref = 3000;
    TfEvalContext ctx;
    char err[1024];
    CHECK_MSG(tf_eval_context_init(&ctx, &clf, train, NULL, &eo, NULL, err, sizeof err) == 0, "%s", err);
    const size_t m = (size_t)test->n * S * S;
    float *clean = synth_floats(test), *x = malloc(sizeof(float) * m);
    int *labels = malloc(sizeof(int) * (size_t)test->n);
    for (int64_t i = 0; i < test->n; i++) labels[i] = test->labels[i];
    TfEvalResult r0, r;
    const double base = fid_of(&ctx, clean, (int)test->n, labels, &r0);
    printf("clean test set: FID %.4f  KID %.5f +- %.5f  class accuracy %.4f  entropy %.4f (log 10 = %.4f)\n", base, r0.kid,
           r0.kid_std, r0.class_acc, r0.class_entropy, log(10.0));
    CHECK(fabs(r0.class_acc - acc) < 1e-12 && r0.class_entropy > 0.97 * log(10.0));

    const float noise[4] = {0.05f, 0.1f, 0.2f, 0.4f}, blur[4] = {0.5f, 1.0f, 1.5f, 2.5f};
    double prev = base, kid_last = 0;
    for (int k = 0; k < 4; k++) {
        memcpy(x, clean, sizeof(float) * m);
        synth_add_noise(x, m, noise[k], 77);
        double f = fid_of(&ctx, x, (int)test->n, NULL, &r);
        printf("noise sigma %.2f: FID %9.4f  KID %.5f\n", (double)noise[k], f, r.kid);
        CHECK_MSG(f > prev, "FID with noise %.2f (%.4f) is not above the previous level (%.4f)", (double)noise[k], f, prev);
        prev = f;
        kid_last = r.kid;
    }
    CHECK(kid_last > r0.kid + 5 * r0.kid_std);
    prev = base;
    for (int k = 0; k < 4; k++) {
        memcpy(x, clean, sizeof(float) * m);
        synth_blur(x, test->n, 1, S, blur[k]);
        double f = fid_of(&ctx, x, (int)test->n, NULL, &r);
        printf("blur sigma %.1f px: FID %9.4f  KID %.5f\n", (double)blur[k], f, r.kid);
        CHECK_MSG(f > prev, "FID with blur %.1f (%.4f) is not above the previous level (%.4f)", (double)blur[k], f, prev);
        prev = f;
        kid_last = r.kid;
    }
    CHECK(kid_last > r0.kid + 5 * r0.kid_std);

    /* disjoint halves vs a different set, with the first half as the reference */
    float *half = malloc(sizeof(float) * (size_t)1000 * S * S);
    TfEvalShard sh;
    tf_eval_shard_init(&sh, &ctx);
    tf_eval_shard_add(&ctx, &sh, clean, 1000, NULL);
    double *cov = malloc(sizeof(double) * (size_t)ctx.d * ctx.d);
    tf_stats_covariance(&sh.stats, cov);
    TfEvalContext hctx;
    tf_eval_context_from_stats(&hctx, &clf, sh.stats.mean, cov, sh.stats.n, sh.feat, sh.n_feat, &eo);
    const double halves = fid_of(&hctx, clean + (size_t)1000 * S * S, 1000, NULL, &r);
    float *fx = synth_floats(five);
    const double other = fid_of(&hctx, fx, 1000, NULL, &r);
    printf("FID(half 1, half 2) %.4f   FID(half 1, 5-class set) %.4f   entropy of the 5-class set %.4f (log 5 = %.4f)\n",
           halves, other, r.class_entropy, log(5.0));
    CHECK(3 * halves < other);
    CHECK(r.class_entropy <= log(5.0) + 1e-9);
    free(half);

    tf_eval_shard_free(&sh);
    tf_eval_context_free(&hctx);
    tf_eval_context_free(&ctx);
    free(cov); free(clean); free(x); free(labels); free(fx);
    tf_classifier_free(&clf);
    tf_tape_free(&tp);
    free(res.step_loss);
    tf_dataset_free(train);
    tf_dataset_free(test);
    tf_dataset_free(five);
    return tf_test_finish("test_eval_images");
}
