/* cmd_classifier.c - `tinyflow classifier [train|eval|stats] [overrides]`: train the feature
 * classifier of fid (data-parallel over the ranks of mpirun/srun, OpenMP threads in each),
 * report a checkpoint's test accuracy, or compute (sharded over the ranks, and cache, and export
 * as .npz) the reference statistics of a dataset split. Rank 0 prints, saves and writes.
 * Knows the config keys and eval/'s API; the computation lives in src/eval, MPI in mpi_glue.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/eval_glue.h"
#include "cli/job.h"
#include "cli/mpi_glue.h"
#include "core/check.h"
#include "eval/classifier.h"
#include "eval/eval_config.h"
#include "eval/metrics.h"
#include "eval/npy.h"
#include "track/jsonl.h"

static int run_train(const TfCfg *cfg, const char *run_dir, void *ctx) {
    (void)ctx;
    const int threads = tf_cli_eval_threads(cfg);
    const TfReducer red = tf_cli_reducer();
    TfDataset *train = tf_eval_cfg_dataset(cfg, "train");
    TfDataset *test = red.rank == 0 ? tf_eval_cfg_dataset(cfg, "test") : NULL; /* before training: fail early */
    TfModelConfig mc = tf_eval_classifier_config(cfg, train);
    TfClassifierTrainOpts o = tf_eval_classifier_train_opts(cfg, train);
    o.log = red.rank == 0 ? stdout : NULL;
    o.rank = red.rank;
    o.world = red.world;
    o.allreduce = red.world > 1 ? tf_cli_allreduce_f32 : NULL;
    if (red.rank == 0) {
        printf("classifier: %s, width %d, features %d, dropout %g; %lld steps of %d (%.1f epochs), lr %g -> %g "
               "(warm-up %d), weight decay %g, shift %d px, flips %s\n",
               train->name, mc.width, mc.feat_dim, (double)mc.dropout, (long long)o.steps, o.batch,
               (double)o.steps * o.batch / (double)train->n, (double)o.lr, (double)o.min_lr, o.warmup,
               (double)o.weight_decay, o.shift, o.hflip ? "on" : "off");
        if (red.world > 1)
            printf("classifier: %d ranks x %d rows of each global batch of %d, %d thread(s) per rank\n", red.world,
                   o.batch / red.world, o.batch, threads);
        fflush(stdout);
    }
    TfTape tp;
    TfClassifierTrainResult res;
    tf_classifier_train(&tp, &mc, &o, train, &res);
    if (red.rank != 0) { /* replicas are identical: rank 0 evaluates, saves and writes */
        free(res.step_loss);
        tf_tape_free(&tp);
        tf_dataset_free(train);
        return TF_EXIT_OK;
    }
    TfClassifier clf;
    tf_classifier_wrap(&clf, &mc, &tp, 256, train->name);
    const double acc = tf_classifier_accuracy(&clf, test, 0);
    printf("classifier: test accuracy %.4f on %lld %s test images (train loss %.4f, train acc %.4f on augmented "
           "batches; %.0f s)\n", acc, (long long)test->n, test->name, res.loss, res.train_acc, res.seconds);
    char dir[4200], path[4200], err[4096];
    const char *want = tf_eval_cfg_str(cfg, "eval.classifier.ckpt");
    snprintf(dir, sizeof dir, "%s", want ? want : "");
    if (!want) snprintf(dir, sizeof dir, "%s/classifier", run_dir ? run_dir : ".");
    int rc = tf_classifier_save(dir, &mc, &tp, train->name, acc, (uint64_t)res.steps, o.seed, res.seconds, path,
                                sizeof path, err, sizeof err);
    if (rc) fprintf(stderr, "[rank %d] %s\n  hint: check that the folder is writable\n", tf_rank(), err);
    else printf("classifier: saved %s (hash %s)\n  use it with: eval.classifier.ckpt=%s\n", path, clf.hash, path);
    if (run_dir) {
        char jl[4200];
        snprintf(jl, sizeof jl, "%s/metrics.jsonl", run_dir);
        /* each log step's global-batch loss at full precision (1 vs N ranks can be compared) */
        const int64_t every = o.log_every > 0 ? o.log_every : res.steps;
        for (int64_t s = 0; s < res.steps; s++) {
            if ((s + 1) % every && s + 1 != res.steps) continue;
            const char *k1[] = {"classifier/loss", "classifier/lr"};
            const double v1[] = {res.step_loss[s], tf_classifier_lr(&o, s)};
            tf_jsonl_append(jl, s + 1, (double)time(NULL), k1, v1, 2);
        }
        const char *keys[] = {"classifier/test_acc", "classifier/train_loss", "classifier/train_acc", "ranks"};
        const double vals[] = {acc, res.loss, res.train_acc, (double)red.world};
        tf_jsonl_append(jl, res.steps, (double)time(NULL), keys, vals, 4);
    }
    free(res.step_loss);
    tf_classifier_free(&clf);
    tf_tape_free(&tp);
    tf_dataset_free(train);
    tf_dataset_free(test);
    return rc ? TF_EXIT_FAILURE : TF_EXIT_OK;
}

static int run_eval(const TfCfg *cfg, const char *run_dir, void *ctx) {
    (void)run_dir, (void)ctx;
    tf_cli_eval_threads(cfg);
    if (tf_cli_rank() != 0) return TF_EXIT_OK; /* one pass over the test set: rank 0 alone */
    TfClassifier clf;
    tf_cli_load_classifier(cfg, 256, &clf, "classifier eval");
    TfDataset *test = tf_eval_cfg_dataset(cfg, "test");
    const double acc = tf_classifier_accuracy(&clf, test, 0);
    printf("classifier %s (hash %s, trained on %s): test accuracy %.4f on %lld %s images", clf.path, clf.hash,
           clf.dataset, acc, (long long)test->n, test->name);
    if (clf.recorded_accuracy >= 0) printf(" (recorded at training: %.4f)", clf.recorded_accuracy);
    printf("\n");
    tf_dataset_free(test);
    tf_classifier_free(&clf);
    return TF_EXIT_OK;
}

static int run_stats(const TfCfg *cfg, const char *run_dir, void *ctx) {
    (void)run_dir, (void)ctx;
    tf_cli_eval_threads(cfg);
    const TfReducer red = tf_cli_reducer();
    TfClassifier clf;
    tf_cli_load_classifier(cfg, 256, &clf, "classifier stats");
    const char *split = tf_cfg_get_str(cfg, "eval.ref_split");
    TfDataset *ds = tf_eval_cfg_dataset(cfg, split);
    char cache[4200], err[4096];
    tf_eval_cache_path(&clf, ds->name, split, ".", cache, sizeof cache);
    TfEvalOpts eo = tf_eval_metric_opts(cfg);
    TfEvalContext ectx;
    if (tf_eval_context_init(&ectx, &clf, ds, cache, &eo, &red, err, sizeof err))
        tf_die_usage("use a classifier trained on dataset.name (same image size and channels)", "%s", err);
    if (red.rank != 0) { /* the statistics were computed in shards; rank 0 reports and exports */
        tf_eval_context_free(&ectx);
        tf_dataset_free(ds);
        tf_classifier_free(&clf);
        return TF_EXIT_OK;
    }
    double tr = 0;
    for (int i = 0; i < ectx.d; i++) tr += ectx.ref_cov[(size_t)i * ectx.d + i];
    printf("reference statistics of %s/%s: n %.0f, d %d, trace of the covariance %.6g, %s %s\n", ds->name, split,
           ectx.ref.n, ectx.d, tr, ectx.from_cache ? "read from" : "cached in", cache);
    int rc = TF_EXIT_OK;
    const char *npz = tf_eval_cfg_str(cfg, "eval.npz");
    if (npz) {
        if (tf_npz_write_stats(npz, ectx.d, ectx.ref.mean, ectx.ref_cov, err, sizeof err)) {
            fprintf(stderr, "[rank %d] %s\n", tf_rank(), err);
            rc = TF_EXIT_FAILURE;
        } else printf("wrote %s (mu, sigma as float64, for pytorch-fid)\n", npz);
    }
    tf_eval_context_free(&ectx);
    tf_dataset_free(ds);
    tf_classifier_free(&clf);
    return rc;
}

static const char k_help_tail[] =
    "The classifier (model `classifier`: 3 conv stages, penultimate features) trains data-parallel:\n"
    "under mpirun/srun each rank takes its share of every global batch (eval.classifier.batch_size,\n"
    "a multiple of the ranks) and gradients are summed with MPI_Allreduce; rank 0 saves. Threads per\n"
    "rank: trainer.threads, OMP_NUM_THREADS or the rank's cores. `stats` shards over the ranks too.\n"
    "CIFAR-10 is read from dataset.root/cifar10/ (data_batch_1..5.bin,\n"
    "test_batch.bin: put a copy there with `tinyflow data fetch cifar10 --from ARCHIVE`).\n";

static const TfJobCommand k_train = {
    "classifier", "train the feature classifier used by fid",
    "usage: tinyflow classifier [train|eval|stats] [options] [overrides]\n\n"
    "train (default): trains the feature classifier on dataset.* (train split) with cross-entropy,\n"
    "  AdamW, warm-up + cosine (eval.classifier.*), reports the test accuracy and saves a checkpoint\n"
    "  in eval.classifier.ckpt (a folder; null: RUN_DIR/classifier).\n"
    "eval: test accuracy of the checkpoint eval.classifier.ckpt.\n"
    "stats: reference statistics of dataset.name / eval.ref_split through the classifier, cached\n"
    "  next to its checkpoint; eval.npz=PATH also writes them for pytorch-fid.\n\n"
    "Examples:\n"
    "  tinyflow classifier train dataset=mnist\n"
    "  tinyflow classifier train dataset=cifar10 eval.classifier.epochs=80 trainer.threads=16\n"
    "  mpirun -np 4 tinyflow classifier train dataset=cifar10 dataset.root=data\n"
    "  tinyflow classifier eval dataset=mnist eval.classifier.ckpt=outputs/DATE/TIME/classifier\n"
    "  tinyflow classifier stats dataset=mnist eval.classifier.ckpt=clf/ eval.npz=mnist_train.npz\n",
    run_train, 1};
static const TfJobCommand k_eval = {"classifier eval", "test accuracy of a classifier checkpoint", NULL, run_eval, 0};
static const TfJobCommand k_stats = {"classifier stats", "reference statistics of a dataset split", NULL, run_stats, 0};

int tf_cmd_classifier(int argc, char **argv) {
    static char help_buf[4096];
    snprintf(help_buf, sizeof help_buf, "%s\n%s", k_train.help, k_help_tail);
    TfJobCommand cmd = k_train;
    cmd.help = help_buf;
    if (argc >= 2 && (!strcmp(argv[1], "train") || !strcmp(argv[1], "eval") || !strcmp(argv[1], "stats"))) {
        if (!strcmp(argv[1], "eval")) cmd = k_eval, cmd.help = help_buf;
        if (!strcmp(argv[1], "stats")) cmd = k_stats, cmd.help = help_buf;
        argv[1] = argv[0];
        return tf_cli_run_mpi(&cmd, argc - 1, argv + 1, 0);
    }
    return tf_cli_run_mpi(&cmd, argc, argv, 0);
}
