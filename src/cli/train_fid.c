/* train_fid.c - the FID of `tinyflow train`: glues src/eval's metrics into the trainer's
 * evaluation hook (train/trainer.h), so the trainer never knows eval and eval never knows the
 * trainer. At start-up it loads the feature classifier and the reference statistics once (the
 * cached file of `tinyflow fid`, computed in shards over the ranks when missing); at each
 * evaluation every rank generates its share of eval.fid_samples from the trainer's evaluation
 * weights, and the statistics are reduced in float64 over MPI (mpi_glue.h).
 * Knows the config keys, eval/'s API and the hook's types; not the training loop. */
#include "cli/train_fid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/eval_glue.h"
#include "cli/mpi_glue.h"
#include "core/check.h"
#include "eval/eval_config.h"
#include "eval/sampler.h"

struct TfTrainFid {
    TfClassifier clf;
    TfEvalContext ctx;
    TfReducer red;
    int chunk; /* samples generated between two progress calls */
};

static int fid_hook(void *c, const TfEvalRequest *rq, TfEvalValues *out) {
    TfTrainFid *f = c;
    TfEvalResult r;
    char err[2048];
    if (rq->rank != f->red.rank || (rq->world > 1 ? rq->world : 1) != f->red.world)
        tf_die("FID hook: the trainer runs rank %d of %d but MPI says rank %d of %d", rq->rank, rq->world, f->red.rank,
               f->red.world);
    if (tf_eval_fid_model(&f->ctx, rq->model, rq->solver, rq->grid, rq->num_classes, rq->n_samples, rq->seed, f->chunk,
                          &f->red, rq->progress, rq->progress_ctx, &r, err, sizeof err)) {
        if (f->red.rank == 0) fprintf(stderr, "[rank 0] FID at step %lld: %s\n", (long long)rq->step, err);
        return -1;
    }
    out->n = 0;
    out->keys[out->n] = "fid", out->values[out->n++] = r.fid;
    out->keys[out->n] = "kid", out->values[out->n++] = r.kid; /* NAN (not logged) without KID */
    out->keys[out->n] = "kid_std", out->values[out->n++] = r.kid_std;
    out->keys[out->n] = "fid_n", out->values[out->n++] = r.n; /* samples scored over all ranks */
    if (rq->num_classes > 0) {
        out->keys[out->n] = "class_acc", out->values[out->n++] = r.class_acc;
        out->keys[out->n] = "class_entropy", out->values[out->n++] = r.class_entropy;
    }
    if (r.fid_info.suspicious && f->red.rank == 0)
        fprintf(stderr, "[rank 0] warning: FID at step %lld clipped an eigenvalue far below zero (%.2e of the "
                        "largest)\n", (long long)rq->step, r.fid_info.min_rel);
    return 0;
}

TfTrainFid *tf_train_fid_open(const TfCfg *cfg) {
    const int64_t n = tf_cfg_get_int(cfg, "eval.fid_samples"), every = tf_cfg_get_int(cfg, "eval.every");
    if (n <= 0 || every <= 0) return NULL;
    const TfReducer red = tf_cli_reducer();
    if (!tf_eval_cfg_str(cfg, "eval.classifier.ckpt")) {
        if (red.rank == 0)
            printf("note: eval.fid_samples = %lld but eval.classifier.ckpt is not set: training logs no FID (train a "
                   "classifier with `tinyflow classifier train dataset=%s` and pass eval.classifier.ckpt=PATH, or set "
                   "eval.fid_samples=0 to silence this)\n", (long long)n, tf_cfg_get_str(cfg, "dataset.name"));
        return NULL;
    }
    TfTrainFid *f = tf_calloc(1, sizeof *f);
    f->red = red;
    f->chunk = 64; /* one model call (the trainer's FID sampler takes 64 rows): a watchdog re-arm each */
    tf_cli_eval_threads(cfg); /* the trainer sets its own threads later */
    tf_cli_load_classifier(cfg, (int)tf_cfg_get_int(cfg, "eval.batch_size"), &f->clf, "train: FID");
    const TfModelConfig *c = &f->clf.cfg;
    const int64_t in_ch = tf_cfg_get_int(cfg, "model.in_ch"), size = tf_cfg_get_int(cfg, "model.image_size");
    if (!strcmp(tf_cfg_get_str(cfg, "model.name"), "mlp") || in_ch != c->in_ch || size != c->image_size)
        tf_die_usage("use a classifier trained on the model's dataset, or eval.fid_samples=0 (toy data has no FID)",
                     "train: FID: the model makes %s samples but the classifier %s takes %dx%dx%d images",
                     tf_cfg_get_str(cfg, "model.name"), f->clf.path, c->in_ch, c->image_size, c->image_size);
    tf_cli_fid_reference(cfg, &f->clf, &f->red, &f->ctx, "train: FID");
    if (red.rank == 0) {
        printf("train: FID of %lld samples at every evaluation (eval.every = %lld), classifier %s (hash %s), %d rank(s)\n",
               (long long)n, (long long)every, f->clf.path, f->clf.hash, red.world);
        fflush(stdout);
    }
    tf_train_set_fid_hook(fid_hook, f);
    return f;
}

void tf_train_fid_close(TfTrainFid *f) {
    if (!f) return;
    tf_train_set_fid_hook(NULL, NULL);
    tf_eval_context_free(&f->ctx);
    tf_classifier_free(&f->clf);
    free(f);
}
