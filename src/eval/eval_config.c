/* eval_config.c - eval.* / solver.* keys into eval/'s option structs (see eval_config.h).
 * Must not know about MPI, files or the CLI. */
#include "eval/eval_config.h"

#include <omp.h>
#include <string.h>

#include "core/check.h"

const char *tf_eval_cfg_str(const TfCfg *cfg, const char *key) {
    return tf_cfg_has(cfg, key) ? tf_cfg_get_str(cfg, key) : NULL;
}

static int64_t int_or(const TfCfg *cfg, const char *key, int64_t fallback) {
    return tf_cfg_has(cfg, key) ? tf_cfg_get_int(cfg, key) : fallback;
}

static double float_or(const TfCfg *cfg, const char *key, double fallback) {
    return tf_cfg_has(cfg, key) ? tf_cfg_get_float(cfg, key) : fallback;
}

void tf_eval_guidance_interval(const TfCfg *cfg, float iv[2]) {
    const char *key = tf_cfg_has(cfg, "eval.solver.guidance_interval") ? "eval.solver.guidance_interval"
                      : tf_cfg_has(cfg, "solver.guidance_interval")    ? "solver.guidance_interval" : NULL;
    double b[2] = {0.0, 1.0};
    if (key && tf_cfg_get_float_list(cfg, key, b, 2) != 2)
        tf_die_usage("give two times, e.g. [0.2, 0.8]", "%s must have 2 elements", key);
    iv[0] = (float)b[0];
    iv[1] = (float)b[1];
}

TfEvalSampleOpts tf_eval_sample_opts(const TfCfg *cfg, const TfScheduler *sched) {
    TfEvalSampleOpts o;
    memset(&o, 0, sizeof o);
    const char *name = tf_eval_cfg_str(cfg, "eval.solver.name");
    if (!name) name = tf_cfg_get_str(cfg, "solver.name");
    if (tf_solver_parse(name, &o.solver))
        tf_die_usage("use euler, midpoint, heun, edm_heun, rk4, rk4_38, ddim or dopri5", "unknown solver '%s'", name);
    o.steps = (int)int_or(cfg, "eval.solver.steps", tf_cfg_get_int(cfg, "solver.steps"));
    o.guidance = (float)float_or(cfg, "eval.solver.guidance", tf_cfg_get_float(cfg, "solver.guidance"));
    tf_eval_guidance_interval(cfg, o.guidance_interval);
    o.edm_grid = !strcmp(tf_cfg_get_str(cfg, "solver.grid"), "edm");
    o.atol = tf_cfg_get_float(cfg, "solver.atol");
    o.rtol = tf_cfg_get_float(cfg, "solver.rtol");
    o.sched = sched ? *sched : tf_scheduler_condot();
    o.seed = (uint64_t)tf_cfg_get_int(cfg, "trainer.seed");
    o.batch = (int)int_or(cfg, "eval.batch_size", 250);
    return o;
}

TfEvalOpts tf_eval_metric_opts(const TfCfg *cfg) {
    TfEvalOpts o = tf_eval_opts_default();
    o.kid_subsets = (int)int_or(cfg, "eval.kid_subsets", o.kid_subsets);
    o.kid_size = (int)int_or(cfg, "eval.kid_subset_size", o.kid_size);
    o.kid_ref = (int)int_or(cfg, "eval.kid_ref", o.kid_ref);
    o.seed = (uint64_t)tf_cfg_get_int(cfg, "trainer.seed");
    return o;
}

TfModelConfig tf_eval_classifier_config(const TfCfg *cfg, const TfDataset *ds) {
    if (!ds->pixels)
        tf_die_usage("the feature classifier takes images: use dataset=mnist, fashion_mnist or cifar10",
                     "dataset %s has no images", ds->name);
    TfModelConfig c = tf_classifier_default_config(ds->c, ds->h, ds->num_classes);
    c.width = (int)int_or(cfg, "eval.classifier.width", c.width);
    c.feat_dim = (int)int_or(cfg, "eval.classifier.feat_dim", c.feat_dim);
    c.groups = (int)int_or(cfg, "eval.classifier.groups", c.groups);
    c.dropout = (float)float_or(cfg, "eval.classifier.dropout", c.dropout);
    if (c.width % c.groups)
        tf_die_usage("choose eval.classifier.groups dividing eval.classifier.width",
                     "eval.classifier.groups = %d does not divide eval.classifier.width = %d", c.groups, c.width);
    return c;
}

TfClassifierTrainOpts tf_eval_classifier_train_opts(const TfCfg *cfg, const TfDataset *train) {
    TfClassifierTrainOpts o;
    memset(&o, 0, sizeof o);
    o.batch = (int)tf_cfg_get_int(cfg, "eval.classifier.batch_size");
    if (o.batch > train->n)
        tf_die_usage("lower eval.classifier.batch_size", "eval.classifier.batch_size = %d exceeds the %lld training examples",
                     o.batch, (long long)train->n);
    const int64_t per_epoch = train->n / o.batch;
    const int64_t epochs = int_or(cfg, "eval.classifier.epochs",
                                  train->kind == TF_DATA_MNIST ? 4 : train->kind == TF_DATA_FASHION_MNIST ? 15 : 60);
    o.steps = tf_cfg_has(cfg, "eval.classifier.steps") ? tf_cfg_get_int(cfg, "eval.classifier.steps") : epochs * per_epoch;
    o.lr = (float)tf_cfg_get_float(cfg, "eval.classifier.lr");
    o.min_lr = (float)tf_cfg_get_float(cfg, "eval.classifier.min_lr");
    if (o.min_lr > o.lr)
        tf_die_usage("lower eval.classifier.min_lr", "eval.classifier.min_lr = %g exceeds eval.classifier.lr = %g",
                     (double)o.min_lr, (double)o.lr);
    o.warmup = (int)tf_cfg_get_int(cfg, "eval.classifier.warmup_steps");
    if (o.warmup >= o.steps) o.warmup = (int)(o.steps / 10);
    o.weight_decay = (float)tf_cfg_get_float(cfg, "eval.classifier.weight_decay");
    o.shift = (int)int_or(cfg, "eval.classifier.shift", train->h <= 28 ? 2 : 4);
    o.hflip = tf_cfg_has(cfg, "eval.classifier.hflip") ? tf_cfg_get_bool(cfg, "eval.classifier.hflip")
                                                        : train->kind != TF_DATA_MNIST;
    o.seed = (uint64_t)tf_cfg_get_int(cfg, "trainer.seed");
    o.log_every = tf_cfg_get_int(cfg, "trainer.log_every");
    return o;
}

void tf_eval_cfg_threads(const TfCfg *cfg) {
    if (tf_cfg_has(cfg, "trainer.threads")) omp_set_num_threads((int)tf_cfg_get_int(cfg, "trainer.threads"));
}

TfDataset *tf_eval_cfg_dataset(const TfCfg *cfg, const char *split) {
    return tf_dataset_open(tf_cfg_get_str(cfg, "dataset.name"), tf_eval_cfg_str(cfg, "dataset.root"), split,
                           int_or(cfg, "dataset.n_samples", 0), (uint64_t)tf_cfg_get_int(cfg, "trainer.seed"));
}
