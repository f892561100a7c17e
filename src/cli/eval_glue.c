/* eval_glue.c - classifier loading and FID reference statistics for the CLI (eval_glue.h).
 * Knows the config keys and eval/'s API; no MPI (the reducer comes from the caller). */
#include "cli/eval_glue.h"

#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "eval/eval_config.h"
#include "eval/npy.h"

void tf_cli_load_classifier(const TfCfg *cfg, int batch, TfClassifier *clf, const char *who) {
    const char *path = tf_eval_cfg_str(cfg, "eval.classifier.ckpt");
    char err[4096];
    if (!path)
        tf_die_usage("train one with `tinyflow classifier train dataset=NAME`, then pass eval.classifier.ckpt=PATH",
                     "%s needs the feature classifier: eval.classifier.ckpt is not set", who);
    if (tf_classifier_load(path, batch, clf, err, sizeof err))
        tf_die_usage("pass the checkpoint written by `tinyflow classifier train` (a file or its folder)", "%s: %s", who,
                     err);
}

void tf_cli_fid_reference(const TfCfg *cfg, TfClassifier *clf, const TfReducer *red, TfEvalContext *ctx,
                          const char *who) {
    char err[4096];
    const TfEvalOpts eo = tf_eval_metric_opts(cfg);
    const char *npz = tf_eval_cfg_str(cfg, "eval.ref_npz");
    if (npz) {
        TfNpy mu, sigma;
        if (tf_npz_read(npz, "mu", &mu, err, sizeof err) || tf_npz_read(npz, "sigma", &sigma, err, sizeof err))
            tf_die_usage("give an .npz with mu [d] and sigma [d, d] (float64), e.g. from eval.npz=PATH", "%s: %s", who,
                         err);
        const int d = clf->cfg.feat_dim;
        if (strcmp(mu.descr, "<f8") || strcmp(sigma.descr, "<f8") || mu.ndim != 1 || mu.shape[0] != d ||
            sigma.ndim != 2 || sigma.shape[0] != d || sigma.shape[1] != d)
            tf_die_usage("the statistics must come from the same classifier (eval.npz of `tinyflow fid` or "
                         "`tinyflow classifier stats`)", "%s: expected float64 mu [%d] and sigma [%d, %d]", npz, d, d, d);
        tf_eval_context_from_stats(ctx, clf, mu.data, sigma.data, 2, NULL, 0, &eo);
        tf_npy_free(&mu);
        tf_npy_free(&sigma);
        if (red->rank == 0) printf("%s: reference statistics from %s (no KID without reference rows)\n", who, npz);
        return;
    }
    const char *split = tf_cfg_get_str(cfg, "eval.ref_split");
    TfDataset *ds = tf_eval_cfg_dataset(cfg, split);
    if (clf->dataset[0] && strcmp(clf->dataset, ds->name) && red->rank == 0)
        printf("%s: note: the classifier was trained on %s, the reference is %s\n", who, clf->dataset, ds->name);
    char cache[4200];
    tf_eval_cache_path(clf, ds->name, split, ".", cache, sizeof cache);
    if (tf_eval_context_init(ctx, clf, ds, cache, &eo, red, err, sizeof err))
        tf_die_usage("use a classifier trained on dataset.name (same image size and channels)", "%s: %s", who, err);
    if (red->rank == 0)
        printf("%s: reference %s/%s: %.0f images, statistics %s %s\n", who, ds->name, split, ctx->ref.n,
               ctx->from_cache ? "read from" : "cached in", cache);
    tf_dataset_free(ds);
}
