/* metrics.h - sample-quality metrics on the classifier's features: FID against reference
 * statistics, KID against reference features, and for conditional samples the fraction the
 * classifier assigns to their conditioning label plus the entropy of the predicted-class
 * histogram. This is the evaluation hook of the trainer (docs/evaluation.md):
 *
 *   TfEvalContext ctx;                        once: classifier + reference statistics (cached)
 *   tf_eval_context_init(&ctx, &clf, ref_dataset, cache_path, &opts, NULL, err, cap);
 *   TfEvalResult r;                           every evaluation: a batch of generated images
 *   tf_eval_fid_samples(&ctx, samples, n, labels_or_NULL, &r, err, cap);
 *
 * Distributed: every rank keeps a TfEvalShard of ITS samples (tf_eval_shard_add), then
 * tf_eval_shard_finish reduces through a TfReducer -- an in-place allreduce of doubles
 * (SUM or MAX) that the caller implements with MPI_Allreduce; NULL means one process.
 * Statistics travel as plain sums around the global mean (stats.h), KID subsets are split
 * over the ranks (each draws from its own rows) and their values summed, counts are summed.
 * Samples are clamped to [-1, 1] and rounded to the 8-bit grid first, as if saved as PNGs,
 * so in-memory samples, .npy files and PNG folders of the same images score the same.
 * Must not know about MPI itself, flow models, checkpoints of flow models or the CLI.
 */
#ifndef TF_EVAL_METRICS_H
#define TF_EVAL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "eval/classifier.h"
#include "eval/frechet.h"
#include "eval/stats.h"

enum { TF_REDUCE_SUM = 0, TF_REDUCE_MAX = 1 };
typedef struct {
    void (*allreduce)(void *ctx, double *buf, size_t n, int op); /* in place over all ranks */
    void *ctx;
    int rank, world;
} TfReducer;

typedef struct {
    int kid_subsets;   /* KID subsets (default 100) */
    int kid_size;      /* rows per subset (default 1000; capped by both set sizes) */
    int kid_ref;       /* reference feature rows kept for KID (default 10000) */
    uint64_t seed;     /* KID subset draws */
} TfEvalOpts;
TfEvalOpts tf_eval_opts_default(void);

typedef struct {
    TfClassifier *clf;  /* borrowed, must outlive the context */
    TfEvalOpts opts;
    int d, classes;
    TfStats ref;        /* reference statistics */
    double *ref_cov;    /* [d*d] unbiased covariance of the reference */
    float *ref_feat;    /* [n_ref_feat][d] reference rows for KID (a keyed random subset) */
    int n_ref_feat;
    char tag[256];      /* "dataset=mnist split=train n=60000 classifier=<hash>" */
    int from_cache;     /* 1 when the statistics were read from the cache file */
} TfEvalContext;

typedef struct {
    double n;                  /* samples scored (all ranks) */
    double fid;
    TfFrechetInfo fid_info;
    double kid, kid_std;       /* NAN when fewer than 2 rows per set */
    int kid_subsets, kid_size;
    double class_acc;          /* fraction predicted == conditioning label; NAN without labels */
    double class_entropy;      /* entropy (nats) of the predicted-class histogram */
    double class_entropy_max;  /* log(classes): a perfectly balanced histogram */
} TfEvalResult;

/* The cache file for (classifier, dataset, split): the classifier checkpoint's directory (or
 * `fallback_dir` for a classifier without a file) + "/stats_<dataset>_<split>_<hash>.tfstats". */
void tf_eval_cache_path(const TfClassifier *clf, const char *dataset, const char *split, const char *fallback_dir,
                        char *out, size_t cap);

/* Reference statistics of every example of `ref` through clf: read from `cache` when it exists
 * and its tag matches, else computed (sharded over red's ranks, reduced in float64) and written
 * there by rank 0 (cache NULL: never cached). opts NULL: defaults. 0, or -1 with err. */
int tf_eval_context_init(TfEvalContext *ctx, TfClassifier *clf, const TfDataset *ref, const char *cache,
                         const TfEvalOpts *opts, const TfReducer *red, char *err, size_t cap);
/* Reference statistics given directly (e.g. from a pytorch-fid .npz): mean [d], cov [d*d]; KID
 * then needs ref_feat (may be NULL: KID is reported as NAN). n is the reference count. */
void tf_eval_context_from_stats(TfEvalContext *ctx, TfClassifier *clf, const double *mean, const double *cov,
                                double n, const float *ref_feat, int n_ref_feat, const TfEvalOpts *opts);
void tf_eval_context_free(TfEvalContext *ctx);

typedef struct {
    TfStats stats;
    float *feat;            /* first cap_feat feature rows (KID) */
    int n_feat, cap_feat;
    double correct, labelled;
    double *hist;           /* [classes] predicted classes */
} TfEvalShard;

void tf_eval_shard_init(TfEvalShard *sh, const TfEvalContext *ctx);
/* Score x[n][C][H][W] (labels[n] = conditioning labels, or NULL). */
void tf_eval_shard_add(const TfEvalContext *ctx, TfEvalShard *sh, const float *x, int n, const int *labels);
/* Reduce over the ranks (red NULL: this process only) and compute every metric. Collective. */
int tf_eval_shard_finish(const TfEvalContext *ctx, TfEvalShard *sh, const TfReducer *red, TfEvalResult *out,
                         char *err, size_t cap);
void tf_eval_shard_free(TfEvalShard *sh);

/* The trainer's hook: every metric of samples[n][C][H][W] (one process). labels may be NULL. */
int tf_eval_fid_samples(const TfEvalContext *ctx, const float *samples, int n, const int *labels,
                        TfEvalResult *out, char *err, size_t cap);

/* 8-bit rounding of samples in place: clamp to [-1, 1], round((x + 1) 127.5) / 127.5 - 1. */
void tf_eval_quantize(float *x, size_t n);

#endif
